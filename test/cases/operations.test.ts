import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let s: Scenario;
const tok: Record<string, string> = {};
const gid = (type: string, id: string) => encodeGlobalID(type, id);

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await t.token(u);
});
afterAll(async () => t?.close());

const row = (n: number, over: Record<string, unknown> = {}) => ({
  account: { externalRef: `ACC-${n}`, cardLast4: '4321', product: 'Gold', creditLimit: 5_000_000, currency: 'CNY' },
  debtor: {
    externalRef: `CUS-${n}`,
    fullName: `李${n}`,
    nationalId: `11010519850101${String(1000 + n).slice(-4)}`,
    contactPoints: [{ kind: 'MOBILE', value: `1391234${String(n).padStart(4, '0')}` }],
    addresses: [{ kind: 'HOME', line1: `${n} 长安街`, city: '北京', region: '北京' }],
  },
  dueDate: '2026-10-15',
  principal: 800_000,
  interest: 20_000,
  fees: 5_000,
  ...over,
});

const OPEN = `mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id number version overdue { minorUnits } daysPastDue debtor { nationalIdMasked } } userErrors { code field message } } }`;
const IMPORT = `mutation($input: ImportCasesInput!) { importCases(input: $input) { created updated unchanged rejected results { index status caseNumber errors { code field message } } userErrors { code } } }`;

async function counts() {
  return {
    cases: await t.prisma.case.count(),
    debtors: await t.prisma.debtor.count(),
    events: await t.prisma.caseEvent.count(),
    audits: await t.prisma.auditEvent.count(),
    placements: await t.prisma.placement.count(),
    holds: await t.prisma.hold.count(),
  };
}

describe('intake', () => {
  it('opens a case with an exact overdue amount, a timeline event and an audit event', async () => {
    const before = await counts();
    const r = await t.gql(tok.supervisor!, OPEN, { input: row(1) });
    expect(r.data.openCase.userErrors).toEqual([]);
    const c = r.data.openCase.case;
    expect(c.overdue.minorUnits).toBe(825_000);
    expect(c.debtor.nationalIdMasked).toBe('1101**********1001');
    expect(c.daysPastDue).toBe(44); // 2026-10-15 → 2026-11-28
    const after = await counts();
    expect(after.cases - before.cases).toBe(1);
    expect(after.events - before.events).toBe(1);
    expect(after.audits - before.audits).toBe(1);
    // Stored encrypted, never in clear.
    const d = await t.prisma.debtor.findFirstOrThrow({ where: { externalRef: 'CUS-1' } });
    expect(Buffer.from(d.nationalIdCiphertext).toString('utf8')).not.toContain('110105');
  });

  it('refuses a second case for the same account and due date, and a due date not yet passed, changing nothing', async () => {
    const before = await counts();
    const dup = await t.gql(tok.supervisor!, OPEN, { input: row(1, { principal: 1 }) });
    expect(dup.data.openCase.userErrors[0].code).toBe('DUPLICATE');
    const future = await t.gql(tok.supervisor!, OPEN, { input: row(2, { dueDate: '2026-12-01' }) });
    expect(future.data.openCase.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['dueDate'] });
    const bad = await t.gql(tok.supervisor!, OPEN, { input: row(3, { debtor: { ...row(3).debtor, timeZone: 'Mars/Olympus' } }) });
    expect(bad.data.openCase.userErrors[0].field).toEqual(['debtor.timeZone']);
    expect(await counts()).toEqual(before);
  });

  it('imports idempotently: a re-sent batch creates nothing, changed amounts are refreshed, bad rows are reported', async () => {
    const rows = [row(10), row(11), row(12, { principal: -5 }), row(10)];
    const first = await t.gql(tok.admin!, IMPORT, { input: { rows } });
    const p = first.data.importCases;
    expect([p.created, p.updated, p.unchanged, p.rejected]).toEqual([2, 0, 0, 2]);
    expect(p.results[2].errors[0].field).toEqual(['principal']);
    expect(p.results[3].errors[0].code).toBe('DUPLICATE');
    const before = await counts();
    const again = await t.gql(tok.admin!, IMPORT, { input: { rows: [row(10), row(11)] } });
    expect(again.data.importCases.unchanged).toBe(2);
    expect(await counts()).toEqual(before);
    const refreshed = await t.gql(tok.admin!, IMPORT, { input: { rows: [row(10, { interest: 30_000 })] } });
    expect(refreshed.data.importCases.updated).toBe(1);
    const c = await t.prisma.case.findFirstOrThrow({ where: { account: { externalRef: 'ACC-10' } } });
    expect(c.overdueTotal).toBe(835_000n);
    expect(c.version).toBe(2);
  });

  it('is for the bank: collectors, agencies and the auditor are FORBIDDEN', async () => {
    for (const who of ['collector', 'northManager', 'northAgent', 'auditor']) {
      const r = await t.gql(tok[who]!, OPEN, { input: row(20) });
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(await t.prisma.cardAccount.count({ where: { externalRef: 'ACC-20' } })).toBe(0);
  });
});

const ASSIGN = `mutation($input: AssignCaseInput!) { assignCase(input: $input) { case { id version assignedAgency { name } assignedCollector { email } } placement { kind } userErrors { code field message } } }`;
const RECALL = `mutation($input: RecallCaseInput!) { recallCase(input: $input) { case { id assignedAgency { name } } userErrors { code field message } } }`;

describe('placement and recall', () => {
  it('places with an agency, lets its manager assign within it, and refuses the rest', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now() });
    const id = gid('Case', c.id);
    const placed = await t.gql(tok.supervisor!, ASSIGN, { input: { caseId: id, agencyId: gid('Agency', s.north.id), endsAt: '2027-02-28T00:00:00Z', expectedVersion: 1 } });
    expect(placed.data.assignCase.userErrors).toEqual([]);
    expect(placed.data.assignCase.case.assignedAgency.name).toBe('North Recovery');
    // The manager gives it to their agent.
    const mine = await t.gql(tok.northManager!, ASSIGN, { input: { caseId: id, collectorId: gid('User', s.users.northAgent.id) } });
    expect(mine.data.assignCase.case.assignedCollector.email).toBe('agent@north.example');
    // ...but not to South's agent, nor to another agency.
    const foreign = await t.gql(tok.northManager!, ASSIGN, { input: { caseId: id, collectorId: gid('User', s.users.southAgent.id) } });
    expect(foreign.data.assignCase.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['collectorId'] });
    const otherAgency = await t.gql(tok.northManager!, ASSIGN, { input: { caseId: id, agencyId: gid('Agency', s.south.id), collectorId: gid('User', s.users.northAgent.id) } });
    expect(otherAgency.data.assignCase.userErrors[0].code).toBe('FORBIDDEN_ACTION');
    // South's manager cannot even find it.
    const south = await t.gql(tok.southManager!, ASSIGN, { input: { caseId: id, collectorId: gid('User', s.users.southAgent.id) } });
    expect(south.data.assignCase.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['caseId'] });
    // Placing with South while North holds it: recall first.
    const busy = await t.gql(tok.supervisor!, ASSIGN, { input: { caseId: id, agencyId: gid('Agency', s.south.id) } });
    expect(busy.data.assignCase.userErrors[0].code).toBe('INVALID_TRANSITION');
    // A stale version changes nothing.
    const stale = await t.gql(tok.supervisor!, ASSIGN, { input: { caseId: id, collectorId: gid('User', s.users.northAgent2.id), expectedVersion: 1 } });
    expect(stale.data.assignCase.userErrors[0].code).toBe('STALE_VERSION');
    // The placement history: North (ended when the manager reassigned), North with the agent (current).
    const history = await t.prisma.placement.findMany({ where: { caseId: c.id }, orderBy: { createdAt: 'asc' } });
    expect(history.map((p) => [p.agencyId, p.collectorId, p.endedAt === null])).toEqual([[s.north.id, null, false], [s.north.id, s.users.northAgent.id, true]]);
    expect(history[1]!.endsAt?.toISOString()).toBe('2027-02-28T00:00:00.000Z'); // the agreed end carries over
  });

  it('refuses an end before the start, a suspended agency, a bank case for an agency collector, changing nothing', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now() });
    const id = gid('Case', c.id);
    const backwards = await t.gql(tok.supervisor!, ASSIGN, { input: { caseId: id, agencyId: gid('Agency', s.north.id), startsAt: '2026-12-10T00:00:00Z', endsAt: '2026-12-01T00:00:00Z' } });
    expect(backwards.data.assignCase.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['endsAt'] });
    const agentOfBank = await t.gql(tok.supervisor!, ASSIGN, { input: { caseId: id, collectorId: gid('User', s.users.northAgent.id) } });
    expect(agentOfBank.data.assignCase.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['collectorId'] });
    const suspended = await t.prisma.agency.create({ data: { code: 'SUSP', name: 'Suspended Ltd', licenseNumber: 'L', dataProcessingContractRef: 'D', status: 'SUSPENDED' } });
    const susp = await t.gql(tok.supervisor!, ASSIGN, { input: { caseId: id, agencyId: gid('Agency', suspended.id) } });
    expect(susp.data.assignCase.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['agencyId'] });
    expect(await t.prisma.placement.count({ where: { caseId: c.id } })).toBe(0);
    expect((await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version).toBe(1);
  });

  it('recalls at once: the agency loses the case by node, list and count in the same moment', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id, collectorId: s.users.northAgent.id });
    const id = gid('Case', c.id);
    const see = () => t.gql(tok.northAgent!, `query($id: ID!) { node(id: $id) { id } cases(first: 100) { totalCount nodes { id } } }`, { id });
    const before = await see();
    expect(before.data.node).not.toBeNull();
    const r = await t.gql(tok.supervisor!, RECALL, { input: { caseId: id, reason: 'COMPLAINT', note: 'debtor complained' } });
    expect(r.data.recallCase.userErrors).toEqual([]);
    expect(r.data.recallCase.case.assignedAgency).toBeNull();
    const after = await see();
    expect(after.data.node).toBeNull();
    expect(after.data.cases.nodes.map((n: any) => n.id)).not.toContain(id);
    expect(after.data.cases.totalCount).toBe(before.data.cases.totalCount - 1);
    const p = await t.prisma.placement.findFirstOrThrow({ where: { caseId: c.id } });
    expect(p.recallReason).toBe('COMPLAINT');
    expect(p.endedAt).not.toBeNull();
    const again = await t.gql(tok.supervisor!, RECALL, { input: { caseId: id, reason: 'OTHER' } });
    expect(again.data.recallCase.userErrors[0].code).toBe('INVALID_TRANSITION');
    const agency = await t.gql(tok.northManager!, RECALL, { input: { caseId: id, reason: 'OTHER' } });
    expect(agency.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

const STAGE = `mutation($input: ChangeCaseStageInput!) { changeCaseStage(input: $input) { case { stage version } userErrors { code field message } } }`;
const CLOSE = `mutation($input: CloseCaseInput!) { closeCase(input: $input) { case { stage status closedAt closeReason } userErrors { code field message } } }`;
const HOLD = `mutation($input: HoldCaseInput!) { holdCase(input: $input) { case { onHold } hold { reason active } userErrors { code field message } } }`;
const RELEASE = `mutation($input: ReleaseCaseHoldInput!) { releaseCaseHold(input: $input) { case { onHold } hold { active releasedAt } userErrors { code field message } } }`;

describe('stages, holds, closing', () => {
  it('moves forward one step at a time; a supervisor may step back; LEGAL is the bank’s decision', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id, collectorId: s.users.northAgent.id });
    const id = gid('Case', c.id);
    const skip = await t.gql(tok.supervisor!, STAGE, { input: { caseId: id, stage: 'LEGAL' } });
    expect(skip.data.changeCaseStage.userErrors[0].code).toBe('INVALID_TRANSITION');
    const fwd = await t.gql(tok.northAgent!, STAGE, { input: { caseId: id, stage: 'FIELD_VISIT', expectedVersion: 1 } });
    expect(fwd.data.changeCaseStage.case).toEqual({ stage: 'FIELD_VISIT', version: 2 });
    const agentLegal = await t.gql(tok.northAgent!, STAGE, { input: { caseId: id, stage: 'LEGAL' } });
    expect(agentLegal.data.changeCaseStage.userErrors[0].code).toBe('FORBIDDEN_ACTION');
    const agentBack = await t.gql(tok.northAgent!, STAGE, { input: { caseId: id, stage: 'EARLY_REMINDER' } });
    expect(agentBack.data.changeCaseStage.userErrors[0].code).toBe('FORBIDDEN_ACTION');
    const back = await t.gql(tok.supervisor!, STAGE, { input: { caseId: id, stage: 'EARLY_REMINDER', reason: 'debtor answered' } });
    expect(back.data.changeCaseStage.case.stage).toBe('EARLY_REMINDER');
    const resolved = await t.gql(tok.supervisor!, STAGE, { input: { caseId: id, stage: 'RESOLVED' } });
    expect(resolved.data.changeCaseStage.userErrors[0].code).toBe('INVALID_TRANSITION');
    const events = await t.prisma.caseEvent.findMany({ where: { caseId: c.id, type: 'STAGE_CHANGED' } });
    expect(events).toHaveLength(2);
  });

  it('holds and releases; no second hold on a held case; the auditor writes nothing', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id });
    const id = gid('Case', c.id);
    const past = await t.gql(tok.collector!, HOLD, { input: { caseId: id, reason: 'DISPUTE', endsAt: '2026-11-01T00:00:00Z' } });
    expect(past.data.holdCase.userErrors[0].field).toEqual(['endsAt']);
    const h = await t.gql(tok.collector!, HOLD, { input: { caseId: id, reason: 'DISPUTE', note: 'disputes the fees' } });
    expect(h.data.holdCase.case.onHold).toBe(true);
    const twice = await t.gql(tok.collector!, HOLD, { input: { caseId: id, reason: 'HARDSHIP' } });
    expect(twice.data.holdCase.userErrors[0].code).toBe('INVALID_TRANSITION');
    const auditor = await t.gql(tok.auditor!, HOLD, { input: { caseId: id, reason: 'OTHER' } });
    expect(auditor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const collectorRelease = await t.gql(tok.collector!, RELEASE, { input: { caseId: id } });
    expect(collectorRelease.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const rel = await t.gql(tok.supervisor!, RELEASE, { input: { caseId: id } });
    expect(rel.data.releaseCaseHold.case.onHold).toBe(false);
    expect(rel.data.releaseCaseHold.hold.active).toBe(false);
    const relAgain = await t.gql(tok.supervisor!, RELEASE, { input: { caseId: id } });
    expect(relAgain.data.releaseCaseHold.userErrors[0].code).toBe('INVALID_TRANSITION');
    // The work queue skips held cases.
    await t.gql(tok.collector!, HOLD, { input: { caseId: id, reason: 'HARDSHIP' } });
    const q = await t.gql(tok.collector!, `{ viewer { workQueue(first: 50) { nodes { id } } } }`);
    expect(q.data.viewer.workQueue.nodes.map((n: any) => n.id)).not.toContain(id);
  });

  it('closes with a reason; a closed case takes no further writes', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.south.id });
    const id = gid('Case', c.id);
    const notPaid = await t.gql(tok.supervisor!, CLOSE, { input: { caseId: id, reason: 'PAID_IN_FULL' } });
    expect(notPaid.data.closeCase.userErrors[0].code).toBe('VALIDATION');
    // A write-off is maker-checker (proposeWriteOff / approveWriteOff): closeCase refuses it.
    const writtenOff = await t.gql(tok.supervisor!, CLOSE, { input: { caseId: id, reason: 'WRITTEN_OFF', note: 'uncollectable' } });
    expect(writtenOff.data.closeCase.userErrors[0]).toMatchObject({ code: 'APPROVAL_REQUIRED', field: ['reason'] });
    const closed = await t.gql(tok.supervisor!, CLOSE, { input: { caseId: id, reason: 'RETURNED_TO_BANK', note: 'back to account management' } });
    expect(closed.data.closeCase.case).toMatchObject({ stage: 'CLOSED', status: 'OPEN', closeReason: 'RETURNED_TO_BANK' });
    expect(await t.prisma.placement.count({ where: { caseId: c.id, endedAt: null } })).toBe(0);
    const before = await counts();
    const hold = await t.gql(tok.supervisor!, HOLD, { input: { caseId: id, reason: 'OTHER' } });
    expect(hold.data.holdCase.userErrors[0].code).toBe('CASE_ENDED');
    const stage = await t.gql(tok.supervisor!, STAGE, { input: { caseId: id, stage: 'FIELD_VISIT' } });
    expect(stage.data.changeCaseStage.userErrors[0].code).toBe('CASE_ENDED');
    const close = await t.gql(tok.admin!, CLOSE, { input: { caseId: id, reason: 'DECEASED' } });
    expect(close.data.closeCase.userErrors[0].code).toBe('CASE_ENDED');
    expect(await counts()).toEqual(before);
  });

  it('serialises concurrent writers: two writes with the same expected version, one wins', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now() });
    const id = gid('Case', c.id);
    const [a, b] = await Promise.all([
      t.gql(tok.supervisor!, HOLD, { input: { caseId: id, reason: 'DISPUTE', expectedVersion: 1 } }),
      t.gql(tok.admin!, STAGE, { input: { caseId: id, stage: 'FIELD_VISIT', expectedVersion: 1 } }),
    ]);
    const errors = [a.data.holdCase.userErrors, b.data.changeCaseStage.userErrors].filter((e) => e.length > 0);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0].code).toBe('STALE_VERSION');
    expect((await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version).toBe(2);
  });
});
