/**
 * Derived records keep their own era (issue 10, point 6): a consent, a correction, a custody
 * entry, an allocation line, an instalment, a visit participant is of the agency that held the
 * case when it was made, not of the record it hangs off. No field leads an agency to a record of
 * another agency's era; where its own record points at one, the link answers null (an allocation
 * line still shows its amount). Each leak below was measured before the fix (issue 10).
 *
 * Every "South cannot see it" is paired with the bank admin seeing it: a null that would be null
 * anyway proves nothing.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../support/app.ts';
import { buildEraWorld, gid, type EraWorld } from './era-world.ts';

let t: TestApp;
let w: EraWorld;
let tok: { admin: string; south: string; southAgent: string; north: string; northAgent2: string };

beforeAll(async () => {
  t = await createTestApp();
  w = await buildEraWorld(t);
  const u = w.s.users;
  tok = {
    admin: await t.token(u.admin),
    south: await t.token(u.southManager),
    southAgent: await t.token(u.southAgent),
    north: await t.token(u.northManager),
    northAgent2: await t.token(u.northAgent2),
  };
}, 120_000);

afterAll(async () => {
  await t?.close();
  if (w) fs.rmSync(w.blobDir, { recursive: true, force: true });
});

const caseOf = (key: string) => w.cases.find((c) => c.key === key)!;
const named = (name: string) => w.named[name]!;

async function gql(token: string, query: string, variables?: Record<string, unknown>) {
  const r = await t.gql(token, query, variables);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data;
}

describe('allocation lines', () => {
  const Q = `query($id: ID!) { node(id: $id) { ... on Case { payments(first: 20) { nodes { id allocations { target amount { minorUnits } promise { id contactAttempt { id } } instalment { id } } } } } } }`;

  it('South’s payment on a case North worked shows the amounts it put on North’s promises and instalments, not the records', async () => {
    const B = caseOf('B');
    const southPayment = gid('Payment', named('B2south.payment').id);
    const northRecords = new Set(w.records.filter((r) => r.caseKey === 'B' && r.era === w.s.north.id).map((r) => gid(r.type, r.id)));

    const admin = (await gql(tok.admin, Q, { id: gid('Case', B.id) })).node.payments.nodes.find((p: any) => p.id === southPayment);
    const toNorth = admin.allocations.filter((a: any) => northRecords.has(a.promise?.id) || northRecords.has(a.instalment?.id));
    expect(toNorth.length).toBeGreaterThan(0); // control: South's money went to North's records
    for (const who of [tok.south, tok.southAgent]) {
      const mine = (await gql(who, Q, { id: gid('Case', B.id) })).node.payments.nodes.find((p: any) => p.id === southPayment);
      // Line for line the same amounts; North's records are simply not there.
      expect(mine.allocations.map((a: any) => [a.target, a.amount.minorUnits])).toEqual(admin.allocations.map((a: any) => [a.target, a.amount.minorUnits]));
      admin.allocations.forEach((a: any, i: number) => {
        const m = mine.allocations[i];
        if (northRecords.has(a.promise?.id)) expect(m.promise).toBeNull();
        else expect(m.promise).toEqual(a.promise && { id: a.promise.id, contactAttempt: northRecords.has(a.promise.contactAttempt?.id) ? null : a.promise.contactAttempt });
        if (northRecords.has(a.instalment?.id)) expect(m.instalment).toBeNull();
        else expect(m.instalment).toEqual(a.instalment);
      });
      const text = JSON.stringify(mine);
      for (const id of northRecords) expect(text).not.toContain(id);
    }
  });

  it('a reversal made while North held the case is not there for South; the bank sees it', async () => {
    const bankPayment = gid('Payment', named('B0bank.payment').id);
    const R = `query($id: ID!) { node(id: $id) { ... on Payment { id amount { minorUnits } reversal { id reason lines { amount { minorUnits } } } } } }`;
    const admin = (await gql(tok.admin, R, { id: bankPayment })).node;
    expect(admin.reversal).toMatchObject({ id: named('B1north.reversal').id, reason: 'ERA-TAG-B1north-reversal' });
    for (const who of [tok.south, tok.southAgent]) {
      const mine = (await gql(who, R, { id: bankPayment })).node;
      expect(mine).toEqual({ ...admin, reversal: null });
    }
  });

  it('a line keeps its payment’s era, and the instalment its plan’s', async () => {
    const lines = await t.prisma.paymentAllocation.findMany({ include: { payment: true, reversal: true } });
    expect(lines.length).toBeGreaterThan(0);
    // A reversal's negative lines are of the reversal's era.
    for (const l of lines) expect(l.agencyId).toBe(l.reversal ? l.reversal.agencyId : l.payment.agencyId);
    expect(lines.some((l) => l.reversal && l.reversal.agencyId !== l.payment.agencyId)).toBe(true);
    const inst = await t.prisma.instalment.findMany({ include: { plan: true } });
    for (const i of inst) expect(i.agencyId).toBe(i.plan.agencyId);
    // node(id) of North's instalment: South gets exactly what a missing id gets.
    const north = gid('Instalment', named('B1north.instalment1').id);
    expect((await gql(tok.admin, `query($id: ID!) { node(id: $id) { id } }`, { id: north })).node).toEqual({ id: north });
    const foreign = await t.gql(tok.south, `query($id: ID!) { node(id: $id) { id __typename } }`, { id: north });
    const missing = await t.gql(tok.south, `query($id: ID!) { node(id: $id) { id __typename } }`, { id: gid('Instalment', randomUUID()) });
    expect(foreign.data).toEqual({ node: null });
    expect(foreign.errors).toEqual(missing.errors);
  });
});

describe('a consent North recorded on a bank-era visit', () => {
  const consentId = () => gid('VisitConsent', named('B1north.consentOnBankVisit').id);
  const bankVisit = () => gid('Visit', named('B0bank.visit').id);

  it('is North’s era (not the visit’s)', async () => {
    const row = await t.prisma.visitConsent.findUniqueOrThrow({ where: { id: named('B1north.consentOnBankVisit').id } });
    expect(row.agencyId).toBe(w.s.north.id);
  });

  it('answers node(id) and nodes(ids) for South exactly as a missing id does; the bank sees it', async () => {
    const NODE = `query($id: ID!) { node(id: $id) { id __typename ... on VisitConsent { contactAttempt { id } } } }`;
    expect((await gql(tok.admin, NODE, { id: consentId() })).node).toMatchObject({ id: consentId(), __typename: 'VisitConsent' });
    for (const who of [tok.south, tok.southAgent]) {
      const foreign = await t.gql(who, NODE, { id: consentId() });
      const missing = await t.gql(who, NODE, { id: gid('VisitConsent', randomUUID()) });
      expect(foreign).toEqual({ ...missing, headers: foreign.headers });
      expect(foreign.data).toEqual({ node: null });
      const many = await gql(who, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [consentId(), bankVisit()] });
      expect(many.nodes).toEqual([null, { id: bankVisit() }]); // the bank-era visit itself is South's to see
    }
  });

  it('the bank-era visit shows South neither the consent, nor North’s contact attempt, nor North’s collectors', async () => {
    const Q = `query($id: ID!) { node(id: $id) { ... on Visit { id status consent { id contactAttempt { id } } participants { user { id email } } } } }`;
    const admin = (await gql(tok.admin, Q, { id: bankVisit() })).node;
    expect(admin.consent).toEqual({ id: consentId(), contactAttempt: { id: gid('ContactAttempt', named('B1north.attempt').id) } });
    expect(admin.participants.map((p: any) => p.user.email).sort()).toEqual(['agent2@north.example', 'agent@north.example']);
    for (const who of [tok.south, tok.southAgent]) {
      const r = await t.gql(who, Q, { id: bankVisit() });
      expect(r.errors).toBeUndefined();
      expect(r.data.node).toMatchObject({ id: bankVisit(), consent: null, participants: [] });
      expect(JSON.stringify(r)).not.toMatch(/north\.example|North Agent/);
    }
  });

  it('South’s own consent on the same case still leads to South’s own contact attempt', async () => {
    const own = gid('VisitConsent', named('B2south.consent').id);
    const r = await gql(tok.south, `query($id: ID!) { node(id: $id) { ... on VisitConsent { contactAttempt { id } } } }`, { id: own });
    expect(r.node.contactAttempt).toEqual({ id: gid('ContactAttempt', named('B2south.attempt').id) });
  });
});

describe('corrections and custody', () => {
  const Q = `query($id: ID!) { node(id: $id) { ... on Evidence { id supersedes { id } supersededBy { id } custody { action detail } } } }`;

  it('a bank-era evidence North corrected: South sees no supersededBy and no custody entry of North’s', async () => {
    const bankEvidence = gid('Evidence', named('B0bank.evidence').id);
    const northCorrection = gid('Evidence', named('B1north.correction').id);
    const admin = (await gql(tok.admin, Q, { id: bankEvidence })).node;
    expect(admin.supersededBy).toEqual({ id: northCorrection });
    expect(admin.custody.map((c: any) => c.action)).toEqual(['UPLOADED', 'SUPERSEDED']);
    expect(admin.custody[1].detail).toContain(named('B1north.correction').id);
    for (const who of [tok.south, tok.southAgent]) {
      const mine = (await gql(who, Q, { id: bankEvidence })).node;
      expect(mine).toEqual({ id: bankEvidence, supersedes: null, supersededBy: null, custody: [admin.custody[0]] });
    }
    const k = await t.prisma.evidenceCustody.findMany({ where: { evidenceId: named('B0bank.evidence').id }, orderBy: { at: 'asc' } });
    expect(k.map((x) => [x.action, x.agencyId])).toEqual([['UPLOADED', null], ['SUPERSEDED', w.s.north.id]]);
  });

  it('a bank-era correction of South’s evidence: North, holding the case again, sees the correction but not what it corrected', async () => {
    const correction = gid('Evidence', named('D3bank.correction').id);
    const southEvidence = gid('Evidence', named('D2south.evidence').id);
    expect((await gql(tok.admin, Q, { id: correction })).node.supersedes).toEqual({ id: southEvidence });
    for (const who of [tok.north, tok.northAgent2]) {
      const r = await t.gql(who, Q, { id: correction });
      expect(r.errors).toBeUndefined();
      expect(r.data.node).toMatchObject({ id: correction, supersedes: null });
      expect(JSON.stringify(r)).not.toContain(named('D2south.evidence').id);
    }
  });
});

describe('the timeline', () => {
  const Q = `query($id: ID!) { node(id: $id) { ... on Case { timeline(first: 100) { nodes { id type data } } } } }`;

  it('a bank-era entry naming South’s evidence shows North the entry, without South’s id', async () => {
    const D = caseOf('D');
    const southEvidence = named('D2south.evidence').id;
    const correction = named('D3bank.correction').id;
    const pick = (nodes: any[]) => nodes.find((e) => e.type === 'EVIDENCE_SUPERSEDED' && e.data.evidenceId === correction);
    const admin = pick((await gql(tok.admin, Q, { id: gid('Case', D.id) })).node.timeline.nodes);
    expect(admin.data).toEqual({ evidenceId: correction, supersedes: southEvidence, kind: 'PROMISE_LETTER' });
    for (const who of [tok.north, tok.northAgent2]) {
      const nodes = (await gql(who, Q, { id: gid('Case', D.id) })).node.timeline.nodes;
      expect(pick(nodes)).toEqual({ ...admin, data: { evidenceId: correction, supersedes: null, kind: 'PROMISE_LETTER' } });
      expect(JSON.stringify(nodes)).not.toContain(southEvidence);
      // North's own entries keep their ids (control: only another era's ids go).
      const own = nodes.find((e: any) => e.type === 'EVIDENCE_SUPERSEDED' && e.data.evidenceId === named('D1north.correction').id);
      expect(own.data.supersedes).toBe(named('D0bank.evidence').id);
    }
  });
});

describe('page cursors', () => {
  const cursor = (id: string) => Buffer.from(`GPC:S:${id}`).toString('base64');
  const Q = `query($id: ID!, $after: String) { node(id: $id) { ... on Case { contactAttempts(first: 3, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } nodes { id } } } } }`;

  it('a cursor naming North’s contact attempt pages nothing for South: the same empty page as a cursor of no record at all', async () => {
    const B = gid('Case', caseOf('B').id);
    const north = named('B1north.attempt').id;
    // Control: the bank pages from it.
    expect((await gql(tok.admin, Q, { id: B, after: cursor(north) })).node.contactAttempts.nodes.length).toBeGreaterThan(0);
    for (const who of [tok.south, tok.southAgent]) {
      const foreign = await t.gql(who, Q, { id: B, after: cursor(north) });
      const missing = await t.gql(who, Q, { id: B, after: cursor(randomUUID()) });
      const strip = (r: typeof foreign) => ({ data: r.data, errors: r.errors?.map((e) => ({ ...e, extensions: { ...e.extensions, requestId: null } })) });
      expect(strip(foreign)).toEqual(strip(missing));
      expect(foreign.errors).toBeUndefined();
      expect(foreign.data.node.contactAttempts.nodes).toEqual([]);
      // South's own record is a cursor like any other.
      const own = await gql(who, Q, { id: B, after: cursor(named('B2south.attempt').id) });
      expect(own.node.contactAttempts.totalCount).toBeGreaterThan(0);
    }
  });
});
