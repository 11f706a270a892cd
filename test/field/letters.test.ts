// Issue 13, point 6: letters. The active LETTER template (zh-CN, en) rendered to PDF with the
// Chinese font embedded, kept as evidence with its SHA-256, with a dispatch record and a LETTER
// contact attempt; the amount and the deadline as the SMS states them. The PDF's text is
// extracted (unpdf) and compared with the case.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { extractText, getDocumentProxy } from 'unpdf';
import { createEvidenceTestApp, type EvidenceTestApp } from '../evidence/support.ts';
import { createCase, createPeople, type Scenario, type ScenarioUser } from '../support/scenario.ts';
import { DEFAULT_TEMPLATES, ensureDefaultTemplates, renderMessage, templateVars } from '../../src/modules/contact/templates.ts';
import { sdkAs, squash } from './support.ts';

let e: EvidenceTestApp;
let s: Scenario;
const gid = (type: string, id: string) => encodeGlobalID(type, id);

beforeAll(async () => {
  e = await createEvidenceTestApp();
  s = await createPeople(e.t.prisma);
  await ensureDefaultTemplates(e.t.prisma);
});
afterAll(async () => e?.close());

const LETTER = `id status templateKey templateVersion language text amount { minorUnits currency formatted } deadline sha256 dispatchedAt
  address { id line1 } evidence { id kind sha256 sizeBytes contentType fileName downloadUrl }`;
const SEND = `mutation($input: SendLetterInput!) { sendLetter(input: $input) { letter { ${LETTER} } case { id version } userErrors { code field message } } }`;

async function send(user: ScenarioUser, input: Record<string, unknown>) {
  const r = await e.gql(await e.t.token(user), SEND, { input });
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data.sendLetter;
}

async function pdfText(bytes: Uint8Array): Promise<string> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(bytes)), { mergePages: true });
  return text as unknown as string;
}

async function northCase(spec: Partial<Parameters<typeof createCase>[2]> = {}) {
  const row = await createCase(e.t.prisma, e.t.pii, { now: e.t.clock.now(), agencyId: s.north.id, collectorId: s.users.northAgent.id, principal: 1_000_000n, ...spec });
  const debtor = await e.t.prisma.debtor.findUniqueOrThrow({ where: { id: row.debtorId }, include: { addresses: true } });
  return { row, id: gid('Case', row.id), addressId: gid('Address', debtor.addresses[0]!.id), address: debtor.addresses[0]! };
}

/** What the SMS sent at the same instant states: the same variables (templates.ts). */
async function smsFacts(caseId: string) {
  const c = await e.t.prisma.case.findUniqueOrThrow({ where: { id: caseId }, include: { debtor: true, account: true } });
  const vars = templateVars({ debtor: c.debtor, case: c, account: c.account, at: e.t.clock.now() });
  const body = DEFAULT_TEMPLATES.find((t) => t.key === 'overdue-notice' && t.channel === 'SMS' && t.language === c.debtor.language)!.body;
  return { vars, sms: renderMessage({ body, channel: 'SMS', language: c.debtor.language, optOutLineRequired: false, vars }) };
}

describe('sendLetter', () => {
  it('zh-CN: renders the PDF with the amount and deadline of the SMS, keeps it as evidence with its SHA-256, records the dispatch', async () => {
    e.t.clock.set('2026-11-28T02:00:00.000Z');
    const c = await northCase({ debtorName: '李四' });
    const p = await send(s.users.northAgent, { caseId: c.id, addressId: c.addressId });
    expect(p.userErrors).toEqual([]);
    const letter = p.letter;
    const { vars, sms } = await smsFacts(c.row.id);
    expect(vars.amount).toBe('¥10,173.45');
    expect(vars.deadline).toBe('2026年12月5日');
    expect(sms).toContain(vars.amount);
    expect(sms).toContain(vars.deadline);
    expect(letter).toMatchObject({ status: 'DISPATCHED', templateKey: 'overdue-letter', templateVersion: 1, language: 'ZH_CN', deadline: '2026-12-05', amount: { minorUnits: 1_017_345, currency: 'CNY' }, address: { id: c.addressId } });
    expect(letter.evidence).toMatchObject({ kind: 'LETTER', contentType: 'application/pdf', sha256: letter.sha256 });

    // The bytes through the signed download link: their hash is the one recorded.
    const res = await e.download(letter.evidence.downloadUrl);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(letter.sha256);
    expect(bytes.length).toBe(letter.evidence.sizeBytes);
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-');

    const text = squash(await pdfText(bytes));
    for (const expected of ['信用卡逾期还款通知书', '尊敬的李四', vars.amount, vars.deadline, vars.caseNumber, `尾号${vars.cardLast4}`, c.address.line1, '示例银行信用卡中心', '2026年11月28日']) {
      expect(text, expected).toContain(squash(expected));
    }
    expect(squash(letter.text)).toContain(squash(vars.amount));

    const row = await e.t.prisma.letterDispatch.findFirstOrThrow({ where: { caseId: c.row.id } });
    expect(row.sha256).toBe(letter.sha256);
    expect(row).toMatchObject({ agencyId: s.north.id, dispatchedById: s.users.northAgent.id, amount: 1_017_345n });
    const attempt = await e.t.prisma.contactAttempt.findUniqueOrThrow({ where: { id: row.contactAttemptId! } });
    expect(attempt).toMatchObject({ channel: 'LETTER', outcome: 'SENT', status: 'COMPLETED', contactPointId: null });
    expect(await e.t.prisma.caseEvent.count({ where: { caseId: c.row.id, type: 'LETTER_SENT' } })).toBe(1);
    expect(await e.t.prisma.evidenceCustody.count({ where: { evidenceId: row.evidenceId, action: 'UPLOADED' } })).toBe(1);
    expect(await e.t.prisma.auditEvent.count({ where: { caseId: c.row.id, action: 'letter.send' } })).toBe(1);
  });

  it('en: a US debtor gets the English letter, in dollars, the deadline counted in their zone', async () => {
    e.t.clock.set('2026-11-28T15:00:00.000Z'); // 10:00 in New York
    const c = await northCase({ currency: 'USD', debtorName: 'John Smith' });
    await e.t.prisma.debtor.update({ where: { id: c.row.debtorId }, data: { language: 'EN', jurisdiction: 'US', timeZone: 'America/New_York' } });
    const p = await send(s.users.northManager, { caseId: c.id, addressId: c.addressId });
    expect(p.userErrors).toEqual([]);
    const { vars, sms } = await smsFacts(c.row.id);
    expect(vars.amount).toBe('$10,173.45');
    expect(sms).toContain(`Please pay by ${vars.deadline}.`);
    expect(p.letter).toMatchObject({ language: 'EN', deadline: '2026-12-05', amount: { currency: 'USD' } });
    const bytes = new Uint8Array(await (await e.download(p.letter.evidence.downloadUrl)).arrayBuffer());
    const text = squash(await pdfText(bytes));
    for (const expected of ['Notice of overdue credit card balance', 'Dear John Smith', `the overdue amount is ${vars.amount}`, `Please pay by ${vars.deadline}`, vars.caseNumber, 'Arrears Demo Bank Card Services', 'November 28, 2026']) {
      expect(text, expected).toContain(squash(expected));
    }
  });

  it('renders the active version of the template, and records which', async () => {
    e.t.clock.set('2026-11-28T02:00:00.000Z');
    const base = DEFAULT_TEMPLATES.find((t) => t.key === 'overdue-letter' && t.language === 'ZH_CN')!.body;
    const v = await e.t.prisma.messageTemplateVersion.create({ data: { key: 'overdue-letter', channel: 'LETTER', language: 'ZH_CN', version: 2, body: base.replace('信用卡逾期还款通知书', '逾期还款催告函'), createdAt: e.t.clock.now() } });
    const admin = sdkAs(e.t, s.users.admin, e.app);
    await admin.activateMessageTemplateVersion({ input: { templateVersionId: gid('MessageTemplateVersion', v.id), reason: 'new title' } });
    const c = await northCase();
    const p = await send(s.users.northAgent, { caseId: c.id, addressId: c.addressId });
    expect(p.letter.templateVersion).toBe(2);
    const text = squash(await pdfText(new Uint8Array(await (await e.download(p.letter.evidence.downloadUrl)).arrayBuffer())));
    expect(text).toContain('逾期还款催告函');
    await admin.activateMessageTemplateVersion({ input: { templateVersionId: gid('MessageTemplateVersion', (await e.t.prisma.messageTemplateVersion.findFirstOrThrow({ where: { key: 'overdue-letter', language: 'ZH_CN', version: 1 } })).id), reason: 'back to v1' } });
  });
});

describe('refusals change nothing', () => {
  async function nothingChanged(caseId: string, run: () => Promise<any>, code: string, field?: string) {
    const count = async () => ({
      letters: await e.t.prisma.letterDispatch.count({ where: { caseId } }),
      evidence: await e.t.prisma.evidence.count({ where: { caseId } }),
      attempts: await e.t.prisma.contactAttempt.count({ where: { caseId } }),
      events: await e.t.prisma.caseEvent.count({ where: { caseId } }),
      blobs: e.files().blobs.length,
      staging: e.files().staging.length,
    });
    const before = await count();
    const p = await run();
    expect(p.userErrors).toEqual([expect.objectContaining({ code, ...(field ? { field: [field] } : {}) })]);
    expect(await count()).toEqual(before);
  }

  it('the contact policy: cease contact, a hold', async () => {
    e.t.clock.set('2026-11-28T02:00:00.000Z');
    const c = await northCase();
    await e.t.prisma.debtor.update({ where: { id: c.row.debtorId }, data: { ceaseContact: true, ceaseContactAt: e.t.clock.now() } });
    await nothingChanged(c.row.id, () => send(s.users.northAgent, { caseId: c.id, addressId: c.addressId }), 'DO_NOT_CONTACT');
    const d = await northCase();
    await e.t.prisma.hold.create({ data: { caseId: d.row.id, reason: 'DISPUTE', startsAt: e.t.clock.now() } });
    await nothingChanged(d.row.id, () => send(s.users.northAgent, { caseId: d.id, addressId: d.addressId }), 'ON_HOLD');
  });

  it('the address: moved away, another debtor’s; an attacker: another agency, the auditor', async () => {
    const c = await northCase();
    const other = await northCase();
    await e.t.prisma.address.update({ where: { id: c.address.id }, data: { movedAwayAt: e.t.clock.now(), movedAwayNote: 'returned mail' } });
    await nothingChanged(c.row.id, () => send(s.users.northAgent, { caseId: c.id, addressId: c.addressId }), 'VALIDATION', 'addressId');
    await nothingChanged(c.row.id, () => send(s.users.northAgent, { caseId: c.id, addressId: other.addressId }), 'NOT_FOUND', 'addressId');
    await nothingChanged(other.row.id, () => send(s.users.southManager, { caseId: other.id, addressId: other.addressId }), 'NOT_FOUND', 'caseId');
    const r = await e.gql(await e.t.token(s.users.auditor), SEND, { input: { caseId: other.id, addressId: other.addressId } });
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await nothingChanged(other.row.id, () => send(s.users.northAgent, { caseId: other.id, addressId: other.addressId, templateKey: 'overdue-notice' }), 'VALIDATION', 'templateKey');
  });
});

describe('idempotency and the SDK', () => {
  it('the same key sends once; the key with another request is DUPLICATE; the SDK lists the case’s letters, South sees none', async () => {
    const c = await northCase();
    const agent = sdkAs(e.t, s.users.northAgent, e.app);
    const a = await agent.sendLetter({ input: { caseId: c.id, addressId: c.addressId, idempotencyKey: 'letter-key-0001' } });
    const b = await agent.sendLetter({ input: { caseId: c.id, addressId: c.addressId, idempotencyKey: 'letter-key-0001' } });
    expect(a.sendLetter.userErrors).toEqual([]);
    expect(b.sendLetter.letter?.id).toBe(a.sendLetter.letter?.id);
    expect(await e.t.prisma.letterDispatch.count({ where: { caseId: c.row.id } })).toBe(1);
    const dup = await agent.sendLetter({ input: { caseId: c.id, addressId: c.addressId, templateKey: 'other-letter', idempotencyKey: 'letter-key-0001' } }, { throwOnUserErrors: false });
    expect(dup.sendLetter.userErrors[0]?.code).toBe('DUPLICATE');
    const list = await agent.caseLetters({ id: c.id });
    const letters = list.node && 'letters' in list.node ? list.node.letters : null;
    expect(letters?.totalCount).toBe(1);
    expect(letters?.nodes[0]?.sha256).toBe(a.sendLetter.letter?.sha256);
    const south = await e.gql(await e.t.token(s.users.southManager), `query($id: ID!) { node(id: $id) { id } }`, { id: a.sendLetter.letter!.id });
    expect(south.data.node).toBeNull();
  });
});
