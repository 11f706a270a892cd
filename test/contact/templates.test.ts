import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { DomainError } from '../../src/lib/errors.ts';
import {
  DEFAULT_DUNNING_RULES,
  DEFAULT_TEMPLATES,
  TemplateRenderError,
  ensureDefaultDunningRules,
  ensureDefaultTemplates,
  formatDeadline,
  renderMessage,
  renderTemplate,
  repaymentDeadline,
  splitEmail,
  templateProblems,
  templateVars,
  validateTemplate,
  type MessageFacts,
} from '../../src/modules/contact/templates.ts';
import type { ContactChannel, Language } from '../../src/generated/prisma/enums.ts';

const bodyOf = (key: string, channel: ContactChannel, language: Language) => DEFAULT_TEMPLATES.find((t) => t.key === key && t.channel === channel && t.language === language)!.body;

const facts = (language: Language, currency: string, at = '2026-11-28T02:00:00.000Z', timeZone = 'Asia/Shanghai'): MessageFacts => ({
  debtor: { fullName: language === 'ZH_CN' ? '张三' : 'John Smith', language, timeZone },
  case: { caseNo: 42, overdueTotal: 1_017_345n, currency },
  account: { cardLast4: '1234' },
  at: new Date(at),
});

describe('rendering', () => {
  it('renders the first SMS in Chinese: overdue amount in yuan, the deadline 7 days on, no opt-out line (CN preset)', () => {
    const text = renderMessage({ body: bodyOf('overdue-notice', 'SMS', 'ZH_CN'), channel: 'SMS', language: 'ZH_CN', optOutLineRequired: false, vars: templateVars(facts('ZH_CN', 'CNY')) });
    expect(text).toBe('【示例银行】尊敬的张三，您尾号1234的信用卡已逾期，逾期金额¥10,173.45，请于2026年12月5日前还款。如已还款，请忽略本短信。案件编号C-000042。');
  });

  it('renders in English with the amount in the case currency and the US opt-out line on SMS', () => {
    const text = renderMessage({ body: bodyOf('overdue-notice', 'SMS', 'EN'), channel: 'SMS', language: 'EN', optOutLineRequired: true, vars: templateVars(facts('EN', 'USD')) });
    expect(text).toBe(
      'Arrears Demo Bank: Dear John Smith, your credit card ending 1234 is overdue. Overdue amount: $10,173.45. Please pay by December 5, 2026. If you have paid, please ignore this message. Ref C-000042. Reply STOP to opt out of text messages.',
    );
    // A yuan debt read in English.
    expect(templateVars(facts('EN', 'CNY')).amount).toBe('CN¥10,173.45');
    expect(templateVars(facts('ZH_CN', 'USD')).amount).toBe('US$10,173.45');
    expect(templateVars(facts('EN', 'JPY')).amount).toBe('¥1,017,345');
  });

  it('puts the e-mail opt-out line at the end of an e-mail (US), in the debtor language, and none under the CN preset', () => {
    const en = renderMessage({ body: bodyOf('overdue-email', 'EMAIL', 'EN'), channel: 'EMAIL', language: 'EN', optOutLineRequired: true, vars: templateVars(facts('EN', 'USD')) });
    const { subject, body } = splitEmail(en);
    expect(subject).toBe('Overdue account notice: card ending 1234');
    expect(body.startsWith('Dear John Smith,')).toBe(true);
    expect(en.endsWith('\n\nTo stop receiving e-mails from us about this account, reply UNSUBSCRIBE to this e-mail.')).toBe(true);
    expect(body).toContain('$10,173.45');

    const zhUs = renderMessage({ body: bodyOf('overdue-notice', 'SMS', 'ZH_CN'), channel: 'SMS', language: 'ZH_CN', optOutLineRequired: true, vars: templateVars(facts('ZH_CN', 'USD', '2026-11-28T15:00:00Z', 'America/New_York')) });
    expect(zhUs.endsWith('案件编号C-000042。回复STOP退订短信。')).toBe(true);
    const zhMail = renderMessage({ body: bodyOf('final-notice', 'EMAIL', 'ZH_CN'), channel: 'EMAIL', language: 'ZH_CN', optOutLineRequired: true, vars: templateVars(facts('ZH_CN', 'CNY')) });
    expect(zhMail.endsWith('\n\n如不希望再收到我们关于此账户的电子邮件，请回复“退订”。')).toBe(true);

    for (const channel of ['SMS', 'EMAIL'] as const) {
      for (const language of ['ZH_CN', 'EN'] as const) {
        const cn = renderMessage({ body: bodyOf('final-notice', channel, language), channel, language, optOutLineRequired: false, vars: templateVars(facts(language, 'CNY')) });
        expect(cn).not.toMatch(/STOP|UNSUBSCRIBE|退订/);
      }
    }
    // A letter takes no opt-out line even under the US preset.
    expect(renderMessage({ body: 'Dear {{debtorName}}', channel: 'LETTER', language: 'EN', optOutLineRequired: true, vars: templateVars(facts('EN', 'USD')) })).toBe('Dear John Smith');
  });

  it('counts the deadline in the debtor zone', () => {
    // 01:00 on 29 November in Shanghai is still 28 November in New York.
    expect(repaymentDeadline(new Date('2026-11-28T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-12-06');
    expect(repaymentDeadline(new Date('2026-11-28T17:00:00Z'), 'America/New_York')).toBe('2026-12-05');
    expect(formatDeadline('2027-01-09', 'ZH_CN')).toBe('2027年1月9日');
    expect(formatDeadline('2027-01-09', 'EN')).toBe('January 9, 2027');
  });

  it('refuses an unknown placeholder when rendering and when saving', () => {
    const vars = templateVars(facts('EN', 'USD'));
    expect(() => renderTemplate('Hello {{name}}, pay {{amount}}', vars)).toThrow(TemplateRenderError);
    expect(() => renderTemplate('Hello {{ debtorName }}', vars)).not.toThrow();
    expect(renderTemplate('Hello {{ debtorName }}', vars)).toBe('Hello John Smith');
    expect(() => validateTemplate('Hello {{name}}')).toThrow(DomainError);
    try {
      validateTemplate('Pay {{amount}} by {{dueDate}}');
    } catch (e) {
      expect((e as DomainError).code).toBe('VALIDATION');
      expect((e as DomainError).message).toContain('{{dueDate}}');
    }
    expect(templateProblems('Pay {{amount} now')).toEqual(['a malformed placeholder: write {{name}}']);
    expect(templateProblems('Pay {{amount}} now', 'EMAIL')).toEqual(['an e-mail template starts with its subject line, then an empty line']);
    expect(templateProblems('')).toContain('the body is empty');
  });

  it('ships valid templates in both languages for every default rule', () => {
    for (const t of DEFAULT_TEMPLATES) expect(templateProblems(t.body, t.channel), `${t.key} ${t.channel} ${t.language}`).toEqual([]);
    for (const r of DEFAULT_DUNNING_RULES) {
      for (const language of ['ZH_CN', 'EN'] as const) {
        expect(DEFAULT_TEMPLATES.some((t) => t.key === r.templateKey && t.channel === r.channel && t.language === language), `${r.name} ${language}`).toBe(true);
      }
    }
    // Every default states the amount and the deadline (the source: 逾期金额及还款截止日期).
    for (const t of DEFAULT_TEMPLATES) {
      expect(t.body).toContain('{{amount}}');
      expect(t.body).toContain('{{deadline}}');
    }
  });
});

describe('defaults in the database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('creates the missing templates and rules, and never overwrites an edited row', async () => {
    // From nothing (startup may have seeded them already).
    await t.prisma.messageTemplate.deleteMany();
    await t.prisma.dunningRule.deleteMany();
    expect(await ensureDefaultTemplates(t.prisma)).toBe(DEFAULT_TEMPLATES.length);
    expect(await ensureDefaultDunningRules(t.prisma)).toBe(DEFAULT_DUNNING_RULES.length);
    const edited = 'Edited {{debtorName}}: {{amount}} by {{deadline}}';
    await t.prisma.messageTemplate.update({ where: { key_channel_language: { key: 'overdue-notice', channel: 'SMS', language: 'EN' } }, data: { body: edited } });
    await t.prisma.dunningRule.update({ where: { name: 'followup-sms-m1' }, data: { cadenceDays: 5 } });
    await t.prisma.messageTemplate.delete({ where: { key_channel_language: { key: 'final-notice', channel: 'SMS', language: 'EN' } } });

    expect(await ensureDefaultTemplates(t.prisma)).toBe(1);
    expect(await ensureDefaultDunningRules(t.prisma)).toBe(0);
    expect((await t.prisma.messageTemplate.findUniqueOrThrow({ where: { key_channel_language: { key: 'overdue-notice', channel: 'SMS', language: 'EN' } } })).body).toBe(edited);
    expect((await t.prisma.dunningRule.findUniqueOrThrow({ where: { name: 'followup-sms-m1' } })).cadenceDays).toBe(5);
    expect(await t.prisma.messageTemplate.count()).toBe(DEFAULT_TEMPLATES.length);
  });
});
