// The audit log (auditors, admins): newest first, a page at a time.
import { useState } from 'react';
import type { AuditEventsQuery } from '@arrears/sdk';
import { ErrorBox, Loading, useSession, useUi } from '../app.tsx';
import { formatDateTime, formatNumber } from '../i18n.ts';
import { useEffect } from 'react';

type Row = AuditEventsQuery['auditEvents']['nodes'][number];

export function AuditPage() {
  const { t, lang } = useUi();
  const { client } = useSession();
  const [rows, setRows] = useState<Row[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = async (after: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const r = await client.auditEvents({ first: 50, ...(after ? { after } : {}) });
      setRows((list) => (after ? [...list, ...r.auditEvents.nodes] : r.auditEvents.nodes));
      setTotal(r.auditEvents.totalCount);
      setCursor(r.auditEvents.pageInfo.endCursor ?? null);
      setMore(r.auditEvents.pageInfo.hasNextPage);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client]);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">{t('auditTitle')}</h1>
      <ErrorBox error={error} onRetry={() => void load(cursor)} />
      {total === null && busy ? <Loading /> : null}
      {total !== null ? <p className="muted">{t('shown', { n: formatNumber(lang, rows.length), total: formatNumber(lang, total) })}</p> : null}
      <div className="table-wrap" tabIndex={0}>
        <table data-testid="audit">
          <thead>
            <tr>
              <th scope="col">{t('at')}</th>
              <th scope="col">{t('action')}</th>
              <th scope="col">{t('actor')}</th>
              <th scope="col">{t('entity')}</th>
              <th scope="col">{t('reason')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{formatDateTime(lang, r.at)}</td>
                <td>{r.action}</td>
                <td>{r.actorRole ?? '—'}</td>
                <td>{r.entityType ?? '—'}</td>
                <td>{r.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {more ? (
        <button type="button" disabled={busy} onClick={() => void load(cursor)}>
          {t('more')}
        </button>
      ) : null}
    </section>
  );
}
