// The visit wizard: the five steps (plan/dossier → consent gate → schedule with two collectors →
// on site: check-in with credentials and the outcome → evidence upload and report), then the
// supervisor's decision. Each step is enabled by the visit's status; the API enforces the rules.
import { useState } from 'react';
import type { VisitWizardQuery } from '@arrears/sdk';
import { ErrorBox, Loading, href, useQuery, useSession, useUi } from '../app.tsx';
import { CLOSE_REASONS, DELINQUENCY_REASONS, EVIDENCE_KINDS, PLAN_KINDS, VISIT_DECISIONS, VISIT_OUTCOMES, isoOfLocalInput, localInputValue, newKey } from '../enums.ts';
import { EnumOptions, Field, Section, SubmitButton, useMutation } from '../forms.tsx';
import { enumLabel, formatDateTime, type MessageKey } from '../i18n.ts';

type Visit = Extract<NonNullable<VisitWizardQuery['node']>, { __typename: 'Visit' }>;

const STEPS: { key: MessageKey; statuses: string[] }[] = [
  { key: 'stepPlan', statuses: [] },
  { key: 'stepConsent', statuses: ['PREPARING'] },
  { key: 'stepSchedule', statuses: ['PREPARING'] },
  { key: 'stepOnSite', statuses: ['SCHEDULED', 'IN_PROGRESS'] },
  { key: 'stepReport', statuses: ['COMPLETED'] },
  { key: 'stepDecision', statuses: ['REPORTED', 'DECIDED'] },
];

export function VisitPage({ caseId, id }: { caseId: string; id: string }) {
  const { t } = useUi();
  const q = useQuery(
    async (client, signal) => {
      const [v, attempts, agencies] = await Promise.all([
        client.visitWizard({ id }, { signal }),
        client.caseContactAttempts({ id: caseId, first: 20 }, { signal }),
        client.agencyUsers({}, { signal }),
      ]);
      return { visit: v.node, caseNode: attempts.node, agencies: agencies.agencies.nodes };
    },
    [id, caseId],
  );
  if (q.error && !q.data) return <ErrorBox error={q.error} onRetry={q.reload} />;
  if (!q.data) return <Loading />;
  const { visit, caseNode } = q.data;
  if (visit?.__typename !== 'Visit' || caseNode?.__typename !== 'Case') return <p>{t('notFound')}</p>;
  const collectors = q.data.agencies.flatMap((a) => a.users.nodes).filter((u) => u.active && (u.role === 'AGENCY_COLLECTOR' || u.role === 'AGENCY_MANAGER'));
  return <Wizard v={visit} caseId={caseId} caseVersion={caseNode.version} attempts={caseNode.contactAttempts.nodes} collectors={collectors} reload={q.reload} />;
}

interface WizardProps {
  v: Visit;
  caseId: string;
  caseVersion: number;
  attempts: { id: string; outcome?: string | null; status: string; attemptedAt: string; channel: string }[];
  collectors: { id: string; fullName: string; credentialNumber?: string | null }[];
  reload: () => void;
}

function Wizard(p: WizardProps) {
  const { t, lang } = useUi();
  const { v } = p;
  const current = STEPS.findIndex((s) => s.statuses.includes(v.status));
  return (
    <article aria-labelledby="visit-title" data-status={v.status} data-testid="visit">
      <p>
        <a href={href.case(p.caseId)}>← {t('navCases')}</a>
      </p>
      <h1 id="visit-title">
        {t('visitTitle')}: {v.purpose}
      </h1>
      <p role="status" data-testid="visit-status">
        {t('visitStatus', { status: enumLabel(lang, v.status) })}
      </p>
      <ol className="steps" aria-label={t('visitTitle')}>
        {STEPS.map((s, i) => (
          <li key={s.key} aria-current={i === current ? 'step' : undefined} className={i < current || v.status === 'DECIDED' ? 'past' : i === current ? 'now' : ''}>
            {t(s.key)}
          </li>
        ))}
      </ol>
      <Section title={t('dossier')} id="sec-dossier">
        <p>
          {v.address.kind}: {v.address.line1}, {v.address.city}
        </p>
        <details>
          <summary>{t('dossier')}</summary>
          <pre className="dossier">{JSON.stringify(v.dossier, null, 2)}</pre>
        </details>
        {v.windowStart ? (
          <p>
            {formatDateTime(lang, v.windowStart)} – {formatDateTime(lang, v.windowEnd)}
          </p>
        ) : null}
        {v.participants.length ? <p>{v.participants.map((x) => x.user.fullName).join(', ')}</p> : null}
      </Section>
      {v.status === 'PREPARING' && !v.consent ? <Consent {...p} /> : null}
      {v.status === 'PREPARING' && v.consent ? <Schedule {...p} /> : null}
      {v.status === 'SCHEDULED' ? <CheckIn {...p} /> : null}
      {v.status === 'IN_PROGRESS' ? <Outcome {...p} /> : null}
      {v.status === 'COMPLETED' || v.status === 'IN_PROGRESS' ? <Evidence {...p} /> : null}
      {v.status === 'COMPLETED' ? <Report {...p} /> : null}
      {v.status === 'REPORTED' ? <Decision {...p} /> : null}
      {v.status === 'DECIDED' ? (
        <Section title={t('decision')} id="sec-decided">
          <p data-testid="decision">
            {enumLabel(lang, v.decision)} {v.decisionNote ? `· ${v.decisionNote}` : ''}
          </p>
        </Section>
      ) : null}
    </article>
  );
}

function Consent({ v, attempts, reload }: WizardProps) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const given = attempts.filter((a) => a.outcome === 'VISIT_CONSENT_GIVEN' && a.status === 'COMPLETED');
  const [attemptId, setAttemptId] = useState(given[0]?.id ?? '');
  const [from, setFrom] = useState(() => localInputValue(new Date()));
  const [to, setTo] = useState(() => localInputValue(new Date(Date.now() + 7 * 86_400_000)));
  const m = useMutation();
  return (
    <Section title={t('stepConsent')} id="sec-consent">
      <p>{t('consentGate')}</p>
      {given.length === 0 ? (
        <p className="warn" data-testid="consent-missing">
          {t('noConsentCall')}
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void m.run(
              async () => (await client.recordVisitConsent({ input: { visitId: v.id, contactAttemptId: attemptId, windowStart: isoOfLocalInput(from), windowEnd: isoOfLocalInput(to), expectedVersion: v.version } })).recordVisitConsent,
              reload,
            );
          }}
        >
          <Field label={t('consentCall')}>
            {(fid) => (
              <select id={fid} value={attemptId} onChange={(e) => setAttemptId(e.target.value)}>
                {given.map((a) => (
                  <option key={a.id} value={a.id}>
                    {`${a.channel} · ${formatDateTime(lang, a.attemptedAt)}`}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('windowStart')}>{(fid) => <input id={fid} name="consentFrom" type="datetime-local" required value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
          <Field label={t('windowEnd')}>{(fid) => <input id={fid} name="consentTo" type="datetime-local" required value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
          <SubmitButton busy={m.busy}>{t('recordConsent')}</SubmitButton>
        </form>
      )}
      <m.Status />
    </Section>
  );
}

function Schedule({ v, collectors, reload }: WizardProps) {
  const { t } = useUi();
  const { client } = useSession();
  const [chosen, setChosen] = useState<string[]>([]);
  const [from, setFrom] = useState(() => localInputValue(new Date(Date.now() + 3_600_000)));
  const [to, setTo] = useState(() => localInputValue(new Date(Date.now() + 3 * 3_600_000)));
  const m = useMutation();
  return (
    <Section title={t('stepSchedule')} id="sec-schedule">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(
            async () => (await client.scheduleVisit({ input: { visitId: v.id, collectorIds: chosen, windowStart: isoOfLocalInput(from), windowEnd: isoOfLocalInput(to), expectedVersion: v.version } })).scheduleVisit,
            reload,
          );
        }}
      >
        <fieldset>
          <legend>{t('collectors')}</legend>
          {collectors.map((u) => (
            <label key={u.id} className="check">
              <input type="checkbox" name="collector" value={u.id} checked={chosen.includes(u.id)} onChange={(e) => setChosen((list) => (e.target.checked ? [...list, u.id] : list.filter((x) => x !== u.id)))} />
              {u.fullName}
            </label>
          ))}
        </fieldset>
        <Field label={t('windowStart')}>{(fid) => <input id={fid} name="visitFrom" type="datetime-local" required value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
        <Field label={t('windowEnd')}>{(fid) => <input id={fid} name="visitTo" type="datetime-local" required value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
        <SubmitButton busy={m.busy}>{t('schedule')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function CheckIn({ v, reload }: WizardProps) {
  const { t } = useUi();
  const { client } = useSession();
  const [numbers, setNumbers] = useState<Record<string, string>>(() => Object.fromEntries(v.participants.map((x) => [x.user.id, x.credentialNumber ?? ''])));
  const m = useMutation();
  return (
    <Section title={t('checkIn')} id="sec-checkin">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(
            async () =>
              (
                await client.checkInVisit({
                  input: { visitId: v.id, expectedVersion: v.version, credentialsShown: v.participants.map((x) => ({ userId: x.user.id, credentialNumber: numbers[x.user.id] ?? '' })) },
                })
              ).checkInVisit,
            reload,
          );
        }}
      >
        {v.participants.map((x) => (
          <Field key={x.user.id} label={t('credentialShown', { name: x.user.fullName })}>
            {(fid) => <input id={fid} required value={numbers[x.user.id] ?? ''} onChange={(e) => setNumbers((n) => ({ ...n, [x.user.id]: e.target.value }))} />}
          </Field>
        ))}
        <SubmitButton busy={m.busy}>{t('checkIn')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function Outcome({ v, reload }: WizardProps) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const [outcome, setOutcome] = useState<(typeof VISIT_OUTCOMES)[number]>('REFUSED');
  const [reason, setReason] = useState<(typeof DELINQUENCY_REASONS)[number]>('JOB_LOSS');
  const [explained, setExplained] = useState(false);
  const [plans, setPlans] = useState<(typeof PLAN_KINDS)[number][]>([]);
  const m = useMutation();
  const onSite = outcome !== 'NOT_AT_HOME' && outcome !== 'CONSENT_WITHDRAWN';
  return (
    <Section title={t('stepOnSite')} id="sec-outcome">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(
            async () =>
              (
                await client.completeVisit({
                  input: { visitId: v.id, outcome, expectedVersion: v.version, ...(onSite ? { delinquencyReason: reason, consequencesExplained: explained, plansOffered: plans } : {}) },
                })
              ).completeVisit,
            reload,
          );
        }}
      >
        <Field label={t('outcome')}>
          {(fid) => (
            <select id={fid} name="visitOutcome" value={outcome} onChange={(e) => setOutcome(e.target.value as typeof outcome)}>
              <EnumOptions values={VISIT_OUTCOMES} />
            </select>
          )}
        </Field>
        {onSite ? (
          <>
            <Field label={t('delinquencyReason')}>
              {(fid) => (
                <select id={fid} name="delinquencyReason" value={reason} onChange={(e) => setReason(e.target.value as typeof reason)}>
                  <EnumOptions values={DELINQUENCY_REASONS} />
                </select>
              )}
            </Field>
            <label className="check">
              <input type="checkbox" name="consequencesExplained" checked={explained} onChange={(e) => setExplained(e.target.checked)} />
              {t('consequencesExplained')}
            </label>
            <fieldset>
              <legend>{t('plansOffered')}</legend>
              {PLAN_KINDS.map((k) => (
                <label key={k} className="check">
                  <input type="checkbox" checked={plans.includes(k)} onChange={(e) => setPlans((l) => (e.target.checked ? [...l, k] : l.filter((x) => x !== k)))} />
                  {enumLabel(lang, k)}
                </label>
              ))}
            </fieldset>
          </>
        ) : null}
        <SubmitButton busy={m.busy}>{t('complete')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function Evidence({ v, caseId, reload }: WizardProps) {
  const { t, lang } = useUi();
  const { client } = useSession();
  const [kind, setKind] = useState<(typeof EVIDENCE_KINDS)[number]>('PHOTO');
  const [file, setFile] = useState<File | null>(null);
  const m = useMutation();
  return (
    <Section title={t('evidence')} id="sec-evidence">
      <ul className="plain" data-testid="evidence">
        {v.evidence.nodes.map((e) => (
          <li key={e.id}>
            {enumLabel(lang, e.kind)} · {e.fileName} · {e.sha256.slice(0, 12)}
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!file) return;
          void m.run(
            async () => (await client.uploadEvidence({ input: { caseId, visitId: v.id, kind, file, idempotencyKey: newKey('evidence') } })).uploadEvidence,
            (p) => {
              reload();
              return t('uploaded', { name: p.evidence?.fileName ?? '', sha: p.evidence?.sha256.slice(0, 12) ?? '' });
            },
          );
        }}
      >
        <Field label={t('evidenceKind')}>
          {(fid) => (
            <select id={fid} name="evidenceKind" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
              <EnumOptions values={EVIDENCE_KINDS} />
            </select>
          )}
        </Field>
        {/* On a phone, capture opens the camera (the rear one); on a desktop it is a file picker. */}
        <Field label={t('evidenceFile')}>
          {(fid) => <input id={fid} name="file" type="file" accept="image/*,application/pdf,audio/*,video/mp4" capture="environment" required onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
        </Field>
        <SubmitButton busy={m.busy}>{t('upload')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function Report({ v, reload }: WizardProps) {
  const { t } = useUi();
  const { client } = useSession();
  const [text, setText] = useState('');
  const m = useMutation();
  return (
    <Section title={t('report')} id="sec-report">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void m.run(async () => (await client.reportVisit({ input: { visitId: v.id, report: text, expectedVersion: v.version } })).reportVisit, reload);
        }}
      >
        <Field label={t('report')}>{(fid) => <textarea id={fid} name="report" rows={4} required value={text} onChange={(e) => setText(e.target.value)} />}</Field>
        <SubmitButton busy={m.busy}>{t('fileReport')}</SubmitButton>
      </form>
      <m.Status />
    </Section>
  );
}

function Decision({ v, reload }: WizardProps) {
  const { t } = useUi();
  const { client, viewer } = useSession();
  const [decision, setDecision] = useState<(typeof VISIT_DECISIONS)[number]>('CONTINUE');
  const [note, setNote] = useState('');
  const [grace, setGrace] = useState('');
  const [closeReason, setCloseReason] = useState<(typeof CLOSE_REASONS)[number]>('SETTLED');
  const m = useMutation();
  return (
    <Section title={t('stepDecision')} id="sec-decision">
      <p className="report">{v.report}</p>
      {viewer.role === 'BANK_SUPERVISOR' || viewer.role === 'BANK_ADMIN' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void m.run(
              async () =>
                (
                  await client.decideVisit({
                    input: {
                      visitId: v.id,
                      decision,
                      expectedVersion: v.version,
                      ...(note ? { note } : {}),
                      ...(decision === 'GRACE_PERIOD' ? { graceUntil: grace } : {}),
                      ...(decision === 'CLOSE' ? { closeReason } : {}),
                    },
                  })
                ).decideVisit,
              reload,
            );
          }}
        >
          <Field label={t('decision')}>
            {(fid) => (
              <select id={fid} name="decision" value={decision} onChange={(e) => setDecision(e.target.value as typeof decision)}>
                <EnumOptions values={VISIT_DECISIONS} />
              </select>
            )}
          </Field>
          {decision === 'GRACE_PERIOD' ? <Field label={t('graceUntil')}>{(fid) => <input id={fid} type="date" required value={grace} onChange={(e) => setGrace(e.target.value)} />}</Field> : null}
          {decision === 'CLOSE' ? (
            <Field label={t('closeReason')}>
              {(fid) => (
                <select id={fid} value={closeReason} onChange={(e) => setCloseReason(e.target.value as typeof closeReason)}>
                  <EnumOptions values={CLOSE_REASONS} />
                </select>
              )}
            </Field>
          ) : null}
          <Field label={t('notes')}>{(fid) => <textarea id={fid} name="decisionNote" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />}</Field>
          <SubmitButton busy={m.busy}>{t('decide')}</SubmitButton>
        </form>
      ) : null}
      <m.Status />
    </Section>
  );
}
