/**
 * Agency isolation (DOMAIN.md, "The people"): an agency principal must never learn that another
 * agency's case exists: not through node(id), nodes(ids), a connection, a count, a filter, a search,
 * a nested field or an error message. A recalled case disappears from the agency at once.
 *
 * Every "North cannot see it" assertion is paired with a control proving that the same query, run
 * by a viewer allowed to see the record, does return it: a null that would be null anyway proves
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { formatCaseNumber } from '../../src/lib/ids.ts';
import { hashApiKey } from '../../src/auth/tokens.ts';

type CaseRow = Awaited<ReturnType<typeof createCase>>;
type Records = Record<string, string>; // GraphQL type name → uuid

let t: TestApp;
let s: Scenario;
let tok: Record<keyof Scenario['users'], string>;

// North: assigned to northAgent, to northAgent2, unassigned, one that South held before (recalled
// to North), one that moves to South during the test.
let nA1: CaseRow, nA2: CaseRow, nU: CaseRow, nRecalled: CaseRow, nMove: CaseRow;
// South: one fully furnished, one unassigned, one whose collector is (stale) a North agent.
let sC1: CaseRow, sC2: CaseRow, sStale: CaseRow;
// Bank: collector's and collector2's; and an unplaced case.
let bC1: CaseRow, bC2: CaseRow, uC1: CaseRow;

let south: Records; // every record hanging off sC1, by type
let nMoveRecords: Records;
let nRecalledSouthEra: { placementId: string; eventId: string; visitId: string };
let southApiKeyId: string;
let southAuditEventId: string;

const SOUTH_NAME = '南方欠款人';
const SOUTH_NATIONAL_ID = '440301198805120019';
const SOUTH_PHONE = '13912345678';

const gid = (type: string, id: string) => encodeGlobalID(type, id);
const num = (c: CaseRow) => formatCaseNumber(c.caseNo);

/** Every kind of record a case has, inserted directly; `marker` goes into the free-text fields. */
async function furnish(c: CaseRow, marker: string, participantId: string): Promise<Records> {
  const p = t.prisma;
  const now = t.clock.now();
  const debtor = await p.debtor.findUniqueOrThrow({ where: { id: c.debtorId }, include: { contactPoints: true, addresses: true } });
  const contactPoint = debtor.contactPoints[0]!;
  const address = debtor.addresses[0]!;
  const placement = await p.placement.findFirstOrThrow({ where: { caseId: c.id } });
  const opened = await p.caseEvent.findFirstOrThrow({ where: { caseId: c.id } });
  const event = await p.caseEvent.create({
    data: { caseId: c.id, type: 'NOTE', actorLabel: `${marker} agent`, agencyId: c.assignedAgencyId, occurredAt: now, summary: `${marker} note` },
  });
  const hold = await p.hold.create({ data: { caseId: c.id, agencyId: c.assignedAgencyId, reason: 'DISPUTE', note: `${marker} dispute`, startsAt: new Date(now.getTime() - 86_400_000), releasedAt: now } });
  const reminder = await p.reminder.create({
    data: {
      caseId: c.id,
      agencyId: c.assignedAgencyId, // as the app records it: the agency holding the case then
      contactPointId: contactPoint.id,
      channel: 'SMS',
      language: 'ZH_CN',
      scheduledAt: now,
      nextAttemptAt: now,
      idempotencyKey: `${marker}-reminder-${c.id}`,
      requestHash: 'h',
      renderedMessage: `${marker} message`,
    },
  });
  const attempt = await p.contactAttempt.create({
    data: {
      caseId: c.id,
      agencyId: c.assignedAgencyId, // as the app records it: the agency holding the case then
      debtorId: c.debtorId,
      contactPointId: contactPoint.id,
      channel: 'CALL',
      attemptedAt: now,
      outcome: 'VISIT_CONSENT_GIVEN',
      connected: true,
      notes: `${marker} call`,
    },
  });
  const consent = await p.visitConsent.create({
    data: { caseId: c.id, agencyId: c.assignedAgencyId, contactAttemptId: attempt.id, windowStart: new Date(now.getTime() + 86_400_000), windowEnd: new Date(now.getTime() + 90_000_000), recordedAt: now },
  });
  const visit = await p.visit.create({
    data: {
      caseId: c.id,
      agencyId: c.assignedAgencyId, // as the app records it: the agency holding the case then
      addressId: address.id,
      consentId: consent.id,
      purpose: `${marker} visit`,
      dossier: {},
      participants: { create: { userId: participantId, credentialNumber: `WC-${marker}`, credentialExpiresOn: new Date('2027-12-31T00:00:00Z') } },
    },
  });
  const evidence = await p.evidence.create({
    data: {
      caseId: c.id,
      agencyId: c.assignedAgencyId, // as the app records it: the agency holding the case then
      visitId: visit.id,
      kind: 'NOTE',
      sha256: 'a'.repeat(64),
      sizeBytes: 12,
      contentType: 'text/plain',
      fileName: `${marker}.txt`,
      uploadedAt: now,
    },
  });
  const promise = await p.promiseToPay.create({
    data: { caseId: c.id, agencyId: c.assignedAgencyId, amount: 10_000n, currency: 'CNY', promisedFor: new Date('2026-12-10T00:00:00Z'), createdAt: now, contactAttemptId: attempt.id },
  });
  const plan = await p.repaymentPlan.create({
    data: {
      caseId: c.id,
      agencyId: c.assignedAgencyId, // as the app records it: the agency holding the case then
      kind: 'INSTALMENTS',
      currency: 'CNY',
      totalAmount: 20_000n,
      instalmentCount: 2,
      frequency: 'MONTHLY',
      firstDueDate: new Date('2026-12-15T00:00:00Z'),
      proposedAt: now,
      instalments: {
        create: [
          { seq: 1, dueDate: new Date('2026-12-15T00:00:00Z'), amount: 10_000n },
          { seq: 2, dueDate: new Date('2027-01-15T00:00:00Z'), amount: 10_000n },
        ],
      },
    },
    include: { instalments: { orderBy: { seq: 'asc' } } },
  });
  const payment = await p.payment.create({
    data: {
      caseId: c.id,
      agencyId: c.assignedAgencyId, // as the app records it: the agency holding the case then
      amount: 5_000n,
      currency: 'CNY',
      receivedAt: now,
      channel: 'BANK_TRANSFER',
      externalReference: `${marker}-ref`,
      idempotencyKey: `${marker}-payment-${c.id}`,
      requestHash: 'h',
      allocations: { create: { target: 'INSTALMENT', instalmentId: plan.instalments[0]!.id, amount: 5_000n } },
    },
  });
  return {
    Case: c.id,
    Debtor: c.debtorId,
    ContactPoint: contactPoint.id,
    Address: address.id,
    CardAccount: c.accountId,
    Placement: placement.id,
    CaseEvent: event.id,
    CaseEventOpened: opened.id,
    Hold: hold.id,
    Reminder: reminder.id,
    ContactAttempt: attempt.id,
    VisitConsent: consent.id,
    Visit: visit.id,
    Evidence: evidence.id,
    PromiseToPay: promise.id,
    RepaymentPlan: plan.id,
    Instalment: plan.instalments[0]!.id,
    Payment: payment.id,
  };
}

/** `CaseEventOpened` is a CaseEvent too: the GraphQL type of a record key. */
const typeOf = (key: string) => (key === 'CaseEventOpened' || key === 'CaseEventEarlier' ? 'CaseEvent' : key === 'PlacementEarlier' ? 'Placement' : key);

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  const u = s.users;
  const mk = (spec: Omit<Parameters<typeof createCase>[2], 'now'>) => createCase(t.prisma, t.pii, { now, ...spec });

  nA1 = await mk({ agencyId: s.north.id, collectorId: u.northAgent.id, daysPastDue: 12, debtorName: '北方甲' });
  nA2 = await mk({ agencyId: s.north.id, collectorId: u.northAgent2.id, daysPastDue: 14, debtorName: '北方乙' });
  nU = await mk({ agencyId: s.north.id, daysPastDue: 16, debtorName: '北方丙' });
  nRecalled = await mk({ agencyId: s.north.id, collectorId: u.northAgent.id, daysPastDue: 18, debtorName: '北方丁' });
  nMove = await mk({ agencyId: s.north.id, collectorId: u.northAgent.id, daysPastDue: 20, debtorName: '北方戊' });

  sC1 = await mk({
    agencyId: s.south.id,
    collectorId: u.southAgent.id,
    daysPastDue: 77,
    stage: 'FIELD_VISIT',
    status: 'PROMISED',
    debtorName: SOUTH_NAME,
    nationalId: SOUTH_NATIONAL_ID,
    phone: SOUTH_PHONE,
  });
  sC2 = await mk({ agencyId: s.south.id, daysPastDue: 40, debtorName: '南方乙' });
  // A South case whose collector field still names a North agent (e.g. left over by a transfer):
  // the agency rule, not the collector field alone, decides.
  sStale = await mk({ agencyId: s.south.id, collectorId: u.northAgent.id, daysPastDue: 33, debtorName: '南方丙' });

  bC1 = await mk({ collectorId: u.collector.id, daysPastDue: 50, debtorName: '银行甲' });
  bC2 = await mk({ collectorId: u.collector2.id, daysPastDue: 52, debtorName: '银行乙' });
  uC1 = await mk({ daysPastDue: 200, debtorName: '未分配' });

  south = await furnish(sC1, 'SOUTH', u.southAgent.id);
  // sC1 was with North before: a recalled North placement and an event recorded under North. North
  // must not see them now that the case is South's.
  const earlierNorth = await t.prisma.placement.create({
    data: {
      caseId: sC1.id,
      kind: 'AGENCY',
      agencyId: s.north.id,
      collectorId: u.northAgent.id,
      startsAt: new Date(now.getTime() - 60 * 86_400_000),
      endsAt: new Date(now.getTime() - 30 * 86_400_000),
      endedAt: new Date(now.getTime() - 31 * 86_400_000),
      recallReason: 'PERFORMANCE',
    },
  });
  const earlierNorthEvent = await t.prisma.caseEvent.create({
    data: { caseId: sC1.id, type: 'NOTE', actorLabel: 'North Agent', agencyId: s.north.id, occurredAt: new Date(now.getTime() - 40 * 86_400_000), summary: 'North-era note' },
  });
  south.PlacementEarlier = earlierNorth.id;
  south.CaseEventEarlier = earlierNorthEvent.id;
  south.Agency = s.south.id;
  south.User = u.southAgent.id;
  south.UserManager = u.southManager.id;

  const key = await t.prisma.apiKey.create({ data: { name: 'south system', prefix: 'ak_southkey', hash: 'f'.repeat(64), userId: u.southManager.id } });
  southApiKeyId = key.id;
  const audit = await t.prisma.auditEvent.create({
    data: { at: now, actorId: u.southManager.id, actorRole: 'AGENCY_MANAGER', agencyId: s.south.id, action: 'case.note', entityType: 'Case', entityId: sC1.id, caseId: sC1.id },
  });
  southAuditEventId = audit.id;

  // nRecalled was with South before it came to North: South's placement (recalled) and an event
  // recorded under South, and a visit South's agent made.
  const sp = await t.prisma.placement.create({
    data: {
      caseId: nRecalled.id,
      kind: 'AGENCY',
      agencyId: s.south.id,
      collectorId: u.southAgent.id,
      startsAt: new Date(now.getTime() - 60 * 86_400_000),
      endsAt: new Date(now.getTime() - 30 * 86_400_000),
      endedAt: new Date(now.getTime() - 31 * 86_400_000),
      recallReason: 'COMPLAINT',
      recallNote: 'SOUTH-ERA recall',
    },
  });
  const se = await t.prisma.caseEvent.create({
    data: { caseId: nRecalled.id, type: 'NOTE', actorLabel: 'South Agent', agencyId: s.south.id, occurredAt: new Date(now.getTime() - 45 * 86_400_000), summary: 'SOUTH-ERA note' },
  });
  const addr = await t.prisma.address.findFirstOrThrow({ where: { debtorId: nRecalled.debtorId } });
  const sv = await t.prisma.visit.create({
    data: {
      caseId: nRecalled.id,
      agencyId: s.south.id, // made while South held the case
      addressId: addr.id,
      purpose: 'Home visit',
      dossier: {},
      createdAt: new Date(now.getTime() - 40 * 86_400_000),
      participants: { create: { userId: u.southAgent.id, credentialNumber: 'WC-agent@south.example', credentialExpiresOn: new Date('2027-12-31T00:00:00Z') } },
    },
  });
  nRecalledSouthEra = { placementId: sp.id, eventId: se.id, visitId: sv.id };

  nMoveRecords = await furnish(nMove, 'NMOVE', u.northAgent.id);

  tok = Object.fromEntries(await Promise.all(Object.entries(u).map(async ([k, v]) => [k, await t.token(v)] as const))) as typeof tok;
});

afterAll(async () => t?.close());

// ---------------------------------------------------------------- helpers

const NODE = `query($id: ID!) { node(id: $id) { id __typename } }`;
const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }`;
const CASES = `query($filter: CaseFilter, $first: Int, $last: Int) {
  cases(filter: $filter, first: $first, last: $last) { totalCount nodes { id number } edges { node { id } } }
}`;

async function node(token: string, type: string, id: string) {
  const r = await t.gql(token, NODE, { id: gid(type, id) });
  expect(r.status).toBe(200);
  expect(r.errors).toBeUndefined();
  return r.data.node as { id: string; __typename: string } | null;
}

async function caseIds(token: string, filter?: Record<string, unknown>) {
  const r = await t.gql(token, CASES, { filter: filter ?? null, first: 100 });
  expect(r.errors).toBeUndefined();
  const ids = r.data.cases.nodes.map((n: { id: string }) => n.id);
  expect(r.data.cases.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(ids);
  return { ids: new Set<string>(ids), totalCount: r.data.cases.totalCount as number };
}

const cg = (c: CaseRow) => gid('Case', c.id);

/** Every id (raw and global) and every name of South's that must never appear in a North answer. */
function southMarkers(): string[] {
  const out = new Set<string>(['South Recovery', 'SOUTH', 'south.example', 'South Manager', 'South Agent', SOUTH_NAME, SOUTH_PHONE, 'SOUTH-ERA']);
  for (const [k, v] of Object.entries(south)) {
    out.add(v);
    out.add(gid(typeOf(k === 'UserManager' ? 'User' : k), v));
  }
  for (const c of [sC1, sC2, sStale]) {
    out.add(c.id);
    out.add(cg(c));
    out.add(num(c));
  }
  for (const id of [s.users.southAgent.id, s.users.southManager.id, s.south.id, nRecalledSouthEra.placementId, nRecalledSouthEra.eventId]) out.add(id);
  out.add(gid('User', s.users.southAgent.id));
  out.add(gid('User', s.users.southManager.id));
  out.add(gid('Agency', s.south.id));
  return [...out];
}

function expectNoSouth(r: { data: unknown; errors?: unknown }) {
  const text = JSON.stringify({ data: r.data, errors: r.errors ?? null });
  for (const m of southMarkers()) expect(text, `leaks ${m}`).not.toContain(m);
}

const AGENCY_VIEWERS = ['northManager', 'northAgent'] as const;

// ---------------------------------------------------------------- node / nodes

describe('node(id) and nodes(ids): no South record of any type', () => {
  const southEntries = () => [
    ...Object.entries(south).map(([k, v]) => [k === 'UserManager' ? 'User' : typeOf(k), v, k] as const),
    ['ApiKey', southApiKeyId, 'ApiKey'] as const,
    ['AuditEvent', southAuditEventId, 'AuditEvent'] as const,
  ];

  it('the bank admin reaches every one of them (control)', async () => {
    for (const [type, id] of southEntries()) {
      const n = await node(tok.admin, type, id);
      expect(n, `${type} ${id}`).toEqual({ id: gid(type, id), __typename: type });
    }
  });

  it('the South manager reaches every case record of theirs (control for the agency filters)', async () => {
    for (const [type, id, key] of southEntries()) {
      if (['ApiKey', 'AuditEvent', 'PlacementEarlier', 'CaseEventEarlier'].includes(key)) continue;
      const n = await node(tok.southManager, type, id);
      expect(n, `${key} ${id}`).toEqual({ id: gid(type, id), __typename: type });
    }
    // ...but not North's earlier placement nor the event recorded under North on the same case.
    expect(await node(tok.southManager, 'Placement', south.PlacementEarlier!)).toBeNull();
    expect(await node(tok.southManager, 'CaseEvent', south.CaseEventEarlier!)).toBeNull();
  });

  for (const who of AGENCY_VIEWERS) {
    it(`${who}: node(id) of every South record is null, with no error`, async () => {
      for (const [type, id, key] of southEntries()) {
        const r = await t.gql(tok[who], NODE, { id: gid(type, id) });
        expect(r.status).toBe(200);
        expect(r.errors, `${key}`).toBeUndefined();
        expect(r.data.node, `${key}`).toBeNull();
        expectNoSouth(r);
      }
    });

    it(`${who}: nodes(ids) of every South record is all nulls, with no error`, async () => {
      const entries = southEntries();
      const r = await t.gql(tok[who], NODES, { ids: entries.map(([type, id]) => gid(type, id)) });
      expect(r.errors).toBeUndefined();
      expect(r.data.nodes).toEqual(entries.map(() => null));
      expectNoSouth(r);
      // The same list mixed with a North case: only the North case comes back.
      const mixed = await t.gql(tok[who], NODES, { ids: [cg(sC1), cg(nA1), gid('Debtor', sC1.debtorId)] });
      expect(mixed.errors).toBeUndefined();
      expect(mixed.data.nodes).toEqual([null, { id: cg(nA1), __typename: 'Case' }, null]);
    });

    it(`${who}: the earlier North placement and North-era event of a case now at South are gone`, async () => {
      // Both carry agencyId North: only the case's current agency hides them.
      expect(await node(tok[who], 'Placement', south.PlacementEarlier!)).toBeNull();
      expect(await node(tok[who], 'CaseEvent', south.CaseEventEarlier!)).toBeNull();
    });

    it(`${who}: the South case with a North agent left in its collector field is invisible`, async () => {
      expect(await node(tok.admin, 'Case', sStale.id)).not.toBeNull();
      expect(await node(tok[who], 'Case', sStale.id)).toBeNull();
      expect(await node(tok[who], 'Debtor', sStale.debtorId)).toBeNull();
      expect(await node(tok[who], 'CardAccount', sStale.accountId)).toBeNull();
    });
  }
});

// ---------------------------------------------------------------- lists, counts, filters, search

describe('cases: lists, counts, filters and search never include South', () => {
  it('the North manager lists exactly the North cases, and counts them', async () => {
    const all = await caseIds(tok.admin);
    expect(all.totalCount).toBe(11);
    const r = await caseIds(tok.northManager);
    expect(r.ids).toEqual(new Set([nA1, nA2, nU, nRecalled, nMove].map(cg)));
    expect(r.totalCount).toBe(5);
    // From the other end too.
    const back = await t.gql(tok.northManager, CASES, { last: 100 });
    expect(back.errors).toBeUndefined();
    expect(new Set(back.data.cases.nodes.map((n: { id: string }) => n.id))).toEqual(r.ids);
    expect(back.data.cases.totalCount).toBe(5);
  });

  it('a filter on the South agency or a South collector yields nothing and counts 0', async () => {
    const filters = [
      { agencyId: gid('Agency', s.south.id) },
      { collectorId: gid('User', s.users.southAgent.id) },
      { agencyId: gid('Agency', s.south.id), collectorId: gid('User', s.users.northAgent.id) },
    ];
    const controls = [3, 1, 1];
    for (const [i, filter] of filters.entries()) {
      const control = await caseIds(tok.admin, filter);
      expect(control.totalCount, JSON.stringify(filter)).toBe(controls[i]);
      for (const who of AGENCY_VIEWERS) {
        const r = await caseIds(tok[who], filter);
        expect(r.ids.size, `${who} ${JSON.stringify(filter)}`).toBe(0);
        expect(r.totalCount, `${who} ${JSON.stringify(filter)}`).toBe(0);
      }
    }
  });

  it('stage, status, bucket and days-past-due filters that match South cases return none of them', async () => {
    const filters = [
      { stage: ['FIELD_VISIT'] },
      { status: ['PROMISED'] },
      { bucket: ['M2', 'M3'] },
      { minDaysPastDue: 30, maxDaysPastDue: 100 },
      { stage: ['EARLY_REMINDER', 'FIELD_VISIT'], status: ['OPEN', 'PROMISED'] },
    ];
    const southIds = [sC1, sC2, sStale].map(cg);
    for (const filter of filters) {
      const control = await caseIds(tok.admin, filter);
      expect(southIds.some((id) => control.ids.has(id)), JSON.stringify(filter)).toBe(true);
      for (const who of AGENCY_VIEWERS) {
        const r = await caseIds(tok[who], filter);
        for (const id of southIds) expect(r.ids.has(id), `${who} ${JSON.stringify(filter)}`).toBe(false);
        expect(r.totalCount).toBe(r.ids.size);
      }
    }
  });

  it('search by the South debtor name, phone, exact national ID, or case number finds nothing', async () => {
    for (const search of [SOUTH_NAME, '南方', SOUTH_PHONE, SOUTH_NATIONAL_ID, num(sC1), String(sC1.caseNo), num(sStale)]) {
      const control = await caseIds(tok.admin, { search });
      expect(control.totalCount, search).toBeGreaterThanOrEqual(1);
      for (const who of AGENCY_VIEWERS) {
        const r = await caseIds(tok[who], { search });
        expect(r.ids.size, `${who} ${search}`).toBe(0);
        expect(r.totalCount, `${who} ${search}`).toBe(0);
      }
    }
  });

  it('caseByNumber of a South case is null with no error', async () => {
    const q = `query($n: String!) { caseByNumber(number: $n) { id } }`;
    for (const c of [sC1, sC2, sStale]) {
      expect((await t.gql(tok.admin, q, { n: num(c) })).data.caseByNumber).toEqual({ id: cg(c) });
      for (const who of AGENCY_VIEWERS) {
        const r = await t.gql(tok[who], q, { n: num(c) });
        expect(r.errors).toBeUndefined();
        expect(r.data.caseByNumber, `${who} ${num(c)}`).toBeNull();
      }
    }
  });

  it('viewer.workQueue holds only the agent’s own North cases (not the South case naming them)', async () => {
    const q = `{ viewer { workQueue(first: 100) { totalCount nodes { id } } } }`;
    const r = await t.gql(tok.northAgent, q);
    expect(r.errors).toBeUndefined();
    expect(new Set(r.data.viewer.workQueue.nodes.map((n: { id: string }) => n.id))).toEqual(new Set([nA1, nRecalled, nMove].map(cg)));
    expect(r.data.viewer.workQueue.totalCount).toBe(3);
    const m = await t.gql(tok.northManager, q);
    expect(m.data.viewer.workQueue).toEqual({ totalCount: 0, nodes: [] });
    const sa = await t.gql(tok.southAgent, q); // control: South's agent has sC1 in the queue
    expect(sa.data.viewer.workQueue.nodes.map((n: { id: string }) => n.id)).toEqual([cg(sC1)]);
  });
});

// ---------------------------------------------------------------- agencies and people

describe('agencies and users', () => {
  const AGENCIES = `{ agencies(first: 100) { totalCount nodes { id code name users(first: 100) { totalCount nodes { id email } } } } }`;

  it('agencies shows only North to North, with North’s people only; both to the bank', async () => {
    const admin = await t.gql(tok.admin, AGENCIES);
    expect(admin.data.agencies.totalCount).toBe(2);
    for (const who of AGENCY_VIEWERS) {
      const r = await t.gql(tok[who], AGENCIES);
      expect(r.errors).toBeUndefined();
      expect(r.data.agencies.totalCount).toBe(1);
      expect(r.data.agencies.nodes.map((a: { id: string }) => a.id)).toEqual([gid('Agency', s.north.id)]);
      expect(r.data.agencies.nodes[0].users.totalCount).toBe(3);
      expectNoSouth(r);
    }
  });

  it('viewer.agency is North', async () => {
    const r = await t.gql(tok.northAgent, `{ viewer { role agency { id code } } }`);
    expect(r.data.viewer).toEqual({ role: 'AGENCY_COLLECTOR', agency: { id: gid('Agency', s.north.id), code: 'NORTH' } });
  });

  it('auditEvents is FORBIDDEN to agency roles (the auditor reads it)', async () => {
    const q = `{ auditEvents(first: 10) { totalCount nodes { id } } }`;
    const auditor = await t.gql(tok.auditor, q);
    expect(auditor.errors).toBeUndefined();
    expect(auditor.data.auditEvents.totalCount).toBeGreaterThanOrEqual(1);
    for (const who of AGENCY_VIEWERS) {
      // The count alone (no AuditEvent object is resolved) and the events themselves.
      for (const query of [`{ auditEvents(first: 10) { totalCount } }`, q]) {
        const r = await t.gql(tok[who], query);
        expect(r.errors?.map((e) => e.extensions?.code), query).toEqual(['FORBIDDEN']);
        expect(r.data).toBeNull();
        expectNoSouth(r);
      }
    }
  });
});

// ---------------------------------------------------------------- nested paths

const DEEP = /* GraphQL */ `
  query($id: ID!) {
    node(id: $id) {
      ... on Case {
        id number
        debtor { id fullName contactPoints { id value } addresses { id line1 } }
        account { id cardLast4 }
        assignedAgency { id name users(first: 20) { totalCount nodes { id email agency { id } } } }
        assignedCollector { id email agency { id name } }
        placements(first: 20) { totalCount nodes { id recallNote agency { id name } collector { id email } } }
        timeline(first: 20) { totalCount nodes { id summary actorLabel } }
        holds(first: 20) { totalCount nodes { id note } }
        reminders(first: 20) { totalCount nodes { id renderedMessage contactPoint { id value } } }
        contactAttempts(first: 20) { totalCount nodes { id notes contactPoint { id } } }
        visits(first: 20) {
          totalCount
          nodes {
            id purpose dossier { caseNumber card { creditLimit { minorUnits } } amounts { total { minorUnits } principal { minorUnits } } contactPoints { value } promises { amount { minorUnits } } plans { kind } holds { reason } complaints { category } contactHistory { totalAttempts } }
            address { id }
            consent { id contactAttempt { id } }
            participants { credentialNumber user { id email fullName agency { id name code users(first: 5) { nodes { id email } } } } }
            evidence(first: 20) { nodes { id fileName } }
          }
        }
        evidence(first: 20) { totalCount nodes { id fileName visit { id } } }
        promises(first: 20) { totalCount nodes { id contactAttempt { id } visit { id } } }
        repaymentPlans(first: 20) { totalCount nodes { id instalments { id } } }
        payments(first: 20) { totalCount nodes { id externalReference allocations { instalment { id } promise { id } } } }
      }
    }
  }
`;

describe('nested paths: a North case’s fields never lead to South data', () => {
  it('placements and timeline of the case South held before show none of South’s placement or events', async () => {
    const q = `query($id: ID!) { node(id: $id) { ... on Case {
      placements(first: 100) { totalCount nodes { id agency { id } } }
      timeline(first: 100) { totalCount nodes { id summary } } } } }`;
    const admin = await t.gql(tok.admin, q, { id: cg(nRecalled) });
    expect(admin.data.node.placements.totalCount).toBe(2);
    expect(admin.data.node.placements.nodes.map((p: { id: string }) => p.id)).toContain(gid('Placement', nRecalledSouthEra.placementId));
    expect(admin.data.node.timeline.nodes.map((e: { summary: string }) => e.summary)).toContain('SOUTH-ERA note');
    const adminEvents = admin.data.node.timeline.totalCount;
    for (const who of AGENCY_VIEWERS) {
      const r = await t.gql(tok[who], q, { id: cg(nRecalled) });
      expect(r.errors).toBeUndefined();
      const c = r.data.node;
      expect(c.placements.totalCount).toBe(1);
      expect(c.placements.nodes).toEqual([{ id: expect.any(String), agency: { id: gid('Agency', s.north.id) } }]);
      expect(c.timeline.totalCount).toBe(adminEvents - 1);
      expect(c.timeline.nodes.map((e: { summary: string }) => e.summary)).not.toContain('SOUTH-ERA note');
      // ...and by node(id) neither.
      expect(await node(tok[who], 'Placement', nRecalledSouthEra.placementId)).toBeNull();
      expect(await node(tok[who], 'CaseEvent', nRecalledSouthEra.eventId)).toBeNull();
    }
  });

  it('the visit South made on a case now at North does not lead to South’s people or agency', async () => {
    const q = `query($id: ID!) { node(id: $id) { ... on Case { visits(first: 10) { nodes { id participants { user { id email agency { id name users(first: 100) { nodes { id email } } } } } } } } } }`;
    const admin = await t.gql(tok.admin, q, { id: cg(nRecalled) });
    const adminUsers = admin.data.node.visits.nodes.flatMap((v: any) => v.participants.map((p: any) => p.user?.id));
    expect(adminUsers).toEqual([gid('User', s.users.southAgent.id)]); // control: the participant is South's agent
    const northPeople = new Set([s.users.northManager, s.users.northAgent, s.users.northAgent2].map((u) => gid('User', u.id)));
    for (const who of AGENCY_VIEWERS) {
      const r = await t.gql(tok[who], q, { id: cg(nRecalled) });
      const users = (r.data?.node?.visits?.nodes ?? []).flatMap((v: any) => v.participants.map((p: any) => p.user)).filter(Boolean);
      for (const u of users) expect(northPeople.has(u.id), `${who} reaches ${u.email} through Case.visits.participants.user`).toBe(true);
      expectNoSouth(r);
    }
  });

  it('a deep query over every North case mentions nothing of South', async () => {
    for (const who of AGENCY_VIEWERS) {
      const visible = (await caseIds(tok[who])).ids;
      expect(visible.size).toBeGreaterThan(0);
      for (const id of visible) {
        const r = await t.gql(tok[who], DEEP, { id });
        expect(r.errors, `${who} ${id}`).toBeUndefined();
        expect(r.data.node.id).toBe(id);
        expectNoSouth(r);
      }
    }
  });

  it('the same deep query on the South case, as admin, does carry South data (control for the scan)', async () => {
    const r = await t.gql(tok.admin, DEEP, { id: cg(sC1) });
    expect(r.errors).toBeUndefined();
    const text = JSON.stringify(r);
    for (const m of ['South Recovery', 'south.example', SOUTH_NAME, SOUTH_PHONE, gid('Visit', south.Visit!)]) expect(text).toContain(m);
  });
});

// ---------------------------------------------------------------- collectors see only their own

describe('collectors see only the cases assigned to them', () => {
  it('northAgent sees its own North cases, not northAgent2’s nor unassigned North ones', async () => {
    const r = await caseIds(tok.northAgent);
    expect(r.ids).toEqual(new Set([nA1, nRecalled, nMove].map(cg)));
    expect(r.totalCount).toBe(3);
    for (const c of [nA2, nU]) {
      expect(await node(tok.northManager, 'Case', c.id)).not.toBeNull(); // control: same agency
      expect(await node(tok.northAgent, 'Case', c.id)).toBeNull();
      expect(await node(tok.northAgent, 'Debtor', c.debtorId)).toBeNull();
      expect(await node(tok.northAgent, 'CardAccount', c.accountId)).toBeNull();
      const placement = await t.prisma.placement.findFirstOrThrow({ where: { caseId: c.id } });
      const event = await t.prisma.caseEvent.findFirstOrThrow({ where: { caseId: c.id } });
      expect(await node(tok.northManager, 'Placement', placement.id)).not.toBeNull();
      expect(await node(tok.northAgent, 'Placement', placement.id)).toBeNull();
      expect(await node(tok.northManager, 'CaseEvent', event.id)).not.toBeNull();
      expect(await node(tok.northAgent, 'CaseEvent', event.id)).toBeNull();
      const byNumber = await t.gql(tok.northAgent, `query($n: String!) { caseByNumber(number: $n) { id } }`, { n: num(c) });
      expect(byNumber.data.caseByNumber).toBeNull();
    }
    const byCollector = await caseIds(tok.northAgent, { collectorId: gid('User', s.users.northAgent2.id) });
    expect(byCollector.totalCount).toBe(0);
    expect((await caseIds(tok.northManager, { collectorId: gid('User', s.users.northAgent2.id) })).totalCount).toBe(1);
    const bySearch = await caseIds(tok.northAgent, { search: '北方乙' });
    expect(bySearch.totalCount).toBe(0);
    expect((await caseIds(tok.northManager, { search: '北方乙' })).totalCount).toBe(1);
  });

  it('the bank collector sees only their own cases', async () => {
    const r = await caseIds(tok.collector);
    expect(r.ids).toEqual(new Set([cg(bC1)]));
    expect(r.totalCount).toBe(1);
    for (const c of [bC2, nA1, sC1, uC1]) {
      expect(await node(tok.collector, 'Case', c.id)).toBeNull();
      expect(await node(tok.collector, 'Debtor', c.debtorId)).toBeNull();
    }
    expect(await node(tok.collector2, 'Case', bC2.id)).not.toBeNull();
    for (const [type, id] of Object.entries(south)) {
      if (['Agency', 'User', 'UserManager'].includes(type)) continue; // the bank sees agencies and people
      expect(await node(tok.collector, typeOf(type), id), type).toBeNull();
    }
  });

  it('admin, supervisor and auditor see every case', async () => {
    for (const who of ['admin', 'supervisor', 'auditor'] as const) {
      const r = await caseIds(tok[who]);
      expect(r.totalCount, who).toBe(11);
      expect(r.ids.size).toBe(11);
      for (const c of [sC1, nA2, bC2, uC1]) expect(await node(tok[who], 'Case', c.id), who).not.toBeNull();
    }
  });
});

// ---------------------------------------------------------------- API keys

describe('an agency API key sees what its user sees', () => {
  it('a North manager’s ak_ key lists North only and finds no South record', async () => {
    const secret = 'ak_north-manager-isolation-test-key-000000000';
    await t.prisma.apiKey.create({ data: { name: 'north system', prefix: secret.slice(0, 11), hash: hashApiKey(secret), userId: s.users.northManager.id, persistedOnly: false } });
    const who = await t.gql(secret, `{ viewer { role authMethod } }`);
    expect(who.data.viewer).toEqual({ role: 'AGENCY_MANAGER', authMethod: 'API_KEY' });
    const list = await caseIds(secret);
    expect(list.ids).toEqual(new Set([nA1, nA2, nU, nRecalled, nMove].map(cg)));
    expect((await caseIds(secret, { agencyId: gid('Agency', s.south.id) })).totalCount).toBe(0);
    const r = await t.gql(secret, NODES, { ids: [cg(sC1), gid('Debtor', sC1.debtorId), gid('Agency', s.south.id), gid('User', s.users.southAgent.id)] });
    expect(r.errors).toBeUndefined();
    expect(r.data.nodes).toEqual([null, null, null, null]);
  });
});

// ---------------------------------------------------------------- recall

describe('a case moved from North to South disappears from North at once, by every path', () => {
  it('node, list, count, caseByNumber, search, work queue and child records', async () => {
    const records = Object.entries(nMoveRecords).map(([k, v]) => [typeOf(k), v, k] as const);
    const probe = async (who: 'northManager' | 'northAgent') => {
      const list = await caseIds(tok[who]);
      const byNumber = await t.gql(tok[who], `query($n: String!) { caseByNumber(number: $n) { id } }`, { n: num(nMove) });
      const search = await caseIds(tok[who], { search: '北方戊' });
      const queue = await t.gql(tok[who], `{ viewer { workQueue(first: 100) { totalCount nodes { id } } } }`);
      const nodes = await t.gql(tok[who], NODES, { ids: records.map(([type, id]) => gid(type, id)) });
      expect(nodes.errors).toBeUndefined();
      return {
        inList: list.ids.has(cg(nMove)),
        count: list.totalCount,
        byNumber: byNumber.data.caseByNumber,
        search: search.totalCount,
        inQueue: queue.data.viewer.workQueue.nodes.some((n: { id: string }) => n.id === cg(nMove)),
        queueCount: queue.data.viewer.workQueue.totalCount as number,
        nodes: nodes.data.nodes as ({ id: string } | null)[],
      };
    };

    const before = { northManager: await probe('northManager'), northAgent: await probe('northAgent') };
    for (const who of AGENCY_VIEWERS) {
      const b = before[who];
      expect(b.inList).toBe(true);
      expect(b.byNumber).toEqual({ id: cg(nMove) });
      expect(b.search).toBe(1);
      expect(b.nodes.every((n) => n !== null), `${who} sees every record before: ${JSON.stringify(b.nodes)}`).toBe(true);
    }
    expect(before.northAgent.inQueue).toBe(true);

    await t.prisma.case.update({ where: { id: nMove.id }, data: { assignedAgencyId: s.south.id } });

    try {
      for (const who of AGENCY_VIEWERS) {
        const a = await probe(who);
        const b = before[who];
        expect(a.inList, who).toBe(false);
        expect(a.count, who).toBe(b.count - 1);
        expect(a.byNumber, who).toBeNull();
        expect(a.search, who).toBe(0);
        expect(a.inQueue, who).toBe(false);
        expect(a.nodes, who).toEqual(records.map(() => null));
      }
      expect(before.northAgent.queueCount - 1).toBe((await probe('northAgent')).queueCount);
      // South now has it (its records recorded under North's placement excepted).
      const southSees = await t.gql(tok.southManager, NODE, { id: cg(nMove) });
      expect(southSees.data.node).toEqual({ id: cg(nMove), __typename: 'Case' });
    } finally {
      await t.prisma.case.update({ where: { id: nMove.id }, data: { assignedAgencyId: s.north.id } });
    }
  });
});
