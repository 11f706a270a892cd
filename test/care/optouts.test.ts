/**
 * Issue 13, point 1: opt-outs and contact preferences, over HTTP and through the SDK, and the
 * signed inbound-SMS webhook (STOP, 退订, TD…). Every rule has a test that fails without it:
 * the contact policy honours what is set at once, only the bank clears, agencies never reach
 * another agency's debtor, every change is audited with before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/modules/contact/providers.ts';
import { INBOUND_SMS_PATH, numberForms, optOutKeyword } from '../../src/modules/care/inbound.ts';
import { createCareWorld, gid, refusedWith, SMS_SECRET, type CareWorld } from './support.ts';

let w: CareWorld;
beforeAll(async () => {
  w = await createCareWorld();
});
afterAll(async () => w?.close());

const ERR = 'userErrors { code field message }';
const OPT = 'id kind channel source reason active setAt clearedAt clearReason inboundText';
const SET_DNC = `mutation($input: SetDoNotContactInput!) { setDoNotContact(input: $input) { optOut { ${OPT} } contactPoint { id doNotContact doNotContactReason } ${ERR} } }`;
const CLEAR_DNC = `mutation($input: ClearDoNotContactInput!) { clearDoNotContact(input: $input) { contactPoint { id doNotContact doNotContactReason } ${ERR} } }`;
const SET_CEASE = `mutation($input: SetCeaseContactInput!) { setCeaseContact(input: $input) { optOut { ${OPT} } debtor { id ceaseContact } ${ERR} } }`;
const CLEAR_CEASE = `mutation($input: ClearCeaseContactInput!) { clearCeaseContact(input: $input) { debtor { id ceaseContact } ${ERR} } }`;
const PREFS = `mutation($input: SetContactPreferencesInput!) { setContactPreferences(input: $input) { debtor { id preferredChannel preferredContactHours { start end } } ${ERR} } }`;
const PERMISSION = `query($caseId: ID!, $channel: ContactChannel!, $cp: ID!) { contactPermission(caseId: $caseId, channel: $channel, contactPointId: $cp) { allowed rule } }`;
const TIMELINE = `query($id: ID!) { case(id: $id) { timeline(first: 30) { nodes { type summary actorLabel data } } } }`;

const permission = async (c: { gid: string; contactPointGid: string }, channel = 'SMS', who: any = 'admin') =>
  (await w.gql(who, PERMISSION, { caseId: c.gid, channel, cp: c.contactPointGid })).data.contactPermission;

describe('do-not-contact', () => {
  it('an agency collector records it on its own case: in force at once, on the timeline, audited with before and after', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    expect((await permission(c)).allowed).toBe(true);
    const r = await w.gql('northAgent', SET_DNC, { input: { contactPointId: c.contactPointGid, reason: '请不要再打这个电话', source: 'CALL' } });
    expect(r.data.setDoNotContact.userErrors).toEqual([]);
    expect(r.data.setDoNotContact.contactPoint).toMatchObject({ doNotContact: true, doNotContactReason: '请不要再打这个电话' });
    expect(r.data.setDoNotContact.optOut).toMatchObject({ kind: 'DO_NOT_CONTACT', channel: null, source: 'CALL', active: true });
    for (const channel of ['SMS', 'CALL']) expect(await permission(c, channel)).toEqual({ allowed: false, rule: 'DO_NOT_CONTACT' });
    // A reminder scheduled now is refused by the policy.
    const reminder = await w.gql('northAgent', `mutation($input: ScheduleReminderInput!) { scheduleReminder(input: $input) { reminder { status blockedRule } ${ERR} } }`, {
      input: { caseId: c.gid, contactPointId: c.contactPointGid, channel: 'SMS', templateKey: 'overdue-notice', scheduledAt: w.t.clock.now().toISOString(), idempotencyKey: `care-rem-${c.id}` },
    });
    expect(reminder.data.scheduleReminder.userErrors.map((e: any) => e.code)).toEqual(['DO_NOT_CONTACT']);
    const timeline = (await w.gql('northAgent', TIMELINE, { id: c.gid })).data.case.timeline.nodes;
    expect(timeline.find((e: any) => e.type === 'DO_NOT_CONTACT_SET')).toMatchObject({ actorLabel: 'North Agent' });
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'contact.doNotContact.set', entityId: c.contactPointId } });
    expect(audit.data).toMatchObject({ before: { doNotContact: false, doNotContactReason: null }, after: { doNotContact: true }, source: 'CALL', cases: [c.id] });
    expect(audit.reason).toBe('请不要再打这个电话');
    expect(audit.actorId).toBe(w.s.users.northAgent.id);
  });

  it('refuses: another agency’s contact point (NOT_FOUND), the auditor (FORBIDDEN), a channel the point cannot carry, no reason, twice', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    refusedWith((await w.gql('southManager', SET_DNC, { input: { contactPointId: c.contactPointGid, reason: 'x', source: 'CALL' } })).data.setDoNotContact, 'NOT_FOUND', ['contactPointId']);
    refusedWith((await w.gql('northAgent2', SET_DNC, { input: { contactPointId: c.contactPointGid, reason: 'x', source: 'CALL' } })).data.setDoNotContact, 'NOT_FOUND', ['contactPointId']);
    expect((await w.gql('auditor', SET_DNC, { input: { contactPointId: c.contactPointGid, reason: 'x', source: 'CALL' } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    refusedWith((await w.gql('northAgent', SET_DNC, { input: { contactPointId: c.contactPointGid, channel: 'EMAIL', reason: 'x', source: 'CALL' } })).data.setDoNotContact, 'VALIDATION', ['channel']);
    refusedWith((await w.gql('northAgent', SET_DNC, { input: { contactPointId: c.contactPointGid, reason: '  ', source: 'CALL' } })).data.setDoNotContact, 'VALIDATION', ['reason']);
    expect(await w.t.prisma.contactOptOut.count({ where: { contactPointId: c.contactPointId } })).toBe(0);
    expect((await w.t.prisma.contactPoint.findUniqueOrThrow({ where: { id: c.contactPointId } })).doNotContact).toBe(false);
    expect((await w.gql('northAgent', SET_DNC, { input: { contactPointId: c.contactPointGid, channel: 'SMS', reason: 'no texts', source: 'CALL' } })).data.setDoNotContact.userErrors).toEqual([]);
    refusedWith((await w.gql('northAgent', SET_DNC, { input: { contactPointId: c.contactPointGid, channel: 'SMS', reason: 'again', source: 'CALL' } })).data.setDoNotContact, 'INVALID_TRANSITION');
  });

  it('only bank supervisors and admins clear, with a reason; clearing one channel keeps the other', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    for (const channel of ['SMS', 'CALL']) await w.gql('northAgent', SET_DNC, { input: { contactPointId: c.contactPointGid, channel, reason: `no ${channel}`, source: 'LETTER' } });
    for (const who of ['northManager', 'northAgent', 'collector', 'auditor'] as const) {
      expect((await w.gql(who, CLEAR_DNC, { input: { contactPointId: c.contactPointGid, reason: 'consent renewed' } })).errors?.[0]?.extensions?.code, who).toBe('FORBIDDEN');
    }
    const sms = await w.gql('supervisor', CLEAR_DNC, { input: { contactPointId: c.contactPointGid, channel: 'SMS', reason: 'the debtor asked for texts again, in writing' } });
    expect(sms.data.clearDoNotContact.userErrors).toEqual([]);
    expect(sms.data.clearDoNotContact.contactPoint).toMatchObject({ doNotContact: true, doNotContactReason: 'no CALL' });
    expect((await permission(c, 'SMS')).rule).toBe('DO_NOT_CONTACT');
    refusedWith((await w.gql('supervisor', CLEAR_DNC, { input: { contactPointId: c.contactPointGid, channel: 'SMS', reason: 'again' } })).data.clearDoNotContact, 'INVALID_TRANSITION');
    const all = await w.gql('admin', CLEAR_DNC, { input: { contactPointId: c.contactPointGid, reason: 'consent renewed by phone, recorded' } });
    expect(all.data.clearDoNotContact.contactPoint).toMatchObject({ doNotContact: false, doNotContactReason: null });
    expect((await permission(c, 'SMS')).allowed).toBe(true);
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'contact.doNotContact.clear', entityId: c.contactPointId, actorId: w.s.users.admin.id } });
    expect(audit.data).toMatchObject({ before: { doNotContact: true }, after: { doNotContact: false } });
    expect(audit.reason).toBe('consent renewed by phone, recorded');
  });

  it('a wrong number stays marked when an opt-out of it is cleared', async () => {
    const c = await w.newCase({ collector: 'collector' });
    await w.gql('collector', SET_DNC, { input: { contactPointId: c.contactPointGid, reason: 'stop', source: 'CALL' } });
    await w.t.prisma.contactPoint.update({ where: { id: c.contactPointId }, data: { wrongNumberAt: w.t.clock.now() } });
    const r = await w.gql('supervisor', CLEAR_DNC, { input: { contactPointId: c.contactPointGid, reason: 'consent renewed' } });
    expect(r.data.clearDoNotContact.contactPoint.doNotContact).toBe(true);
  });

  it('another agency’s case of the same debtor gets the entry too, naming no one and no record of the other era', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const debtorCase = await w.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } });
    const account = await w.t.prisma.cardAccount.create({ data: { externalRef: `ACCT-CARE-${c.id}`, debtorId: c.debtorId, cardLast4: '9999', product: 'Gold', creditLimit: 100_000n, currency: 'CNY' } });
    const other = await w.t.prisma.case.create({
      data: { accountId: account.id, debtorId: c.debtorId, currency: 'CNY', principal: 1n, interest: 0n, fees: 0n, overdueTotal: 1n, dueDate: debtorCase.dueDate, assignedAgencyId: w.s.south.id, assignedCollectorId: w.s.users.southAgent.id, openedAt: w.t.clock.now() },
    });
    await w.gql('northAgent', SET_DNC, { input: { contactPointId: c.contactPointGid, reason: 'stop', source: 'CALL' } });
    const seen = (await w.gql('southManager', TIMELINE, { id: gid('Case', other.id) })).data.case.timeline.nodes;
    expect(seen[0]).toMatchObject({ type: 'DO_NOT_CONTACT_SET', actorLabel: 'bank' });
    expect(seen[0].data.optOutId).toBeNull(); // North's record: not there for South
    expect(seen[0].data.contactPointId).toBe(c.contactPointId);
    // South sees the flag on the debtor, but not North's opt-out record.
    const debtor = (await w.gql('southManager', `query($id: ID!) { node(id: $id) { ... on Debtor { optOuts { id } contactPoints { doNotContact optOuts { id } } } } }`, { id: c.debtorGid })).data.node;
    expect(debtor.contactPoints[0].doNotContact).toBe(true);
    expect(debtor.optOuts).toEqual([]);
    expect(debtor.contactPoints[0].optOuts).toEqual([]);
    const optOut = await w.t.prisma.contactOptOut.findFirstOrThrow({ where: { contactPointId: c.contactPointId } });
    expect((await w.gql('southManager', `query($id: ID!) { node(id: $id) { id } }`, { id: gid('ContactOptOut', optOut.id) })).data.node).toBeNull();
    expect((await w.gql('northManager', `query($id: ID!) { node(id: $id) { id } }`, { id: gid('ContactOptOut', optOut.id) })).data.node).not.toBeNull();
  });
});

describe('cease contact', () => {
  it('stops every channel on every case; only the bank’s supervisors and admins lift it', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    refusedWith((await w.gql('southAgent', SET_CEASE, { input: { debtorId: c.debtorGid, reason: 'x', source: 'LETTER' } })).data.setCeaseContact, 'NOT_FOUND', ['debtorId']);
    const r = await w.gql('northAgent', SET_CEASE, { input: { debtorId: c.debtorGid, reason: 'Letter of 2026-11-27: cease all contact', source: 'LETTER' } });
    expect(r.data.setCeaseContact.userErrors).toEqual([]);
    expect(r.data.setCeaseContact.debtor.ceaseContact).toBe(true);
    for (const channel of ['SMS', 'CALL']) expect(await permission(c, channel)).toEqual({ allowed: false, rule: 'CEASE_CONTACT' });
    refusedWith((await w.gql('northAgent', SET_CEASE, { input: { debtorId: c.debtorGid, reason: 'again', source: 'LETTER' } })).data.setCeaseContact, 'INVALID_TRANSITION');
    for (const who of ['northManager', 'collector', 'auditor'] as const) {
      expect((await w.gql(who, CLEAR_CEASE, { input: { debtorId: c.debtorGid, reason: 'x' } })).errors?.[0]?.extensions?.code, who).toBe('FORBIDDEN');
    }
    refusedWith((await w.gql('supervisor', CLEAR_CEASE, { input: { debtorId: c.debtorGid, reason: '' } })).data.clearCeaseContact, 'VALIDATION', ['reason']);
    const cleared = await w.gql('supervisor', CLEAR_CEASE, { input: { debtorId: c.debtorGid, reason: 'The debtor withdrew the request in writing' } });
    expect(cleared.data.clearCeaseContact.debtor.ceaseContact).toBe(false);
    expect((await permission(c, 'CALL')).allowed).toBe(true);
    const audits = await w.t.prisma.auditEvent.findMany({ where: { entityId: c.debtorId, action: { startsWith: 'contact.cease' } }, orderBy: { id: 'asc' } });
    expect(audits.map((a) => [a.action, (a.data as any).before.ceaseContact, (a.data as any).after.ceaseContact])).toEqual([
      ['contact.cease.set', false, true],
      ['contact.cease.clear', true, false],
    ]);
    const rows = await w.t.prisma.contactOptOut.findMany({ where: { debtorId: c.debtorId, kind: 'CEASE_CONTACT' } });
    expect(rows.map((o) => [o.source, o.agencyId, o.clearedAt !== null, o.clearReason])).toEqual([['LETTER', w.s.north.id, true, 'The debtor withdrew the request in writing']]);
  });
});

describe('cease contact in the US', () => {
  it('is a written request (LETTER or EMAIL); a spoken one is refused, to be recorded as do-not-contact', async () => {
    const c = await w.newCase({ collector: 'collector' });
    await w.t.prisma.debtor.update({ where: { id: c.debtorId }, data: { jurisdiction: 'US', timeZone: 'America/New_York' } });
    refusedWith((await w.gql('collector', SET_CEASE, { input: { debtorId: c.debtorGid, reason: 'said so on the phone', source: 'CALL' } })).data.setCeaseContact, 'VALIDATION', ['source']);
    expect((await w.gql('collector', SET_CEASE, { input: { debtorId: c.debtorGid, reason: 'e-mail of 2026-11-27', source: 'EMAIL' } })).data.setCeaseContact.debtor.ceaseContact).toBe(true);
  });
});

describe('contact preferences', () => {
  it('a channel and hours inside the policy’s contact hours; both ends or neither; audited with before and after', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const ok = await w.gql('northAgent', PREFS, { input: { debtorId: c.debtorGid, preferredChannel: 'SMS', preferredHoursStart: '09:00', preferredHoursEnd: '18:30' } });
    expect(ok.data.setContactPreferences.debtor).toMatchObject({ preferredChannel: 'SMS', preferredContactHours: { start: '09:00', end: '18:30' } });
    // CN contact hours are 08:00–22:00: 07:30 and 22:30 lie outside; 08:00 and 22:00 are the bounds.
    refusedWith((await w.gql('northAgent', PREFS, { input: { debtorId: c.debtorGid, preferredHoursStart: '07:30', preferredHoursEnd: '12:00' } })).data.setContactPreferences, 'VALIDATION', ['preferredHoursStart']);
    refusedWith((await w.gql('northAgent', PREFS, { input: { debtorId: c.debtorGid, preferredHoursStart: '12:00', preferredHoursEnd: '22:30' } })).data.setContactPreferences, 'VALIDATION', ['preferredHoursStart']);
    expect((await w.gql('northAgent', PREFS, { input: { debtorId: c.debtorGid, preferredHoursStart: '08:00', preferredHoursEnd: '22:00' } })).data.setContactPreferences.userErrors).toEqual([]);
    refusedWith((await w.gql('northAgent', PREFS, { input: { debtorId: c.debtorGid, preferredHoursStart: '12:00' } })).data.setContactPreferences, 'VALIDATION', ['preferredHoursEnd']);
    refusedWith((await w.gql('northAgent', PREFS, { input: { debtorId: c.debtorGid, preferredHoursStart: '18:00', preferredHoursEnd: '09:00' } })).data.setContactPreferences, 'VALIDATION', ['preferredHoursEnd']);
    refusedWith((await w.gql('northAgent', PREFS, { input: { debtorId: c.debtorGid, preferredHoursStart: '9am', preferredHoursEnd: '18:00' } })).data.setContactPreferences, 'VALIDATION', ['preferredHoursStart']);
    refusedWith((await w.gql('southAgent', PREFS, { input: { debtorId: c.debtorGid, preferredChannel: 'CALL' } })).data.setContactPreferences, 'NOT_FOUND', ['debtorId']);
    const audits = await w.t.prisma.auditEvent.findMany({ where: { entityId: c.debtorId, action: 'contact.preferences.set' }, orderBy: { id: 'asc' } });
    expect(audits).toHaveLength(2);
    expect(audits[1]!.data).toMatchObject({ before: { preferredChannel: 'SMS', preferredContactFrom: 540, preferredContactTo: 1110 }, after: { preferredChannel: null, preferredContactFrom: 480, preferredContactTo: 1320 } });
  });
});

// ---------------------------------------------------------------- the gateway's replies

function signed(body: object, secret = SMS_SECRET, at = w.t.clock.now()) {
  const raw = JSON.stringify(body);
  const ts = String(Math.floor(at.getTime() / 1000));
  return { raw, headers: { 'x-arrears-timestamp': ts, 'x-arrears-signature': signWebhook(secret, ts, raw) } };
}
let msg = 0;
async function reply(from: string, text: string, id = `gw-in-${++msg}`) {
  const { raw, headers } = signed({ providerMessageId: id, from, text, at: w.t.clock.now().toISOString() });
  const res = await w.post(INBOUND_SMS_PATH, raw, headers);
  return { status: res.status, body: (await res.json()) as any };
}

describe('inbound SMS replies (signed like the delivery receipts)', () => {
  it('recognises the opt-out keywords, whole replies only, whatever the case or punctuation', () => {
    for (const t of ['STOP', ' stop! ', 'Unsubscribe', '退订', 'TD', 'td', 'T', '退订。', 'StopAll', 'CANCEL', 'quit', 'END', 'REVOKE', 'opt-out']) expect(optOutKeyword(t), t).not.toBeNull();
    for (const t of ['', 'START', 'please stop calling me at night', 'I will pay tomorrow', '好的', 'STOPP', 'HELP']) expect(optOutKeyword(t), t).toBeNull();
    expect(numberForms('+8613800001234')).toEqual(expect.arrayContaining(['13800001234', '+8613800001234']));
    expect(numberForms('+12125551234')).toEqual(expect.arrayContaining(['2125551234', '+12125551234']));
    expect(numberForms('13800001234')).toEqual(expect.arrayContaining(['13800001234', '+8613800001234']));
  });

  it('退订 from the debtor’s number sets do-not-contact by SMS at once: recorded, audited, on the timeline; a repeat changes nothing', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const r = await reply(`+86${c.phone}`, '退订', 'gw-in-tuiding');
    expect(r).toEqual({ status: 200, body: { ok: true, inboundMessageId: expect.any(String), keyword: '退订', optedOut: 1, changed: true } });
    expect(await permission(c, 'SMS')).toEqual({ allowed: false, rule: 'DO_NOT_CONTACT' });
    const read = (await w.gql('northAgent', `query($id: ID!) { node(id: $id) { ... on Debtor { contactPoints { doNotContact optOuts { ${OPT} } } } } }`, { id: c.debtorGid })).data.node;
    expect(read.contactPoints[0].doNotContact).toBe(true);
    expect(read.contactPoints[0].optOuts).toEqual([expect.objectContaining({ kind: 'DO_NOT_CONTACT', channel: 'SMS', source: 'SMS_REPLY', active: true, inboundText: '退订' })]);
    const timeline = (await w.gql('northAgent', TIMELINE, { id: c.gid })).data.case.timeline.nodes;
    expect(timeline[0]).toMatchObject({ type: 'DO_NOT_CONTACT_SET', actorLabel: 'system' });
    expect(await w.t.prisma.auditEvent.count({ where: { action: 'contact.doNotContact.set', entityId: r.body.inboundMessageId } })).toBe(1);
    // The same message again (the gateway retries): nothing new.
    const again = await reply(`+86${c.phone}`, '退订', 'gw-in-tuiding');
    expect(again.body).toMatchObject({ changed: false, optedOut: 1 });
    expect(await w.t.prisma.contactOptOut.count({ where: { contactPointId: c.contactPointId } })).toBe(1);
    // Another STOP from a number already opted out: recorded, no second opt-out.
    expect((await reply(c.phone, 'STOP')).body).toMatchObject({ keyword: 'STOP', optedOut: 0, changed: true });
    // START does not opt back in: only the bank clears.
    await reply(c.phone, 'START');
    expect(await permission(c, 'SMS')).toEqual({ allowed: false, rule: 'DO_NOT_CONTACT' });
  });

  it('any other reply is kept and changes nothing; an unknown number is answered 200', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const r = await reply(c.phone, 'Please stop calling me at night, I will pay on Friday');
    expect(r.body).toMatchObject({ keyword: null, optedOut: 0, changed: true });
    expect(await permission(c, 'SMS')).toMatchObject({ allowed: true });
    expect((await reply('+8613999999999', 'TD')).body).toMatchObject({ keyword: 'TD', optedOut: 0 });
    expect(await w.t.prisma.inboundMessage.count({ where: { fromAddress: c.phone } })).toBe(1);
  });

  it('refuses a bad or missing signature, a stale timestamp, another secret (401), a malformed body (400), a GET (405): nothing recorded', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const before = await w.t.prisma.inboundMessage.count();
    const body = { providerMessageId: 'gw-bad', from: c.phone, text: 'STOP', at: w.t.clock.now().toISOString() };
    const forged = signed(body, 'another-secret-0123456789abcdef');
    expect((await w.post(INBOUND_SMS_PATH, forged.raw, forged.headers)).status).toBe(401);
    expect((await w.post(INBOUND_SMS_PATH, JSON.stringify(body))).status).toBe(401);
    const stale = signed(body, SMS_SECRET, new Date(w.t.clock.now().getTime() - 10 * 60_000));
    expect((await w.post(INBOUND_SMS_PATH, stale.raw, stale.headers)).status).toBe(401);
    const good = signed(body);
    expect((await w.post(INBOUND_SMS_PATH, good.raw.replace('STOP', 'TD'), good.headers)).status).toBe(401); // body changed after signing
    const malformed = signed({ providerMessageId: 'gw-bad', from: 'not a number', text: 'STOP', at: 'x' });
    expect((await w.post(INBOUND_SMS_PATH, malformed.raw, malformed.headers)).status).toBe(400);
    expect((await w.t.runtime.app.fetch(new Request(`http://arrears.test${INBOUND_SMS_PATH}`))).status).toBe(405);
    expect(await w.t.prisma.inboundMessage.count()).toBe(before);
    expect(await permission(c, 'SMS')).toMatchObject({ allowed: true });
  });
});

describe('through the SDK', () => {
  it('set and clear do-not-contact and cease-contact, set preferences, read them with caseCare', async () => {
    const c = await w.newCase({ agency: 'south', collector: 'southAgent' });
    const agent = w.sdk('southAgent');
    const set = await agent.setDoNotContact({ input: { contactPointId: c.contactPointGid, channel: 'SMS', reason: 'texts at work are a problem', source: 'CALL' } }, { throwOnUserErrors: true });
    expect(set.setDoNotContact.optOut?.channel).toBe('SMS');
    await agent.setContactPreferences({ input: { debtorId: c.debtorGid, preferredChannel: 'CALL', preferredHoursStart: '19:00', preferredHoursEnd: '21:00' } }, { throwOnUserErrors: true });
    await agent.setCeaseContact({ input: { debtorId: c.debtorGid, reason: 'cease', source: 'IN_PERSON' } }, { throwOnUserErrors: true });
    const care = (await agent.caseCare({ id: c.gid })).case!;
    expect(care.debtor.ceaseContact).toBe(true);
    expect(care.debtor.preferredContactHours).toEqual({ start: '19:00', end: '21:00' });
    expect(care.debtor.contactPoints[0]!.doNotContact).toBe(true);
    expect(care.debtor.optOuts.map((o) => o.kind).sort()).toEqual(['CEASE_CONTACT', 'DO_NOT_CONTACT']);
    const denied = await agent.clearCeaseContact({ input: { debtorId: c.debtorGid, reason: 'x' } }).catch((e: unknown) => e);
    expect((denied as { kind?: string }).kind).toBe('FORBIDDEN');
    const supervisor = w.sdk('supervisor');
    await supervisor.clearCeaseContact({ input: { debtorId: c.debtorGid, reason: 'withdrawn in writing' } }, { throwOnUserErrors: true });
    const cleared = await supervisor.clearDoNotContact({ input: { contactPointId: c.contactPointGid, reason: 'texts welcome again' } }, { throwOnUserErrors: true });
    expect(cleared.clearDoNotContact.contactPoint?.doNotContact).toBe(false);
    const after = (await agent.caseCare({ id: c.gid })).case!;
    expect(after.debtor.optOuts.every((o) => !o.active)).toBe(true);
  });
});
