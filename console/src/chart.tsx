// Collections over time as a bar chart (chart.js, tree-shaken to what a bar chart needs). Loaded
// lazily by the dashboard: it is not part of the initial bundle. A table beside it carries the
// same figures for screen readers.
import { useEffect, useMemo, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { CollectionsQuery } from '@arrears/sdk';
import { useUi } from './app.tsx';
import { formatDate, formatMoney } from './i18n.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

type Point = CollectionsQuery['collections']['points'][number];

export default function CollectionsChart({ points }: { points: readonly Point[] }) {
  const { lang, t } = useUi();
  const canvas = useRef<HTMLCanvasElement>(null);
  const currency = points[0]?.currency ?? 'CNY';
  const mine = useMemo(() => points.filter((p) => p.currency === currency), [points, currency]);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: mine.map((p) => formatDate(lang, p.start)),
        datasets: [{ label: currency, data: mine.map((p) => Number(p.amount.minorUnits) / 100), backgroundColor: '#1f5fa8' }],
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { tooltip: { callbacks: { label: (c) => formatMoney(lang, mine[c.dataIndex]!.amount) } } } },
    });
    return () => chart.destroy();
  }, [mine, lang, currency]);
  return (
    <>
      <div className="chart">
        <canvas ref={canvas} role="img" aria-label={t('collectionsOverTime')} data-testid="collections-chart" />
      </div>
      <details>
        <summary>{t('collectionsOverTime')}</summary>
        <table data-testid="collections">
          <tbody>
            {mine.map((p) => (
              <tr key={p.start}>
                <th scope="row">{formatDate(lang, p.start)}</th>
                <td className="num">{formatMoney(lang, p.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}
