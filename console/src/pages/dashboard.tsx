// The manager's dashboard: portfolio by bucket and by agency, the roll-rate matrix as a heat map,
// collections over time (a chart, loaded only here: chart.js is not in the initial bundle) and
// the agency scorecards. Every figure comes from the analytics API, as the API gives it.
import { Suspense, lazy } from 'react';
import type { AgencyScorecardsQuery, PortfolioQuery, RollRatesQuery } from '@arrears/sdk';
import { ErrorBox, Loading, useQuery, useUi } from '../app.tsx';
import { formatMoney, formatNumber, formatPercent, type Lang } from '../i18n.ts';

const CollectionsChart = lazy(() => import('../chart.tsx'));

type Group = PortfolioQuery['portfolio']['groups'][number];

function monthsBefore(isoDate: string, months: number): string {
  const d = new Date(`${isoDate.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.toISOString().slice(0, 10);
}

export function DashboardPage() {
  const { t } = useUi();
  const q = useQuery(
    async (client, signal) => {
      const [byBucket, byAgency, collections, scorecards] = await Promise.all([
        client.portfolio({ groupBy: ['BUCKET'] }, { signal }),
        client.portfolio({ groupBy: ['AGENCY'] }, { signal }),
        client.collections({ interval: 'DAY', groupBy: [] }, { signal }),
        client.agencyScorecards({}, { signal }),
      ]);
      const asOf = byBucket.portfolio.asOf.slice(0, 10);
      const roll = await client.rollRates({ from: monthsBefore(asOf, 6), to: asOf }, { signal });
      return { byBucket: byBucket.portfolio, byAgency: byAgency.portfolio, collections: collections.collections, scorecards: scorecards.agencyScorecards, roll: roll.rollRates };
    },
    [],
  );
  if (q.error && !q.data) return <ErrorBox error={q.error} onRetry={q.reload} />;
  if (!q.data) return <Loading />;
  const d = q.data;
  return (
    <article aria-labelledby="dash-title">
      <h1 id="dash-title">{t('dashboardTitle')}</h1>
      <div className="grid">
        <PortfolioTable title={t('byBucket')} id="by-bucket" groups={d.byBucket.groups} label={(g) => g.bucket ?? '—'} />
        <PortfolioTable title={t('byAgency')} id="by-agency" groups={d.byAgency.groups} label={(g) => g.agency?.name ?? '—'} />
      </div>
      <HeatMap roll={d.roll} />
      <section className="card" aria-labelledby="collections-title">
        <h2 id="collections-title">{t('collectionsOverTime')}</h2>
        <Suspense fallback={<p className="muted">{t('chartLoading')}</p>}>
          <CollectionsChart points={d.collections.points} />
        </Suspense>
      </section>
      <Scorecards cards={d.scorecards.scorecards} />
    </article>
  );
}

function PortfolioTable({ title, id, groups, label }: { title: string; id: string; groups: readonly Group[]; label: (g: Group) => string }) {
  const { t, lang } = useUi();
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <div className="table-wrap" tabIndex={0}>
        <table data-testid={id}>
          <thead>
            <tr>
              <th scope="col">{title}</th>
              <th scope="col" className="num">
                {t('cases')}
              </th>
              <th scope="col" className="num">
                {t('overdue')}
              </th>
              <th scope="col" className="num">
                {t('collected')}
              </th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={`${label(g)}-${g.currency}`} data-key={label(g)} data-currency={g.currency} data-count={g.caseCount} data-overdue={String(g.overdue.minorUnits)}>
                <th scope="row">{label(g)}</th>
                <td className="num">{formatNumber(lang, g.caseCount)}</td>
                <td className="num">{formatMoney(lang, g.overdue)}</td>
                <td className="num">{formatMoney(lang, g.collected)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Month over month, summed over the period: of the cases in a bucket, the share that went to each state. */
function HeatMap({ roll }: { roll: RollRatesQuery['rollRates'] }) {
  const { t, lang } = useUi();
  const from = [...new Set(roll.cells.map((c) => c.fromBucket))].sort();
  const to = [...new Set(roll.cells.map((c) => c.toState))].sort();
  const count = new Map<string, number>();
  const totals = new Map<string, number>();
  for (const c of roll.cells) {
    count.set(`${c.fromBucket}>${c.toState}`, (count.get(`${c.fromBucket}>${c.toState}`) ?? 0) + c.caseCount);
    totals.set(c.fromBucket, (totals.get(c.fromBucket) ?? 0) + c.caseCount);
  }
  return (
    <section className="card" aria-labelledby="roll-title">
      <h2 id="roll-title">{t('rollRates')}</h2>
      <p className="muted">
        {roll.fromMonth} – {roll.toMonth}
      </p>
      {from.length === 0 ? (
        <p>{t('none')}</p>
      ) : (
        <div className="table-wrap" tabIndex={0}>
          <table className="heat" data-testid="roll-rates">
            <thead>
              <tr>
                <th scope="col">{t('fromBucket')}</th>
                {to.map((s) => (
                  <th key={s} scope="col">
                    {s}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {from.map((b) => (
                <tr key={b}>
                  <th scope="row">{b}</th>
                  {to.map((s) => {
                    const n = count.get(`${b}>${s}`) ?? 0;
                    const rate = n / (totals.get(b) || 1);
                    return (
                      <td key={s} className="num" data-count={n} style={heat(rate)} title={`${formatNumber(lang, n)} / ${formatNumber(lang, totals.get(b) ?? 0)}`}>
                        {n ? formatPercent(lang, rate) : '·'}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Darker for a larger share; the text stays readable (contrast for the accessibility check). */
function heat(rate: number): React.CSSProperties {
  const light = Math.round(97 - rate * 55);
  return { background: `hsl(210 70% ${light}%)`, color: light < 60 ? '#fff' : '#111' };
}

function Scorecards({ cards }: { cards: AgencyScorecardsQuery['agencyScorecards']['scorecards'] }) {
  const { t, lang } = useUi();
  const money = (l: Lang, list: readonly { minorUnits: unknown; currency: string }[]) => list.map((m) => formatMoney(l, m)).join(' + ') || '—';
  const placed = (c: (typeof cards)[number]) => c.placed.reduce((n, p) => n + p.caseCount, 0);
  return (
    <section className="card" aria-labelledby="scorecards-title">
      <h2 id="scorecards-title">{t('scorecards')}</h2>
      <div className="table-wrap" tabIndex={0}>
        <table data-testid="scorecards">
          <thead>
            <tr>
              <th scope="col">{t('colAgency')}</th>
              <th scope="col" className="num">
                {t('placed')}
              </th>
              <th scope="col" className="num">
                {t('collected')}
              </th>
              <th scope="col" className="num">
                {t('recoveryRate')}
              </th>
              <th scope="col" className="num">
                {t('promisesKept')}
              </th>
              <th scope="col" className="num">
                {t('violations')}
              </th>
              <th scope="col" className="num">
                {t('complaints')}
              </th>
            </tr>
          </thead>
          <tbody>
            {cards.map((c) => (
              <tr key={c.agency.id} data-key={c.agency.name} data-placed={placed(c)}>
                <th scope="row">{c.agency.name}</th>
                <td className="num">{formatNumber(lang, placed(c))}</td>
                <td className="num">{money(lang, c.collected.map((x) => x.amount))}</td>
                <td className="num">{c.recoveryRates.map((r) => formatPercent(lang, r.rate)).join(' / ') || '—'}</td>
                <td className="num">{formatPercent(lang, c.promiseKeptRate)}</td>
                <td className="num">{formatNumber(lang, c.violations)}</td>
                <td className="num">{formatNumber(lang, c.complaints ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

