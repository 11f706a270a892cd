// A case: summary, masked identity with an audited reveal, the live timeline (caseEvents), the
// pre-dial check, contact attempts, reminders, promises, plans, payments and visits.
import { useEffect, useState } from 'react';
import type { CaseDetailQuery, ContactPermissionFieldsFragment } from '@arrears/sdk';
import { ErrorBox, Loading, href, useQuery, useSession, useUi } from '../app.tsx';
import { CHANNELS, CONTACT_OUTCOMES, FREQUENCIES, PAYMENT_CHANNELS, PLAN_KINDS, dateInputValue, isoOfLocalInput, localInputValue, newKey } from '../enums.ts';
import { EnumOptions, Field, Section, SubmitButton, useMutation } from '../forms.tsx';
import { enumLabel, formatDate, formatDateTime, formatMoney, toMinorUnits } from '../i18n.ts';

type CaseNode = Extract<NonNullable<CaseDetailQuery['node']>, { __typename: 'Case' }>;
type TimelineItem = CaseNode['timeline']['nodes'][number];

export function CasePage({ id }: { id: string }) {
  const { t } = useUi();
  const q = useQuery(async (client, signal) => (await client.caseDetail({ id, first: 20 }, { signal })).node, [id]);
  if (q.error && !q.data) return <ErrorBox error={q.error} onRetry={q.reload} />;
  if (!q.data) return q.loading ? <Loading /> : <p>{t('notFound')}</p>;
  if (q.data.__typename !== 'Case') return <p>{t('notFound')}</p>;
  return <CaseView c={q.data} reload={q.reload} />;
}

function CaseView({ c, reload }: { c: CaseNode; reload: () => void }) {
  const { t, lang } = useUi();
  const { viewer } = useSession();
  const decider = viewer.role === 'BANK_SUPERVISOR' || viewer.role === 'BANK_ADMIN';
  return (
    <article aria-labelledby="case-title">
      <h1 id="case-title">{t('caseTitle', { number: c.number })}</h1>
      <div className="grid">
        <Section title={t('summary')} id="sec-summary">
          <dl className="facts" data-testid="case-summary">
            <dt>{t('colOverdue')}</dt>
            <dd>{formatMoney(lang, c.overdue)}</dd>
            <dt>{t('principal')}</dt>
            <dd>{formatMoney(lang, c.principal)}</dd>
            <dt>{t('interest')}</dt>
            <dd>{formatMoney(lang, c.interest)}</dd>
            <dt>{t('fees')}</dt>
            <dd>{formatMoney(lang, c.fees)}</dd>
            <dt>{t('colDpd')}</dt>
            <dd>{c.daysPastDue}</dd>
            <dt>{t('colBucket')}</dt>
            <dd>{c.bucket}</dd>
            <dt>{t('colStage')}</dt>
            <dd>{enumLabel(lang, c.stage)}</dd>
            <dt>{t('status')}</dt>
            <dd>{enumLabel(lang, c.status)}</dd>
            <dt>{t('dueDate')}</dt>
            <dd>{formatDate(lang, c.dueDate)}</dd>
            <dt>{t('card')}</dt>
            <dd>{c.account.maskedCardNumber}</dd>
            <dt>{t('colAgency')}</dt>
            <dd>{c.assignedAgency?.name ?? '—'}</dd>
          </dl>
        </Section>
        <Identity c={c} canReveal={decider} />
      </div>
      <div className="grid">
        <PreDial c={c} onLogged={reload} />
        <Timeline c={c} />
      </div>
      <div className="grid">
        <Reminder c={c} />
        <Promise c={c} onDone={reload} />
      </div>
      <div className="grid">
        <Plans c={c} decider={decider} onDone={reload} />
        <Payments c={c} onDone={reload} />
      </div>
      <Visits c={c} onDone={reload} />
    </article>
  );
}

function Identity({ c, canReveal }: { c: CaseNode; canReveal: boolean }) {
  const { t } = useUi();
  const { client } = useSession();
  const m = useMutation();
  const [reason, setReason] = useState('');
  const [nationalId, setNationalId] = useState<string | null>(null);
  return (
    <Section title={t('identity')} id="sec-identity">
      <dl className="facts">
        <dt>{t('fullName')}</dt>
        <dd>{c.debtor.fullName}</dd>
        <dt>{t('nationalId')}</dt>
        <dd data-testid="national-id">{nationalId ?? c.debtor.nationalIdMasked}</dd>
      </dl>
      {nationalId ? <p className="muted">{t('revealed')}</p> : null}
      {canReveal && !nationalId ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void m.run(
              async () => (await client.revealDebtorIdentity({ input: { debtorId: c.debtor.id, reason } })).revealDebtorIdentity,
              (p) => setNationalId(p.nationalId ?? null),
            );
          }}
        >
          <Field label={t('revealReason')}>{(fid) => <input id={fid} required minLength={5} value={reason} onChange={(e) => setReason(e.target.value)} />}</Field>
          <SubmitButton busy={m.busy}>{t('reveal')}</SubmitButton>
        </form>
      ) : null}
      <m.Status />
    </Section>
  );
}

function Timeline({ c }: { c: CaseNode }) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const [items, setItems] = useState<TimelineItem[]>(c.timeline.nodes);
  const [live, setLive] = useState(false);
  useEffect(() => setItems(c.timeline.nodes), [c.timeline.nodes]);
  useEffect(() => {
    const controller = new AbortController();
    (async () => {
      try {
        for await (const { caseEvents: e } of client.subscribe.caseEvents(
          { caseId: c.id },
          { signal: controller.signal, onConnected: () => setLive(true) },
        )) {
          setItems((list) => (list.some((x) => x.id === e.id) ? list : [e as TimelineItem, ...list]));
        }
      } catch {
        // aborted on leaving the page, or the stream ended: the list stays as it is
      } finally {
        setLive(false);
      }
    })();
    return () => controller.abort();
  }, [client, c.id]);
  return (
    <Section title={t('timeline')} id="sec-timeline">
      <p className="muted" role="status" data-testid="live">
        {live ? `● ${t('live')}` : t('offline')}
      </p>
      <ol className="timeline" data-testid="timeline" tabIndex={0} aria-label={t("timeline")}>
        {items.map((e) => (
          <li key={e.id} data-type={e.type}>
            <time dateTime={e.occurredAt}>{formatDateTime(lang, e.occurredAt)}</time> <strong>{e.type}</strong> {e.summary}
            {e.actorLabel ? <span className="muted"> · {e.actorLabel}</span> : null}
          </li>
        ))}
      </ol>
    </Section>
  );
}

function PreDial({ c, onLogged }: { c: CaseNode; onLogged: () => void }) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const points = c.debtor.contactPoints.filter((p) => !p.doNotContact);
  const [pointId, setPointId] = useState(points[0]?.id ?? '');
  const [channel, setChannel] = useState<(typeof CHANNELS)[number]>('CALL');
  const [permission, setPermission] = useState<ContactPermissionFieldsFragment | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<(typeof CONTACT_OUTCOMES)[number]>('ANSWERED');
  const [notes, setNotes] = useState('');
  const m = useMutation();
  const check = async () => {
    setCheckError(null);
    try {
      setPermission((await client.contactPermission({ caseId: c.id, channel, contactPointId: pointId })).contactPermission);
    } catch (e) {
      setCheckError(e);
    }
  };
  return (
    <Section title={t('preDial')} id="sec-predial">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void check();
        }}
      >
        <Field label={t('contactPoint')}>
          {(fid) => (
            <select id={fid} name="contactPoint" value={pointId} onChange={(e) => setPointId(e.target.value)}>
              {points.map((p) => (
                <option key={p.id} value={p.id}>
                  {`${p.kind} ${p.value} (${p.party}${p.primary ? ', primary' : ''})`}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('channel')}>
          {(fid) => (
            <select id={fid} name="channel" value={channel} onChange={(e) => setChannel(e.target.value as typeof channel)}>
              <EnumOptions values={CHANNELS} />
            </select>
          )}
        </Field>
        <button type="submit">{t('check')}</button>
      </form>
      <ErrorBox error={checkError} onRetry={() => void check()} />
      {permission ? (
        <div role="status" data-testid="permission" data-allowed={String(permission.allowed)} className={permission.allowed ? 'ok' : 'warn'}>
          <p>{permission.allowed ? t('allowed') : t('notAllowed', { message: permission.message ?? permission.rule ?? '' })}</p>
          {permission.nextAllowedAt ? <p>{t('nextAllowed', { at: formatDateTime(lang, permission.nextAllowedAt) })}</p> : null}
        </div>
      ) : null}
      <h3>{t('logAttempt')}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(
            async () => (await client.logContactAttempt({ input: { caseId: c.id, contactPointId: pointId, channel, outcome, notes } })).logContactAttempt,
            (p) => {
              onLogged();
              return p.policyViolation ? t('violation', { rule: p.policyViolation.rule ?? p.policyViolation.code ?? '' }) : t('logged', { status: enumLabel(lang, p.contactAttempt?.status) });
            },
          );
        }}
      >
        <Field label={t('outcome')}>
          {(fid) => (
            <select id={fid} name="outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as typeof outcome)}>
              <EnumOptions values={CONTACT_OUTCOMES} />
            </select>
          )}
        </Field>
        <Field label={t('notes')}>{(fid) => <textarea id={fid} name="notes" rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />}</Field>
        <SubmitButton busy={m.busy}>{t('logAttempt')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function Reminder({ c }: { c: CaseNode }) {
  const { t } = useUi();
  const { client } = useSession();
  const mobiles = c.debtor.contactPoints.filter((p) => !p.doNotContact && p.kind === 'MOBILE');
  const [pointId, setPointId] = useState(mobiles[0]?.id ?? '');
  const [at, setAt] = useState(() => localInputValue(new Date(Date.now() + 86_400_000)));
  const [templateKey, setTemplateKey] = useState('overdue-notice');
  const m = useMutation();
  return (
    <Section title={t('reminder')} id="sec-reminder">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(
            async () =>
              (await client.scheduleReminder({ input: { caseId: c.id, channel: 'SMS', contactPointId: pointId, scheduledAt: isoOfLocalInput(at), templateKey, idempotencyKey: newKey('reminder') } }))
                .scheduleReminder,
            () => t('reminderScheduled'),
          );
        }}
      >
        <Field label={t('contactPoint')}>
          {(fid) => (
            <select id={fid} value={pointId} onChange={(e) => setPointId(e.target.value)}>
              {mobiles.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.value}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('scheduledAt')}>{(fid) => <input id={fid} type="datetime-local" required value={at} onChange={(e) => setAt(e.target.value)} />}</Field>
        <Field label={t('templateKey')}>{(fid) => <input id={fid} required value={templateKey} onChange={(e) => setTemplateKey(e.target.value)} />}</Field>
        <SubmitButton busy={m.busy}>{t('reminder')}</SubmitButton>
      </form>
      <m.Status />
      <ul className="plain">
        {c.reminders.nodes.map((r) => (
          <li key={r.id}>
            {r.channel} · {r.status} · {r.scheduledAt}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Promise({ c, onDone }: { c: CaseNode; onDone: () => void }) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const currency = c.overdue.currency;
  const [amount, setAmount] = useState('');
  const [date, setDate] = useState(() => dateInputValue(new Date(Date.now() + 7 * 86_400_000)));
  const m = useMutation();
  return (
    <Section title={t('promise')} id="sec-promise">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(
            async () =>
              (await client.recordPromiseToPay({ input: { caseId: c.id, amount: toMinorUnits(amount, currency) ?? 0, currency, promisedFor: date, idempotencyKey: newKey('promise'), expectedVersion: c.version } }))
                .recordPromiseToPay,
            () => {
              onDone();
              return t('promiseRecorded');
            },
          );
        }}
      >
        <Field label={`${t('amount')} (${currency})`}>{(fid) => <input id={fid} inputMode="decimal" required value={amount} onChange={(e) => setAmount(e.target.value)} />}</Field>
        <Field label={t('promisedFor')}>{(fid) => <input id={fid} type="date" required value={date} onChange={(e) => setDate(e.target.value)} />}</Field>
        <SubmitButton busy={m.busy}>{t('promise')}</SubmitButton>
      </form>
      <m.Status />
      <h3>{t('promises')}</h3>
      <ul className="plain">
        {c.promises.nodes.map((p) => (
          <li key={p.id}>
            {formatMoney(lang, p.amount)} · {formatDate(lang, p.promisedFor)} · {enumLabel(lang, p.status)}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Plans({ c, decider, onDone }: { c: CaseNode; decider: boolean; onDone: () => void }) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const currency = c.overdue.currency;
  const [kind, setKind] = useState<(typeof PLAN_KINDS)[number]>('INSTALMENTS');
  const [total, setTotal] = useState('');
  const [count, setCount] = useState('6');
  const [frequency, setFrequency] = useState<(typeof FREQUENCIES)[number]>('MONTHLY');
  const [first, setFirst] = useState(() => dateInputValue(new Date(Date.now() + 14 * 86_400_000)));
  const m = useMutation();
  const d = useMutation();
  return (
    <Section title={t('plans')} id="sec-plans">
      <ul className="plain" data-testid="plans">
        {c.repaymentPlans.nodes.map((p) => (
          <li key={p.id}>
            {enumLabel(lang, p.kind)} · {formatMoney(lang, p.total)} · {p.instalmentCount ?? '—'} × {enumLabel(lang, p.frequency)} · {enumLabel(lang, p.status)}
            {decider && p.status === 'PROPOSED' ? (
              <>
                {' '}
                <button type="button" onClick={() => void d.run(async () => (await client.approveRepaymentPlan({ input: { planId: p.id } })).approveRepaymentPlan, () => (onDone(), t('planApproved')))}>
                  {t('approve')}
                </button>{' '}
                <button type="button" onClick={() => void d.run(async () => (await client.rejectRepaymentPlan({ input: { planId: p.id, reason: 'Rejected in the console' } })).rejectRepaymentPlan, () => (onDone(), t('done')))}>
                  {t('reject')}
                </button>
              </>
            ) : null}
          </li>
        ))}
      </ul>
      <d.Status />
      <h3>{t('proposePlan')}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const totalAmount = total ? toMinorUnits(total, currency) : null;
          void m.run(
            async () =>
              (
                await client.proposeRepaymentPlan({
                  input: { caseId: c.id, kind, currency, firstDueDate: first, expectedVersion: c.version, ...(totalAmount ? { totalAmount } : {}), ...(kind === 'INSTALMENTS' ? { instalmentCount: Number(count), frequency } : {}) },
                })
              ).proposeRepaymentPlan,
            () => (onDone(), t('planProposed')),
          );
        }}
      >
        <Field label={t('kind')}>
          {(fid) => (
            <select id={fid} value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
              <EnumOptions values={PLAN_KINDS} />
            </select>
          )}
        </Field>
        <Field label={`${t('total')} (${currency})`}>{(fid) => <input id={fid} inputMode="decimal" value={total} onChange={(e) => setTotal(e.target.value)} />}</Field>
        <Field label={t('instalments')}>{(fid) => <input id={fid} type="number" min={2} max={60} value={count} onChange={(e) => setCount(e.target.value)} />}</Field>
        <Field label={t('frequency')}>
          {(fid) => (
            <select id={fid} value={frequency} onChange={(e) => setFrequency(e.target.value as typeof frequency)}>
              <EnumOptions values={FREQUENCIES} />
            </select>
          )}
        </Field>
        <Field label={t('firstDueDate')}>{(fid) => <input id={fid} type="date" required value={first} onChange={(e) => setFirst(e.target.value)} />}</Field>
        <SubmitButton busy={m.busy}>{t('proposePlan')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function Payments({ c, onDone }: { c: CaseNode; onDone: () => void }) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const currency = c.overdue.currency;
  const [amount, setAmount] = useState('');
  const [channel, setChannel] = useState<(typeof PAYMENT_CHANNELS)[number]>('BANK_TRANSFER');
  const [at, setAt] = useState(() => localInputValue(new Date()));
  const [reference, setReference] = useState('');
  const m = useMutation();
  return (
    <Section title={t('payments')} id="sec-payments">
      <ul className="plain">
        {c.payments.nodes.map((p) => (
          <li key={p.id}>
            {formatMoney(lang, p.amount)} · {enumLabel(lang, p.channel)} · {formatDateTime(lang, p.receivedAt)}
          </li>
        ))}
      </ul>
      <h3>{t('recordPayment')}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(
            async () =>
              (
                await client.recordPayment({
                  input: { caseId: c.id, amount: toMinorUnits(amount, currency) ?? 0, currency, channel, receivedAt: isoOfLocalInput(at), idempotencyKey: newKey('payment'), ...(reference ? { externalReference: reference } : {}) },
                })
              ).recordPayment,
            () => (onDone(), t('paymentRecorded')),
          );
        }}
      >
        <Field label={`${t('amount')} (${currency})`}>{(fid) => <input id={fid} inputMode="decimal" required value={amount} onChange={(e) => setAmount(e.target.value)} />}</Field>
        <Field label={t('channel')}>
          {(fid) => (
            <select id={fid} value={channel} onChange={(e) => setChannel(e.target.value as typeof channel)}>
              <EnumOptions values={PAYMENT_CHANNELS} />
            </select>
          )}
        </Field>
        <Field label={t('receivedAt')}>{(fid) => <input id={fid} type="datetime-local" required value={at} onChange={(e) => setAt(e.target.value)} />}</Field>
        <Field label={t('reference')}>{(fid) => <input id={fid} value={reference} onChange={(e) => setReference(e.target.value)} />}</Field>
        <SubmitButton busy={m.busy}>{t('recordPayment')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function Visits({ c, onDone }: { c: CaseNode; onDone: () => void }) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const addresses = c.debtor.addresses.filter((a) => !a.movedAwayAt);
  const [addressId, setAddressId] = useState(addresses[0]?.id ?? '');
  const [purpose, setPurpose] = useState('');
  const m = useMutation();
  return (
    <Section title={t('visits')} id="sec-visits">
      <ul className="plain" data-testid="visits">
        {c.visits.nodes.map((v) => (
          <li key={v.id}>
            <a href={href.visit(c.id, v.id)}>
              {enumLabel(lang, v.status)} · {v.purpose} · {formatDateTime(lang, v.windowStart ?? v.createdAt)}
            </a>
          </li>
        ))}
      </ul>
      {c.stage === 'FIELD_VISIT' ? (
        <>
          <h3>{t('planVisit')}</h3>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void m.run(
                async () => (await client.planVisit({ input: { caseId: c.id, addressId, purpose, idempotencyKey: newKey('visit') } })).planVisit,
                (p) => {
                  if (p.visit) location.hash = href.visit(c.id, p.visit.id);
                  else onDone();
                },
              );
            }}
          >
            <Field label={t('address')}>
              {(fid) => (
                <select id={fid} value={addressId} onChange={(e) => setAddressId(e.target.value)}>
                  {addresses.map((a) => (
                    <option key={a.id} value={a.id}>
                      {`${a.kind}: ${a.line1}, ${a.city}`}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('purpose')}>{(fid) => <input id={fid} required value={purpose} onChange={(e) => setPurpose(e.target.value)} />}</Field>
            <SubmitButton busy={m.busy}>{t('planVisit')}</SubmitButton>
          </form>
          <m.Status />
        </>
      ) : null}
    </Section>
  );
}
