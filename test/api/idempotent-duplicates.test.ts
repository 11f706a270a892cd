/**
 * Every idempotent write answers concurrent duplicates with a replay (same request) or DUPLICATE
 * (another request under the key), never an internal error (issue 11, point 2): reminders,
 * promises, payments, imports, uploads, visits, each sent 10 times at once. The embedded store
 * runs one statement at a time, so only a real server shows the race: set TEST_DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createEvidenceTestApp, type EvidenceTestApp } from '../evidence/support.ts';
import { blob, files } from '../evidence/files.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

const N = 10;
const ERR = 'userErrors { code field message }';

describe.skipIf(!process.env.TEST_DATABASE_URL)('concurrent duplicates of idempotent writes, on PostgreSQL', () => {
  let e: EvidenceTestApp;
  let s: Scenario;
  let token: string;
  const tag = `${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    e = await createEvidenceTestApp();
    expect(e.t.runtime.store.kind).toBe('postgres');
    s = await createPeople(e.t.prisma);
    token = await e.t.token(s.users.supervisor);
  });
  afterAll(async () => e?.close());

  const newCase = async (stage: 'EARLY_REMINDER' | 'FIELD_VISIT' = 'EARLY_REMINDER') => {
    const c = await createCase(e.t.prisma, e.t.pii, { now: e.t.clock.now(), principal: 1_000_000n, collectorId: s.users.collector.id, stage });
    return { ...c, gid: encodeGlobalID('Case', c.id) };
  };

  /** N identical requests at once: no error, no user error, one id, one row; then the key with another request is DUPLICATE. */
  async function race(name: string, send: () => Promise<any>, idOf: (payload: any) => string, rows: () => Promise<number>, other: () => Promise<any>) {
    const answers = await Promise.all(Array.from({ length: N }, send));
    for (const a of answers) {
      expect(a.errors, `${name}: ${JSON.stringify(a.errors)}`).toBeUndefined();
      expect(a.data[name].userErrors).toEqual([]);
    }
    expect(new Set(answers.map((a) => idOf(a.data[name]))).size).toBe(1);
    expect(await rows()).toBe(1);
    const dup = await other();
    expect(dup.errors).toBeUndefined();
    expect(dup.data[name].userErrors).toMatchObject([{ code: 'DUPLICATE', field: ['idempotencyKey'] }]);
    expect(await rows()).toBe(1);
    return answers;
  }

  it('scheduleReminder', async () => {
    const c = await newCase();
    const cp = await e.t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.debtorId } });
    const Q = `mutation($input: ScheduleReminderInput!) { scheduleReminder(input: $input) { reminder { id } ${ERR} } }`;
    const input = { caseId: c.gid, contactPointId: encodeGlobalID('ContactPoint', cp.id), channel: 'SMS', templateKey: 'overdue-followup', scheduledAt: '2026-11-28T03:00:00.000Z', idempotencyKey: `rem-${tag}` };
    await race(
      'scheduleReminder',
      () => e.gql(token, Q, { input }),
      (p) => p.reminder.id,
      () => e.t.prisma.reminder.count({ where: { caseId: c.id } }),
      () => e.gql(token, Q, { input: { ...input, scheduledAt: '2026-11-28T04:00:00.000Z' } }),
    );
  });

  it('recordPromiseToPay', async () => {
    const c = await newCase();
    const Q = `mutation($input: RecordPromiseToPayInput!) { recordPromiseToPay(input: $input) { promise { id } ${ERR} } }`;
    const input = { caseId: c.gid, amount: 50_000, currency: 'CNY', promisedFor: '2026-12-05', idempotencyKey: `ptp-${tag}` };
    await race(
      'recordPromiseToPay',
      () => e.gql(token, Q, { input }),
      (p) => p.promise.id,
      () => e.t.prisma.promiseToPay.count({ where: { caseId: c.id } }),
      () => e.gql(token, Q, { input: { ...input, amount: 60_000 } }),
    );
    expect((await e.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version).toBe(2);
  });

  it('recordPayment', async () => {
    const c = await newCase();
    const Q = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } replayed ${ERR} } }`;
    const input = { caseId: c.gid, amount: 40_000, currency: 'CNY', receivedAt: '2026-11-28T01:00:00.000Z', channel: 'BANK_TRANSFER', idempotencyKey: `pay-${tag}` };
    const answers = await race(
      'recordPayment',
      () => e.gql(token, Q, { input }),
      (p) => p.payment.id,
      () => e.t.prisma.payment.count({ where: { caseId: c.id } }),
      () => e.gql(token, Q, { input: { ...input, amount: 41_000 } }),
    );
    expect(answers.filter((a) => !a.data.recordPayment.replayed)).toHaveLength(1);
    expect((await e.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).overdueTotal).toBe(1_017_345n - 40_000n);
  });

  it('planVisit', async () => {
    const c = await newCase('FIELD_VISIT');
    const address = await e.t.prisma.address.findFirstOrThrow({ where: { debtorId: c.debtorId } });
    const Q = `mutation($input: PlanVisitInput!) { planVisit(input: $input) { visit { id } ${ERR} } }`;
    const input = { caseId: c.gid, addressId: encodeGlobalID('Address', address.id), purpose: 'Understand the delinquency', idempotencyKey: `visit-${tag}` };
    await race(
      'planVisit',
      () => e.gql(token, Q, { input }),
      (p) => p.visit.id,
      () => e.t.prisma.visit.count({ where: { caseId: c.id } }),
      () => e.gql(token, Q, { input: { ...input, purpose: 'Another purpose' } }),
    );
  });

  it('uploadEvidence', async () => {
    const c = await newCase();
    const Q = `mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) { evidence { id sha256 } ${ERR} } }`;
    const letter = files.pdf(`race ${tag}`);
    const send = (content: Buffer) => e.upload(token, Q, { caseId: c.gid, kind: 'PROMISE_LETTER', idempotencyKey: `upload-${tag}` }, blob(content, 'application/pdf'), 'letter.pdf');
    await race(
      'uploadEvidence',
      () => send(letter),
      (p) => p.evidence.id,
      () => e.t.prisma.evidence.count({ where: { caseId: c.id } }),
      () => send(files.pdf(`another letter ${tag}`)),
    );
    // One blob, no staging file left by the losers.
    expect(e.files().staging).toEqual([]);
    expect(e.files().blobs).toHaveLength(1);
  });

  it('importCases (and openCase): the same batch 10 times at once creates each case once', async () => {
    const row = (n: number) => ({
      account: { externalRef: `RACE-ACC-${tag}-${n}`, cardLast4: '4321', product: 'Gold', creditLimit: 5_000_000, currency: 'CNY' },
      debtor: {
        externalRef: `RACE-CUS-${tag}-${n}`,
        fullName: `李${n}`,
        nationalId: `11010519850101${String(1000 + n).slice(-4)}`,
        contactPoints: [{ kind: 'MOBILE', value: `1391234${String(n).padStart(4, '0')}` }],
        addresses: [{ kind: 'HOME', line1: `${n} 长安街`, city: '北京', region: '北京' }],
      },
      dueDate: '2026-10-15',
      principal: 800_000,
      interest: 20_000,
      fees: 5_000,
    });
    const Q = `mutation($input: ImportCasesInput!) { importCases(input: $input) { created unchanged rejected results { status caseId errors { code message } } userErrors { code } } }`;
    const rows = [row(1), row(2), row(3)];
    const answers = await Promise.all(Array.from({ length: N }, () => e.gql(token, Q, { input: { rows, idempotencyKey: `import-${tag}` } })));
    for (const a of answers) {
      expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
      expect(a.data.importCases.rejected).toBe(0);
    }
    expect(answers.reduce((n, a) => n + a.data.importCases.created, 0)).toBe(3);
    expect(answers.reduce((n, a) => n + a.data.importCases.unchanged, 0)).toBe(3 * (N - 1));
    expect(await e.t.prisma.case.count({ where: { account: { externalRef: { startsWith: `RACE-ACC-${tag}` } } } })).toBe(3);
    // openCase of one account, at once: one case; the others are told DUPLICATE.
    const O = `mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id } ${ERR} } }`;
    const opened = await Promise.all(Array.from({ length: N }, () => e.gql(token, O, { input: row(4) })));
    for (const a of opened) expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
    expect(opened.filter((a) => a.data.openCase.case).length).toBe(1);
    expect(opened.filter((a) => a.data.openCase.userErrors[0]?.code === 'DUPLICATE').length).toBe(N - 1);
  });
});
