// The work queue (collectors: workQueue, broken promises first) and the case list (everyone
// else: cases), with filters by bucket, stage and text.
import { useState } from 'react';
import type { CaseSummaryFragment } from '@arrears/sdk';
import { EnumOptions } from '../forms.tsx';
import { ErrorBox, Loading, href, useQuery, useSession, useUi } from '../app.tsx';
import { BUCKETS, STAGES } from '../enums.ts';
import { enumLabel, formatMoney, formatNumber } from '../i18n.ts';

export function QueuePage({ mode }: { mode: 'queue' | 'cases' }) {
  const { t, lang } = useUi();
  const { viewer } = useSession();
  const [bucket, setBucket] = useState('');
  const [stage, setStage] = useState('');
  const [text, setText] = useState('');
  const collector = viewer.role === 'AGENCY_COLLECTOR' || viewer.role === 'BANK_COLLECTOR';
  const useQueue = mode === 'queue' && collector;
  const q = useQuery(
    async (client, signal) => {
      if (useQueue) {
        const r = await client.workQueue({ first: 100 }, { signal });
        return { nodes: r.viewer.workQueue.nodes, total: r.viewer.workQueue.totalCount };
      }
      const r = await client.cases(
        {
          first: 100,
          filter: { ...(bucket ? { bucket: [bucket as (typeof BUCKETS)[number]] } : {}), ...(stage ? { stage: [stage as (typeof STAGES)[number]] } : {}) },
          orderBy: { field: 'DAYS_PAST_DUE', direction: 'DESC' },
        },
        { signal },
      );
      return { nodes: r.cases.nodes, total: r.cases.totalCount };
    },
    [useQueue, useQueue ? '' : bucket, useQueue ? '' : stage],
  );
  const needle = text.trim().toLowerCase();
  const rows: CaseSummaryFragment[] = (q.data?.nodes ?? []).filter(
    (c) =>
      (!bucket || c.bucket === bucket) &&
      (!stage || c.stage === stage) &&
      (!needle || c.number.toLowerCase().includes(needle) || c.debtor.fullName.toLowerCase().includes(needle)),
  );
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">{useQueue ? t('queueTitle') : t('casesTitle')}</h1>
      {useQueue ? <p className="muted">{t('queueHint')}</p> : null}
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('filterBucket')}
          <select value={bucket} onChange={(e) => setBucket(e.target.value)} name="bucket">
            <option value="">{t('all')}</option>
            <EnumOptions values={BUCKETS} />
          </select>
        </label>
        <label>
          {t('filterStage')}
          <select value={stage} onChange={(e) => setStage(e.target.value)} name="stage">
            <option value="">{t('all')}</option>
            <EnumOptions values={STAGES} />
          </select>
        </label>
        <label>
          {t('filterText')}
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} name="q" />
        </label>
      </form>
      <ErrorBox error={q.error} onRetry={q.reload} />
      {q.loading && !q.data ? <Loading /> : null}
      {q.data ? (
        <>
          <p className="muted" data-testid="queue-count">
            {t('shown', { n: formatNumber(lang, rows.length), total: formatNumber(lang, q.data.total) })}
          </p>
          <div className="table-wrap" tabIndex={0}>
            <table className="cases" data-testid="queue">
              <thead>
                <tr>
                  <th scope="col">{t('colCase')}</th>
                  <th scope="col">{t('colDebtor')}</th>
                  <th scope="col" className="num">
                    {t('colOverdue')}
                  </th>
                  <th scope="col" className="num">
                    {t('colDpd')}
                  </th>
                  <th scope="col">{t('colBucket')}</th>
                  <th scope="col">{t('colStage')}</th>
                  <th scope="col">{t('colAgency')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id} data-id={c.id}>
                    <td>
                      <a href={href.case(c.id)}>{c.number}</a>
                    </td>
                    <td>{c.debtor.fullName}</td>
                    <td className="num">{formatMoney(lang, c.overdue)}</td>
                    <td className="num">{formatNumber(lang, c.daysPastDue)}</td>
                    <td>{c.bucket}</td>
                    <td>{enumLabel(lang, c.stage)}</td>
                    <td>{c.assignedAgency?.name ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows.length === 0 ? <p>{t('none')}</p> : null}
        </>
      ) : null}
    </section>
  );
}
