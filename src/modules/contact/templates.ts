/**
 * Message templates and dunning rules as data (DOMAIN.md "Reminders": "When an account becomes
 * overdue, the system itself sends an SMS telling the debtor the overdue amount and the
 * repayment deadline"; source: 系统自动发送短信提醒客户告知逾期金额及还款截止日期).
 *
 * - A template is a MessageTemplate row {key, channel, language, body}; the defaults below are
 *   created when missing and never overwrite a row an admin has edited.
 * - A body holds `{{name}}` placeholders (spaces inside the braces allowed) from TEMPLATE_VARIABLES
 *   only: an unknown one is refused when a template is saved (validateTemplate) and again when
 *   one is rendered (renderTemplate), so a bad template never sends a half-filled message.
 * - An EMAIL body's first line is the subject, followed by one empty line and the text.
 * - The opt-out line is not part of a template: where the debtor's contact policy asks for it
 *   (`optOutLineRequired`, the US preset: Regulation F 1006.6(e)) it is appended to every SMS and
 *   EMAIL at render time, in the debtor's language, so that no edited template can drop it.
 */
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { ContactChannel, Language } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import { formatMoney } from '../../lib/money.ts';
import { formatCaseNumber } from '../../lib/ids.ts';
import { DAY_MS, localDate } from '../../lib/time.ts';

export const TEMPLATE_VARIABLES = ['debtorName', 'amount', 'cardLast4', 'deadline', 'bankName', 'caseNumber'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateVars = Record<TemplateVariable, string>;

/** The repayment deadline a reminder states: this many days after it is sent, in the debtor's zone. */
export const REPAYMENT_DEADLINE_DAYS = 7;

export const BANK_NAME: Record<Language, string> = { ZH_CN: '示例银行', EN: 'Arrears Demo Bank' };

/** The locale amounts and dates are formatted in, per debtor language. */
export const LANGUAGE_LOCALE: Record<Language, string> = { ZH_CN: 'zh-CN', EN: 'en-US' };

/** Regulation F 1006.6(e): a clear way to opt out of electronic messages (US preset). */
export const OPT_OUT_LINES: Record<'SMS' | 'EMAIL', Record<Language, string>> = {
  SMS: {
    EN: 'Reply STOP to opt out of text messages.',
    ZH_CN: '回复STOP退订短信。',
  },
  EMAIL: {
    EN: 'To stop receiving e-mails from us about this account, reply UNSUBSCRIBE to this e-mail.',
    ZH_CN: '如不希望再收到我们关于此账户的电子邮件，请回复“退订”。',
  },
};

export interface TemplateDefinition {
  key: string;
  channel: ContactChannel;
  language: Language;
  body: string;
}

const zhSms = (text: string) => `【{{bankName}}】${text}`;
const enSms = (text: string) => `{{bankName}}: ${text}`;

/** The templates Arrears ships; admins edit the rows, not this list. */
export const DEFAULT_TEMPLATES: readonly TemplateDefinition[] = [
  // The first SMS when an account becomes overdue: the overdue amount and the repayment deadline.
  {
    key: 'overdue-notice',
    channel: 'SMS',
    language: 'ZH_CN',
    body: zhSms('尊敬的{{debtorName}}，您尾号{{cardLast4}}的信用卡已逾期，逾期金额{{amount}}，请于{{deadline}}前还款。如已还款，请忽略本短信。案件编号{{caseNumber}}。'),
  },
  {
    key: 'overdue-notice',
    channel: 'SMS',
    language: 'EN',
    body: enSms('Dear {{debtorName}}, your credit card ending {{cardLast4}} is overdue. Overdue amount: {{amount}}. Please pay by {{deadline}}. If you have paid, please ignore this message. Ref {{caseNumber}}.'),
  },
  {
    key: 'overdue-notice',
    channel: 'EMAIL',
    language: 'ZH_CN',
    body: '信用卡逾期还款提醒（尾号{{cardLast4}}）\n\n尊敬的{{debtorName}}：\n\n您尾号{{cardLast4}}的信用卡已逾期，逾期金额为{{amount}}。请于{{deadline}}前还款，以免影响您的信用记录。如已还款，请忽略本邮件。\n\n案件编号：{{caseNumber}}\n{{bankName}}信用卡中心',
  },
  {
    key: 'overdue-notice',
    channel: 'EMAIL',
    language: 'EN',
    body: 'Your credit card ending {{cardLast4}} is overdue\n\nDear {{debtorName}},\n\nYour credit card ending {{cardLast4}} is overdue. The overdue amount is {{amount}}. Please pay by {{deadline}}. If you have already paid, please ignore this e-mail.\n\nReference: {{caseNumber}}\n{{bankName}} Card Services',
  },
  // Follow-ups while the account stays overdue.
  {
    key: 'overdue-followup',
    channel: 'SMS',
    language: 'ZH_CN',
    body: zhSms('尊敬的{{debtorName}}，您尾号{{cardLast4}}的信用卡仍有逾期欠款{{amount}}未还，请于{{deadline}}前还款。如有困难，请致电我行协商还款方案。案件编号{{caseNumber}}。'),
  },
  {
    key: 'overdue-followup',
    channel: 'SMS',
    language: 'EN',
    body: enSms('Dear {{debtorName}}, {{amount}} is still overdue on your card ending {{cardLast4}}. Please pay by {{deadline}}, or call us to agree a repayment plan. Ref {{caseNumber}}.'),
  },
  {
    key: 'overdue-followup',
    channel: 'EMAIL',
    language: 'ZH_CN',
    body: '信用卡逾期欠款再次提醒（尾号{{cardLast4}}）\n\n尊敬的{{debtorName}}：\n\n您尾号{{cardLast4}}的信用卡仍有逾期欠款{{amount}}未还。请于{{deadline}}前还款；如还款有困难，请联系我行协商分期或延期还款方案。\n\n案件编号：{{caseNumber}}\n{{bankName}}信用卡中心',
  },
  {
    key: 'overdue-followup',
    channel: 'EMAIL',
    language: 'EN',
    body: 'Reminder: your card ending {{cardLast4}} is still overdue\n\nDear {{debtorName}},\n\n{{amount}} is still overdue on your credit card ending {{cardLast4}}. Please pay by {{deadline}}. If you are having difficulty paying, contact us to agree an instalment plan or an extension.\n\nReference: {{caseNumber}}\n{{bankName}} Card Services',
  },
  // The weekly statement by e-mail (where the debtor has an address).
  {
    key: 'overdue-email',
    channel: 'EMAIL',
    language: 'ZH_CN',
    body: '信用卡逾期账户通知（尾号{{cardLast4}}）\n\n尊敬的{{debtorName}}：\n\n截至本邮件发出时，您尾号{{cardLast4}}的信用卡逾期金额为{{amount}}，还款截止日期为{{deadline}}。请及时还款；如已还款，请忽略本邮件。如需协商还款方案，请联系我行。\n\n案件编号：{{caseNumber}}\n{{bankName}}信用卡中心',
  },
  {
    key: 'overdue-email',
    channel: 'EMAIL',
    language: 'EN',
    body: 'Overdue account notice: card ending {{cardLast4}}\n\nDear {{debtorName}},\n\nAs of this e-mail, the overdue amount on your credit card ending {{cardLast4}} is {{amount}}, due by {{deadline}}. Please pay promptly; if you have already paid, please ignore this e-mail. Contact us if you would like to agree a repayment plan.\n\nReference: {{caseNumber}}\n{{bankName}} Card Services',
  },
  // Long overdue: the account may be referred for collection visits or legal action.
  {
    key: 'final-notice',
    channel: 'SMS',
    language: 'ZH_CN',
    body: zhSms('尊敬的{{debtorName}}，您尾号{{cardLast4}}的信用卡已严重逾期，欠款{{amount}}。请于{{deadline}}前还款或联系我行协商，否则我行将依法依规采取进一步催收措施。案件编号{{caseNumber}}。'),
  },
  {
    key: 'final-notice',
    channel: 'SMS',
    language: 'EN',
    body: enSms('Dear {{debtorName}}, your card ending {{cardLast4}} is seriously overdue: {{amount}}. Please pay by {{deadline}} or contact us; otherwise we may take further lawful collection steps. Ref {{caseNumber}}.'),
  },
  {
    key: 'final-notice',
    channel: 'EMAIL',
    language: 'ZH_CN',
    body: '信用卡严重逾期最后通知（尾号{{cardLast4}}）\n\n尊敬的{{debtorName}}：\n\n您尾号{{cardLast4}}的信用卡已严重逾期，欠款{{amount}}。请于{{deadline}}前还款或联系我行协商还款方案；逾期不还，我行将依法依规采取进一步催收措施。\n\n案件编号：{{caseNumber}}\n{{bankName}}信用卡中心',
  },
  {
    key: 'final-notice',
    channel: 'EMAIL',
    language: 'EN',
    body: 'Final notice: your card ending {{cardLast4}}\n\nDear {{debtorName}},\n\nYour credit card ending {{cardLast4}} is seriously overdue: {{amount}}. Please pay by {{deadline}} or contact us to agree a repayment plan; otherwise we may take further lawful collection steps.\n\nReference: {{caseNumber}}\n{{bankName}} Card Services',
  },
  // The notice letter (通知书) sent by post, rendered to PDF (src/modules/letters): a title line, an empty line, the text.
  {
    key: 'overdue-letter',
    channel: 'LETTER',
    language: 'ZH_CN',
    body: '信用卡逾期还款通知书\n\n尊敬的{{debtorName}}：\n\n您尾号{{cardLast4}}的信用卡已逾期，截至本通知书发出之日，逾期金额为{{amount}}。请于{{deadline}}前还款，以免影响您的个人信用记录。\n\n如您已还款，请忽略本通知书；如还款确有困难，请联系我行协商分期或延期还款方案。\n\n案件编号：{{caseNumber}}\n{{bankName}}信用卡中心',
  },
  {
    key: 'overdue-letter',
    channel: 'LETTER',
    language: 'EN',
    body: 'Notice of overdue credit card balance\n\nDear {{debtorName}},\n\nYour credit card ending {{cardLast4}} is overdue. As of the date of this letter, the overdue amount is {{amount}}. Please pay by {{deadline}} to protect your credit record.\n\nIf you have already paid, please ignore this letter. If you are having difficulty paying, contact us to agree an instalment plan or an extension.\n\nReference: {{caseNumber}}\n{{bankName}} Card Services',
  },
];

export interface DunningRuleDefinition {
  name: string;
  minDaysPastDue: number;
  maxDaysPastDue: number | null;
  channel: ContactChannel;
  templateKey: string;
  cadenceDays: number;
}

/**
 * The default dunning rules (Frappe Lending's "Dunning Rule" is the model: a band of days past
 * due, a channel, a template, a cadence). Days past due count in the bank's zone (lib/time.ts).
 * - days 1–7, once: the overdue notice by SMS (the first SMS of the source). A band rather than
 *   day 1 alone, so that a case imported or caught up on day 3 still gets its notice.
 * - days 8–30, every 7 days (days 8, 15, 22, 29): a follow-up SMS.
 * - days 31–90, every 7 days: a follow-up SMS.
 * - day 91 on, every 14 days: the final notice by SMS.
 * - days 1–90, every 7 days: the overdue statement by e-mail, where the debtor has an own e-mail
 *   address not marked do-not-contact; day 91 on, every 14 days, the final notice by e-mail.
 * Calls follow from people (logContactAttempt), not from these rules.
 */
export const DEFAULT_DUNNING_RULES: readonly DunningRuleDefinition[] = [
  { name: 'overdue-notice-sms', minDaysPastDue: 1, maxDaysPastDue: 7, channel: 'SMS', templateKey: 'overdue-notice', cadenceDays: 0 },
  { name: 'followup-sms-m1', minDaysPastDue: 8, maxDaysPastDue: 30, channel: 'SMS', templateKey: 'overdue-followup', cadenceDays: 7 },
  { name: 'followup-sms-m2-m3', minDaysPastDue: 31, maxDaysPastDue: 90, channel: 'SMS', templateKey: 'overdue-followup', cadenceDays: 7 },
  { name: 'final-notice-sms', minDaysPastDue: 91, maxDaysPastDue: null, channel: 'SMS', templateKey: 'final-notice', cadenceDays: 14 },
  { name: 'overdue-email-weekly', minDaysPastDue: 1, maxDaysPastDue: 90, channel: 'EMAIL', templateKey: 'overdue-email', cadenceDays: 7 },
  { name: 'final-notice-email', minDaysPastDue: 91, maxDaysPastDue: null, channel: 'EMAIL', templateKey: 'final-notice', cadenceDays: 14 },
];

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

function isVariable(name: string): name is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

/** The problems of a template body, empty when it may be saved. */
export function templateProblems(body: string, channel?: ContactChannel): string[] {
  const problems: string[] = [];
  if (body.trim() === '') problems.push('the body is empty');
  if (body.length > 10_000) problems.push('the body is longer than 10,000 characters');
  for (const m of body.matchAll(PLACEHOLDER)) {
    if (!isVariable(m[1]!)) problems.push(`unknown placeholder {{${m[1]}}}: use ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`);
  }
  // Braces left over once the well-formed placeholders are gone: a typo such as {{amount} or {{ amount.
  const rest = body.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('a malformed placeholder: write {{name}}');
  if (channel === 'EMAIL' || channel === 'LETTER') {
    const [subject, blank] = body.split('\n');
    if (!subject?.trim() || blank === undefined || blank.trim() !== '') {
      problems.push(channel === 'EMAIL' ? 'an e-mail template starts with its subject line, then an empty line' : 'a letter template starts with its title line, then an empty line');
    }
  }
  return problems;
}

/** Refuses a template that could not be rendered: call it wherever templates are saved. */
export function validateTemplate(body: string, channel?: ContactChannel): void {
  const problems = templateProblems(body, channel);
  if (problems.length) throw new DomainError('VALIDATION', `Template refused: ${problems.join('; ')}`, 'body');
}

export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
}

/** Fills the `{{name}}` placeholders; an unknown placeholder (or a malformed one) is an error, never left in the text. */
export function renderTemplate(body: string, vars: TemplateVars): string {
  const problems = templateProblems(body);
  if (problems.length) throw new TemplateRenderError(`cannot render the template: ${problems.join('; ')}`);
  return body.replace(PLACEHOLDER, (_m, name: string) => {
    const value = (vars as Record<string, string | undefined>)[name];
    if (value === undefined) throw new TemplateRenderError(`no value for {{${name}}}`);
    return value;
  });
}

const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A calendar date (YYYY-MM-DD) as the debtor reads it: 2026年12月5日 / December 5, 2026. */
export function formatDeadline(date: string, language: Language): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`not a calendar date: ${date}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return language === 'ZH_CN' ? `${y}年${mo}月${d}日` : `${EN_MONTHS[mo - 1]} ${d}, ${y}`;
}

/** The repayment deadline of a message sent at `sentAt`: REPAYMENT_DEADLINE_DAYS later, as a date in the debtor's zone. */
export function repaymentDeadline(sentAt: Date, timeZone: string): string {
  return localDate(new Date(sentAt.getTime() + REPAYMENT_DEADLINE_DAYS * DAY_MS), timeZone);
}

export interface MessageFacts {
  debtor: { fullName: string; language: Language; timeZone: string };
  case: { caseNo: number; overdueTotal: bigint; currency: string };
  account: { cardLast4: string };
  /** When the message goes out: the deadline counts from it. */
  at: Date;
}

/** The variables of a reminder, formatted in the debtor's language. */
export function templateVars(f: MessageFacts): TemplateVars {
  const lang = f.debtor.language;
  return {
    debtorName: f.debtor.fullName,
    amount: formatMoney({ minorUnits: f.case.overdueTotal, currency: f.case.currency }, LANGUAGE_LOCALE[lang]),
    cardLast4: f.account.cardLast4,
    deadline: formatDeadline(repaymentDeadline(f.at, f.debtor.timeZone), lang),
    bankName: BANK_NAME[lang],
    caseNumber: formatCaseNumber(f.case.caseNo),
  };
}

/**
 * The text a reminder carries: the template rendered, then the opt-out line where the policy
 * asks for one on electronic messages (SMS, EMAIL).
 */
export function renderMessage(input: { body: string; channel: ContactChannel; language: Language; optOutLineRequired: boolean; vars: TemplateVars }): string {
  const text = renderTemplate(input.body, input.vars).trimEnd();
  if (!input.optOutLineRequired || (input.channel !== 'SMS' && input.channel !== 'EMAIL')) return text;
  const line = OPT_OUT_LINES[input.channel][input.language];
  if (input.channel === 'EMAIL') return `${text}\n\n${line}`;
  return input.language === 'ZH_CN' ? `${text}${line}` : `${text} ${line}`;
}

/** An EMAIL's rendered text as a subject and a body (the first line is the subject). */
export function splitEmail(rendered: string): { subject: string; body: string } {
  const i = rendered.indexOf('\n');
  if (i === -1) return { subject: rendered.trim(), body: '' };
  return { subject: rendered.slice(0, i).trim(), body: rendered.slice(i + 1).replace(/^\n/, '') };
}

/** Creates the default templates that are missing; a row that exists (edited or not) stays as it is. */
export async function ensureDefaultTemplates(prisma: PrismaClient): Promise<number> {
  const { count } = await prisma.messageTemplate.createMany({
    data: DEFAULT_TEMPLATES.map((t) => ({ key: t.key, channel: t.channel, language: t.language, body: t.body })),
    skipDuplicates: true,
  });
  await recordMissingVersions(prisma);
  return count;
}

/** Creates the default dunning rules that are missing (by name); existing rules stay as they are. */
export async function ensureDefaultDunningRules(prisma: PrismaClient): Promise<number> {
  const { count } = await prisma.dunningRule.createMany({ data: DEFAULT_DUNNING_RULES.map((r) => ({ ...r })), skipDuplicates: true });
  await recordMissingVersions(prisma);
  return count;
}

/**
 * Every active template and rule has its version in the history: the defaults created at start
 * (ensureDefaultTemplates / ensureDefaultDunningRules) become version 1 of theirs.
 */
export async function recordMissingVersions(db: PrismaClient): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "MessageTemplateVersion" ("id", "key", "channel", "language", "version", "body", "note", "createdAt", "activatedAt")
    SELECT gen_random_uuid(), t."key", t."channel", t."language", t."version", t."body", 'shipped with Arrears', t."updatedAt", t."updatedAt"
      FROM "MessageTemplate" AS t
     WHERE NOT EXISTS (SELECT 1 FROM "MessageTemplateVersion" AS v WHERE v."key" = t."key" AND v."channel" = t."channel" AND v."language" = t."language" AND v."version" = t."version")
    ON CONFLICT DO NOTHING`;
  await db.$executeRaw`
    INSERT INTO "DunningRuleVersion" ("id", "name", "version", "minDaysPastDue", "maxDaysPastDue", "channel", "templateKey", "cadenceDays", "active", "note", "createdAt", "activatedAt")
    SELECT gen_random_uuid(), r."name", r."version", r."minDaysPastDue", r."maxDaysPastDue", r."channel", r."templateKey", r."cadenceDays", r."active", 'shipped with Arrears', r."updatedAt", r."updatedAt"
      FROM "DunningRule" AS r
     WHERE NOT EXISTS (SELECT 1 FROM "DunningRuleVersion" AS v WHERE v."name" = r."name" AND v."version" = r."version")
    ON CONFLICT DO NOTHING`;
}

