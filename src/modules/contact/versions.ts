/**
 * Templates and dunning rules through the API (issue 13, point 7): listed, previewed with a
 * case, changed only by a new version, which a bank admin then activates; every version is kept
 * (MessageTemplateVersion, DunningRuleVersion) and every change audited.
 *
 * The active version is copied into MessageTemplate / DunningRule, the rows the outbox, the
 * automatic-reminder job, scheduleReminder and letters read: whatever renders or schedules a
 * message uses the active version, and nothing else needs to know about versions.
 */
import type { DunningRule, DunningRuleVersion, MessageTemplate, MessageTemplateVersion, PrismaClient } from '../../generated/prisma/client.ts';
import type { ContactChannel, Language } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import { isUniqueViolation } from '../../lib/idempotency.ts';
import type { Clock } from '../../lib/time.ts';
import { auditActor, type Actor } from '../../lib/actor.ts';
import { caseVisibility } from '../../auth/scopes.ts';
import type { Tx } from '../../db/store.ts';
import { recordAudit } from '../audit/service.ts';
import { getContactPolicy } from '../policy/service.ts';
import { renderMessage, splitEmail, templateVars, validateTemplate, TemplateRenderError } from './templates.ts';

export interface VersionDeps {
  prisma: PrismaClient;
  clock: Clock;
}

const LANGUAGES: readonly Language[] = ['ZH_CN', 'EN'];
/** The channels the automatic-reminder job sends (dunning.ts): a rule for another channel would never fire. */
const AUTOMATIC_CHANNELS: readonly ContactChannel[] = ['SMS', 'EMAIL'];
const KEY = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;
const MAX_NOTE = 500;

function cleanNote(note: string | null | undefined, field = 'note'): string {
  const v = (note ?? '').trim();
  if (v.length > MAX_NOTE) throw new DomainError('VALIDATION', `${field}: at most ${MAX_NOTE} characters`, field);
  return v;
}

function requireReason(reason: string | null | undefined): string {
  const v = cleanNote(reason, 'reason');
  if (!v) throw new DomainError('VALIDATION', 'Give the reason for the change: it is kept in the audit log', 'reason');
  return v;
}

/** Runs a version write; two admins creating a version of one template at once: one wins, the other is asked to retry. */
async function versioned<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('STALE_VERSION', 'Another version was created at the same moment: read the versions again and retry', 'key');
    throw err;
  }
}

// ---------------------------------------------------------------- templates

export interface CreateTemplateVersionInput {
  key: string;
  channel: ContactChannel;
  language: Language;
  body: string;
  note?: string | null;
}

export async function createTemplateVersion(deps: VersionDeps, actor: Actor, input: CreateTemplateVersionInput): Promise<{ templateVersion: MessageTemplateVersion }> {
  const key = input.key.trim();
  if (!KEY.test(key)) throw new DomainError('VALIDATION', 'key: 3 to 64 lower-case letters, digits and dashes', 'key');
  validateTemplate(input.body, input.channel);
  const note = cleanNote(input.note);
  return versioned(() =>
    deps.prisma.$transaction(async (tx) => {
      const now = deps.clock.now();
      const last = await tx.messageTemplateVersion.findFirst({ where: { key, channel: input.channel, language: input.language }, orderBy: { version: 'desc' } });
      const active = await tx.messageTemplate.findUnique({ where: { key_channel_language: { key, channel: input.channel, language: input.language } } });
      if ((last?.body ?? active?.body) === input.body) throw new DomainError('VALIDATION', 'The text is the same as the latest version', 'body');
      const templateVersion = await tx.messageTemplateVersion.create({
        data: { key, channel: input.channel, language: input.language, version: Math.max(last?.version ?? 0, active?.version ?? 0) + 1, body: input.body, note, createdById: actor.viewer.userId, createdAt: now },
      });
      await recordAudit(tx, auditActor(actor), now, {
        action: 'template.createVersion',
        entityType: 'MessageTemplateVersion',
        entityId: templateVersion.id,
        data: { key, channel: input.channel, language: input.language, version: templateVersion.version, body: input.body },
        reason: note || null,
      });
      return { templateVersion };
    }),
  );
}

export async function activateTemplateVersion(
  deps: VersionDeps,
  actor: Actor,
  input: { templateVersionId: string; reason: string },
): Promise<{ template: MessageTemplate; templateVersion: MessageTemplateVersion }> {
  const reason = requireReason(input.reason);
  return deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    const v = await tx.messageTemplateVersion.findUnique({ where: { id: input.templateVersionId } });
    if (!v) throw new DomainError('NOT_FOUND', 'No such template version', 'templateVersionId');
    const where = { key_channel_language: { key: v.key, channel: v.channel, language: v.language } };
    const before = await tx.messageTemplate.findUnique({ where });
    if (before && before.version === v.version && before.body === v.body) throw new DomainError('INVALID_TRANSITION', `Version ${v.version} is already the active one`, 'templateVersionId');
    const data = { body: v.body, version: v.version, activatedAt: now, activatedById: actor.viewer.userId };
    const template = before
      ? await tx.messageTemplate.update({ where, data })
      : await tx.messageTemplate.create({ data: { key: v.key, channel: v.channel, language: v.language, ...data, createdAt: now } });
    const templateVersion = await tx.messageTemplateVersion.update({ where: { id: v.id }, data: { activatedAt: now, activatedById: actor.viewer.userId } });
    await recordAudit(tx, auditActor(actor), now, {
      action: 'template.activate',
      entityType: 'MessageTemplate',
      entityId: template.id,
      data: {
        key: v.key,
        channel: v.channel,
        language: v.language,
        before: before ? { version: before.version, body: before.body } : null,
        after: { version: v.version, body: v.body },
      },
      reason,
    });
    return { template, templateVersion };
  });
}

export interface TemplatePreview {
  channel: ContactChannel;
  language: Language;
  version: number | null;
  /** The whole text as it would go out (opt-out line included where the policy asks for one). */
  text: string;
  /** EMAIL and LETTER: the first line. */
  subject: string | null;
  body: string;
}

/**
 * Renders a template with a case's facts, as it would go out now (or at `at`): a version by id
 * (any, active or not, to check it before activating), or the active template of a key for the
 * case's debtor's language. Reads only; the viewer must see the case.
 */
export async function previewTemplate(
  deps: VersionDeps,
  actor: Actor,
  input: { caseId: string; templateVersionId?: string | null; key?: string | null; channel?: ContactChannel | null; at?: Date | null },
): Promise<TemplatePreview> {
  const c = await deps.prisma.case.findFirst({ where: { id: input.caseId, ...caseVisibility(actor.viewer) }, include: { debtor: true, account: true } });
  if (!c) throw new DomainError('NOT_FOUND', 'No such case', 'caseId');
  let source: { body: string; channel: ContactChannel; language: Language; version: number | null };
  if (input.templateVersionId) {
    const v = await deps.prisma.messageTemplateVersion.findUnique({ where: { id: input.templateVersionId } });
    if (!v) throw new DomainError('NOT_FOUND', 'No such template version', 'templateVersionId');
    source = v;
  } else {
    if (!input.key || !input.channel) throw new DomainError('VALIDATION', 'Name a template version, or a key and a channel', 'key');
    const t = await deps.prisma.messageTemplate.findUnique({ where: { key_channel_language: { key: input.key, channel: input.channel, language: c.debtor.language } } });
    if (!t) throw new DomainError('NOT_FOUND', `Template ${input.key} has no ${input.channel} text in ${c.debtor.language}`, 'key');
    source = t;
  }
  const policy = await getContactPolicy(deps.prisma, c.debtor.jurisdiction);
  const vars = templateVars({
    debtor: { fullName: c.debtor.fullName, language: source.language, timeZone: c.debtor.timeZone },
    case: { caseNo: c.caseNo, overdueTotal: c.overdueTotal, currency: c.currency },
    account: { cardLast4: c.account.cardLast4 },
    at: input.at ?? deps.clock.now(),
  });
  let text: string;
  try {
    text = renderMessage({ body: source.body, channel: source.channel, language: source.language, optOutLineRequired: policy.optOutLineRequired, vars });
  } catch (err) {
    if (err instanceof TemplateRenderError) throw new DomainError('VALIDATION', err.message, 'templateVersionId');
    throw err;
  }
  const titled = source.channel === 'EMAIL' || source.channel === 'LETTER';
  const parts = titled ? splitEmail(text) : { subject: null, body: text };
  return { channel: source.channel, language: source.language, version: source.version, text, subject: parts.subject, body: parts.body };
}

// ---------------------------------------------------------------- dunning rules

export interface CreateDunningRuleVersionInput {
  name: string;
  minDaysPastDue: number;
  maxDaysPastDue?: number | null;
  channel: ContactChannel;
  templateKey: string;
  cadenceDays: number;
  active: boolean;
  note?: string | null;
}

async function checkRule(db: Tx, input: CreateDunningRuleVersionInput): Promise<void> {
  if (!KEY.test(input.name)) throw new DomainError('VALIDATION', 'name: 3 to 64 lower-case letters, digits and dashes', 'name');
  if (!Number.isInteger(input.minDaysPastDue) || input.minDaysPastDue < 1 || input.minDaysPastDue > 36500) throw new DomainError('VALIDATION', 'minDaysPastDue: 1 to 36500', 'minDaysPastDue');
  if (input.maxDaysPastDue != null && (!Number.isInteger(input.maxDaysPastDue) || input.maxDaysPastDue < input.minDaysPastDue || input.maxDaysPastDue > 36500)) {
    throw new DomainError('VALIDATION', 'maxDaysPastDue: at least minDaysPastDue, at most 36500 (or none)', 'maxDaysPastDue');
  }
  if (!Number.isInteger(input.cadenceDays) || input.cadenceDays < 0 || input.cadenceDays > 365) throw new DomainError('VALIDATION', 'cadenceDays: 0 (once) to 365', 'cadenceDays');
  if (!AUTOMATIC_CHANNELS.includes(input.channel)) throw new DomainError('VALIDATION', `Automatic reminders go by ${AUTOMATIC_CHANNELS.join(' or ')}; calls and letters are sent by people`, 'channel');
  // A rule whose template lacks a language would skip those debtors in silence.
  const have = await db.messageTemplate.findMany({ where: { key: input.templateKey, channel: input.channel }, select: { language: true } });
  const missing = LANGUAGES.filter((l) => !have.some((h) => h.language === l));
  if (missing.length) throw new DomainError('VALIDATION', `Template ${input.templateKey} has no active ${input.channel} text in ${missing.join(', ')}`, 'templateKey');
}

export async function createDunningRuleVersion(deps: VersionDeps, actor: Actor, input: CreateDunningRuleVersionInput): Promise<{ ruleVersion: DunningRuleVersion }> {
  const note = cleanNote(input.note);
  return versioned(() =>
    deps.prisma.$transaction(async (tx) => {
      const now = deps.clock.now();
      await checkRule(tx, input);
      const last = await tx.dunningRuleVersion.findFirst({ where: { name: input.name }, orderBy: { version: 'desc' } });
      const active = await tx.dunningRule.findUnique({ where: { name: input.name } });
      const fields = { minDaysPastDue: input.minDaysPastDue, maxDaysPastDue: input.maxDaysPastDue ?? null, channel: input.channel, templateKey: input.templateKey, cadenceDays: input.cadenceDays, active: input.active };
      const ruleVersion = await tx.dunningRuleVersion.create({
        data: { name: input.name, version: Math.max(last?.version ?? 0, active?.version ?? 0) + 1, ...fields, note, createdById: actor.viewer.userId, createdAt: now },
      });
      await recordAudit(tx, auditActor(actor), now, { action: 'dunningRule.createVersion', entityType: 'DunningRuleVersion', entityId: ruleVersion.id, data: { name: input.name, version: ruleVersion.version, ...fields }, reason: note || null });
      return { ruleVersion };
    }),
  );
}

const RULE_FIELDS = ['minDaysPastDue', 'maxDaysPastDue', 'channel', 'templateKey', 'cadenceDays', 'active'] as const;
const ruleFields = (r: Pick<DunningRule, (typeof RULE_FIELDS)[number]>) => Object.fromEntries(RULE_FIELDS.map((f) => [f, r[f]]));

export async function activateDunningRuleVersion(deps: VersionDeps, actor: Actor, input: { ruleVersionId: string; reason: string }): Promise<{ rule: DunningRule; ruleVersion: DunningRuleVersion }> {
  const reason = requireReason(input.reason);
  return deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    const v = await tx.dunningRuleVersion.findUnique({ where: { id: input.ruleVersionId } });
    if (!v) throw new DomainError('NOT_FOUND', 'No such dunning rule version', 'ruleVersionId');
    const before = await tx.dunningRule.findUnique({ where: { name: v.name } });
    if (before && before.version === v.version) throw new DomainError('INVALID_TRANSITION', `Version ${v.version} is already the active one`, 'ruleVersionId');
    // Its template may have changed since the version was written: checked again now.
    if (v.active) await checkRule(tx, { ...v, note: null });
    const data = { ...ruleFields(v), version: v.version, activatedAt: now, activatedById: actor.viewer.userId } as Omit<DunningRule, 'id' | 'name' | 'createdAt' | 'updatedAt'>;
    // The same row (and id) stays: automatic reminders already sent under the rule keep their keys.
    const rule = before ? await tx.dunningRule.update({ where: { name: v.name }, data }) : await tx.dunningRule.create({ data: { name: v.name, ...data, createdAt: now } });
    const ruleVersion = await tx.dunningRuleVersion.update({ where: { id: v.id }, data: { activatedAt: now, activatedById: actor.viewer.userId } });
    await recordAudit(tx, auditActor(actor), now, {
      action: 'dunningRule.activate',
      entityType: 'DunningRule',
      entityId: rule.id,
      data: { name: v.name, before: before ? { version: before.version, ...ruleFields(before) } : null, after: { version: v.version, ...ruleFields(v) } },
      reason,
    });
    return { rule, ruleVersion };
  });
}
