// Issue 13, point 7: templates and dunning rules through the API. Listed and previewed by the
// bank, changed only by a new version that a bank admin activates, every version kept and every
// change audited; the automatic-reminder job and the outbox use the active version.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario, type ScenarioUser } from '../support/scenario.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createAutomaticReminders } from '../../src/modules/contact/dunning.ts';
import { dispatchDueReminders } from '../../src/modules/contact/outbox.ts';
import { DEFAULT_TEMPLATES, ensureDefaultDunningRules, ensureDefaultTemplates } from '../../src/modules/contact/templates.ts';
import { FakeProvider } from '../contact/support.ts';
import { sdkAs } from './support.ts';

let t: TestApp;
let s: Scenario;
const logger = createLogger('silent');
const gid = (type: string, id: string) => encodeGlobalID(type, id);

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  await ensureDefaultTemplates(t.prisma);
  await ensureDefaultDunningRules(t.prisma);
});
afterAll(async () => t?.close());

const TV = 'id key channel language version body note createdAt activatedAt';
const D = {
  list: `query($key: String, $channel: ContactChannel, $language: Language) { messageTemplates(first: 100, key: $key, channel: $channel, language: $language) { nodes { id key channel language version body } } }`,
  versions: `query($key: String!, $channel: ContactChannel!, $language: Language!) { messageTemplateVersions(key: $key, channel: $channel, language: $language, first: 20) { nodes { ${TV} } } }`,
  preview: `query($caseId: ID!, $v: ID, $key: String, $channel: ContactChannel, $at: DateTime) { previewMessageTemplate(caseId: $caseId, templateVersionId: $v, key: $key, channel: $channel, at: $at) { channel language version text subject body } }`,
  create: `mutation($input: CreateMessageTemplateVersionInput!) { createMessageTemplateVersion(input: $input) { templateVersion { ${TV} } userErrors { code field message } } }`,
  activate: `mutation($input: ActivateMessageTemplateVersionInput!) { activateMessageTemplateVersion(input: $input) { template { id version body } templateVersion { id activatedAt } userErrors { code field message } } }`,
  rules: `{ dunningRules(first: 50) { nodes { id name minDaysPastDue maxDaysPastDue channel templateKey cadenceDays active version } } }`,
  ruleVersions: `query($name: String!) { dunningRuleVersions(name: $name, first: 10) { nodes { id version cadenceDays active activatedAt } } }`,
  createRule: `mutation($input: CreateDunningRuleVersionInput!) { createDunningRuleVersion(input: $input) { ruleVersion { id name version cadenceDays active } userErrors { code field message } } }`,
  activateRule: `mutation($input: ActivateDunningRuleVersionInput!) { activateDunningRuleVersion(input: $input) { rule { id name version cadenceDays active } userErrors { code field message } } }`,
  node: `query($id: ID!) { node(id: $id) { id } }`,
};

async function as(user: ScenarioUser, query: string, variables: Record<string, unknown> = {}) {
  return t.gql(await t.token(user), query, variables);
}
async function mutate(user: ScenarioUser, query: string, input: Record<string, unknown>) {
  const r = await as(user, query, { input });
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return Object.values(r.data as Record<string, any>)[0];
}
const NEW_BODY = '【{{bankName}}】{{debtorName}}您好：尾号{{cardLast4}}信用卡逾期{{amount}}，请在{{deadline}}前还款（第二版）。编号{{caseNumber}}。';

describe('reading', () => {
  it('the bank lists the active templates and their versions (the shipped text is version 1); agencies do not', async () => {
    const all = await as(s.users.auditor, D.list);
    expect(all.data.messageTemplates.nodes).toHaveLength(DEFAULT_TEMPLATES.length);
    const letters = await as(s.users.supervisor, D.list, { channel: 'LETTER' });
    expect(letters.data.messageTemplates.nodes.map((n: any) => n.language).sort()).toEqual(['EN', 'ZH_CN']);
    const v = await as(s.users.supervisor, D.versions, { key: 'overdue-notice', channel: 'SMS', language: 'ZH_CN' });
    expect(v.data.messageTemplateVersions.nodes).toEqual([expect.objectContaining({ version: 1, body: DEFAULT_TEMPLATES.find((x) => x.key === 'overdue-notice' && x.channel === 'SMS' && x.language === 'ZH_CN')!.body })]);
    for (const user of [s.users.northManager, s.users.northAgent]) {
      const r = await as(user, D.list);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await as(user, D.node, { id: v.data.messageTemplateVersions.nodes[0].id })).data.node).toBeNull();
    }
    const rules = await as(s.users.supervisor, D.rules);
    expect(rules.data.dunningRules.nodes.map((r: any) => r.name)).toContain('overdue-notice-sms');
  });

  it('previews a template with a case: the amount and the deadline as the SMS states them, the US opt-out line', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id, principal: 1_000_000n, debtorName: '王五' });
    const r = await as(s.users.supervisor, D.preview, { caseId: gid('Case', c.id), key: 'overdue-notice', channel: 'SMS' });
    expect(r.errors).toBeUndefined();
    expect(r.data.previewMessageTemplate.text).toBe(`【示例银行】尊敬的王五，您尾号${(await t.prisma.cardAccount.findUniqueOrThrow({ where: { id: c.accountId } })).cardLast4}的信用卡已逾期，逾期金额¥10,173.45，请于2026年12月5日前还款。如已还款，请忽略本短信。案件编号C-${String(c.caseNo).padStart(6, '0')}。`);
    const letter = await as(s.users.supervisor, D.preview, { caseId: gid('Case', c.id), key: 'overdue-letter', channel: 'LETTER' });
    expect(letter.data.previewMessageTemplate).toMatchObject({ subject: '信用卡逾期还款通知书', version: 1 });
    expect(letter.data.previewMessageTemplate.body).toContain('¥10,173.45');
    // A case the viewer cannot see: not found, nothing rendered.
    const hidden = await as(s.users.collector, D.preview, { caseId: gid('Case', c.id), key: 'overdue-notice', channel: 'SMS' });
    expect(hidden.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const us = await t.prisma.debtor.update({ where: { id: c.debtorId }, data: { jurisdiction: 'US', language: 'EN', timeZone: 'America/New_York' } });
    const en = await as(s.users.supervisor, D.preview, { caseId: gid('Case', c.id), key: 'overdue-notice', channel: 'SMS' });
    expect(en.data.previewMessageTemplate.text).toMatch(/Please pay by December 4, 2026\. .* Reply STOP to opt out of text messages\.$/);
    expect(us.language).toBe('EN');
  });
});

describe('versions', () => {
  it('a new version is refused when invalid, kept when valid, in use only once a bank admin activates it; both audited', async () => {
    const input = { key: 'overdue-notice', channel: 'SMS', language: 'ZH_CN', body: NEW_BODY, note: 'shorter text' };
    const denied = await as(s.users.supervisor, D.create, { input });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await mutate(s.users.admin, D.create, { ...input, body: '请于{{dueDate}}前还款' });
    expect(bad.userErrors).toEqual([expect.objectContaining({ code: 'VALIDATION', field: ['body'] })]);
    const badLetter = await mutate(s.users.admin, D.create, { key: 'overdue-letter', channel: 'LETTER', language: 'EN', body: 'Dear {{debtorName}}, pay {{amount}}' });
    expect(badLetter.userErrors[0].message).toContain('title line');
    const created = await mutate(s.users.admin, D.create, input);
    expect(created.userErrors).toEqual([]);
    expect(created.templateVersion).toMatchObject({ version: 2, activatedAt: null, note: 'shorter text' });
    expect((await mutate(s.users.admin, D.create, input)).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['body'] });
    // Not in use yet.
    const active = await t.prisma.messageTemplate.findUniqueOrThrow({ where: { key_channel_language: { key: 'overdue-notice', channel: 'SMS', language: 'ZH_CN' } } });
    expect(active.version).toBe(1);
    expect((await mutate(s.users.admin, D.activate, { templateVersionId: created.templateVersion.id, reason: '' })).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['reason'] });
    const act = await mutate(s.users.admin, D.activate, { templateVersionId: created.templateVersion.id, reason: 'approved by compliance, ticket 77' });
    expect(act.template).toMatchObject({ version: 2, body: NEW_BODY });
    expect((await mutate(s.users.admin, D.activate, { templateVersionId: created.templateVersion.id, reason: 'again' })).userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });
    const audit = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'template.activate' }, orderBy: { at: 'desc' } });
    expect(audit).toMatchObject({ actorId: s.users.admin.id, reason: 'approved by compliance, ticket 77' });
    expect(audit.data).toMatchObject({ before: { version: 1 }, after: { version: 2, body: NEW_BODY } });
    expect(await t.prisma.auditEvent.count({ where: { action: 'template.createVersion' } })).toBe(1);
    // Both versions kept, newest first; rolling back is activating version 1 again.
    const v = await as(s.users.auditor, D.versions, { key: 'overdue-notice', channel: 'SMS', language: 'ZH_CN' });
    expect(v.data.messageTemplateVersions.nodes.map((n: any) => n.version)).toEqual([2, 1]);
  });

  it('the automatic-reminder job and the outbox send the active version', async () => {
    t.clock.set(TEST_NOW);
    const body = NEW_BODY.replace('第二版', '第三版');
    const v = await mutate(s.users.admin, D.create, { key: 'overdue-notice', channel: 'SMS', language: 'ZH_CN', body });
    await mutate(s.users.admin, D.activate, { templateVersionId: v.templateVersion.id, reason: 'third text' });
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 2, debtorName: '赵六' });
    await createAutomaticReminders({ prisma: t.prisma, clock: t.clock, logger });
    const provider = new FakeProvider();
    await dispatchDueReminders({ prisma: t.prisma, clock: t.clock, logger, provider }, { owner: 'test', random: () => 0 });
    const reminder = await t.prisma.reminder.findFirstOrThrow({ where: { caseId: c.id, templateKey: 'overdue-notice' } });
    expect(reminder.renderedMessage).toContain('（第三版）');
    expect(reminder.renderedMessage).toContain('赵六您好');
    expect(provider.sentTo(reminder.id)).toHaveLength(1);
  });

  it('dunning rules: a new version, validated, put in force by activation, used by the job; audited', async () => {
    const name = 'followup-sms-m1';
    const base = { name, minDaysPastDue: 8, maxDaysPastDue: 30, channel: 'SMS', templateKey: 'overdue-followup', cadenceDays: 3, active: true, note: 'every 3 days' };
    expect((await mutate(s.users.admin, D.createRule, { ...base, channel: 'LETTER' })).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['channel'] });
    expect((await mutate(s.users.admin, D.createRule, { ...base, templateKey: 'no-such-template' })).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['templateKey'] });
    expect((await mutate(s.users.admin, D.createRule, { ...base, maxDaysPastDue: 5 })).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['maxDaysPastDue'] });
    const created = await mutate(s.users.admin, D.createRule, base);
    expect(created.ruleVersion).toMatchObject({ version: 2, cadenceDays: 3 });
    expect((await t.prisma.dunningRule.findUniqueOrThrow({ where: { name } })).cadenceDays).toBe(7);
    const act = await mutate(s.users.admin, D.activateRule, { ruleVersionId: created.ruleVersion.id, reason: 'pilot of a denser cadence' });
    expect(act.rule).toMatchObject({ name, version: 2, cadenceDays: 3 });
    const audit = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'dunningRule.activate' } });
    expect(audit.data).toMatchObject({ name, before: { version: 1, cadenceDays: 7 }, after: { version: 2, cadenceDays: 3 } });
    const versions = await as(s.users.supervisor, D.ruleVersions, { name });
    expect(versions.data.dunningRuleVersions.nodes.map((n: any) => n.version)).toEqual([2, 1]);
    // Day 11 is occurrence 1 under a 3-day cadence (it would be occurrence 0 under 7 days).
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 11 });
    await createAutomaticReminders({ prisma: t.prisma, clock: t.clock, logger });
    const r = await t.prisma.reminder.findFirstOrThrow({ where: { caseId: c.id, templateKey: 'overdue-followup' } });
    expect(r.idempotencyKey.endsWith(':1')).toBe(true);
    // Switched off by a version with active: false.
    const off = await mutate(s.users.admin, D.createRule, { ...base, active: false, note: 'pause' });
    await mutate(s.users.admin, D.activateRule, { ruleVersionId: off.ruleVersion.id, reason: 'pause the pilot' });
    expect((await t.prisma.dunningRule.findUniqueOrThrow({ where: { name } })).active).toBe(false);
  });
});

describe('through the SDK', () => {
  it('lists, previews a draft version with a case, creates and activates it', async () => {
    const admin = sdkAs(t, s.users.admin);
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), debtorName: 'SDK 用户' });
    const { messageTemplates } = await admin.messageTemplates({ key: 'final-notice', channel: 'SMS', language: 'EN' });
    expect(messageTemplates.nodes).toHaveLength(1);
    const draft = await admin.createMessageTemplateVersion({
      input: { key: 'final-notice', channel: 'SMS', language: 'EN', body: '{{bankName}}: {{debtorName}}, {{amount}} is seriously overdue on card {{cardLast4}}. Pay by {{deadline}}. Ref {{caseNumber}}.' },
    });
    const id = draft.createMessageTemplateVersion.templateVersion!.id;
    const preview = await admin.previewMessageTemplate({ caseId: gid('Case', c.id), templateVersionId: id });
    expect(preview.previewMessageTemplate.text).toContain('SDK 用户, CN¥');
    expect(preview.previewMessageTemplate.version).toBe(2);
    const activated = await admin.activateMessageTemplateVersion({ input: { templateVersionId: id, reason: 'plainer English' } });
    expect(activated.activateMessageTemplateVersion.template?.version).toBe(2);
    const rules = await admin.dunningRules({});
    expect(rules.dunningRules.nodes.length).toBeGreaterThan(3);
  });
});
