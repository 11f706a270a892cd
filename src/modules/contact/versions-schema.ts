import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import { isAgencyRole, type Viewer } from '../../auth/viewer.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { UserError } from '../../lib/errors.ts';
import { DomainError } from '../../lib/errors.ts';
import type { DunningRule, DunningRuleVersion, MessageTemplate, MessageTemplateVersion } from '../../generated/prisma/client.ts';
import { UserErrorRef, withUserErrors } from '../common/schema.ts';
import { ContactChannel, Language } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import * as service from './versions.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
/** Templates and rules are changed by bank admins (like the contact policy); the bank reads them. */
const ADMINS: Role[] = ['BANK_ADMIN'];
/** node(id) finds templates and rules for the bank only: an agency's node() answers null. */
const bankOnly = (viewer: Viewer) => (isAgencyRole(viewer.role) ? { id: '00000000-0000-0000-0000-000000000000' } : {});

export const MessageTemplateRef = builder.prismaNode('MessageTemplate', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [bankOnly(ctx.viewer)] }),
  description: 'The active text of a template (key, channel, language): what reminders and letters render.',
  fields: (t) => ({
    key: t.exposeString('key'),
    channel: t.expose('channel', { type: ContactChannel }),
    language: t.expose('language', { type: Language }),
    body: t.exposeString('body', { description: '`{{name}}` placeholders; EMAIL and LETTER start with a subject or title line, then an empty line.' }),
    version: t.exposeInt('version', { description: 'The active version.' }),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const MessageTemplateVersionRef = builder.prismaNode('MessageTemplateVersion', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [bankOnly(ctx.viewer)] }),
  description: 'One version of a template, kept for good; activating it makes it the active text.',
  fields: (t) => ({
    key: t.exposeString('key'),
    channel: t.expose('channel', { type: ContactChannel }),
    language: t.expose('language', { type: Language }),
    version: t.exposeInt('version'),
    body: t.exposeString('body'),
    note: t.exposeString('note'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true, description: 'When it was last made the active version; null: never.' }),
  }),
});

export const DunningRuleRef = builder.prismaNode('DunningRule', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [bankOnly(ctx.viewer)] }),
  description: 'An automatic-reminder rule in force: for a band of days past due, which channel and template, how often.',
  fields: (t) => ({
    name: t.exposeString('name'),
    minDaysPastDue: t.exposeInt('minDaysPastDue'),
    maxDaysPastDue: t.exposeInt('maxDaysPastDue', { nullable: true }),
    channel: t.expose('channel', { type: ContactChannel }),
    templateKey: t.exposeString('templateKey'),
    cadenceDays: t.exposeInt('cadenceDays', { description: 'Days between two reminders of the rule on one case; 0: once.' }),
    active: t.exposeBoolean('active'),
    version: t.exposeInt('version'),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const DunningRuleVersionRef = builder.prismaNode('DunningRuleVersion', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [bankOnly(ctx.viewer)] }),
  description: 'One version of a dunning rule, kept for good.',
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeInt('version'),
    minDaysPastDue: t.exposeInt('minDaysPastDue'),
    maxDaysPastDue: t.exposeInt('maxDaysPastDue', { nullable: true }),
    channel: t.expose('channel', { type: ContactChannel }),
    templateKey: t.exposeString('templateKey'),
    cadenceDays: t.exposeInt('cadenceDays'),
    active: t.exposeBoolean('active'),
    note: t.exposeString('note'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true }),
  }),
});

const TemplatePreviewRef = builder.objectRef<service.TemplatePreview>('TemplatePreview').implement({
  description: 'A template rendered with a case, as it would go out.',
  fields: (t) => ({
    channel: t.field({ type: ContactChannel, resolve: (p) => p.channel }),
    language: t.field({ type: Language, resolve: (p) => p.language }),
    version: t.int({ nullable: true, resolve: (p) => p.version }),
    text: t.string({ description: 'The whole text, with the opt-out line where the policy asks for one.', resolve: (p) => p.text }),
    subject: t.string({ nullable: true, description: 'EMAIL: the subject; LETTER: the title.', resolve: (p) => p.subject }),
    body: t.string({ resolve: (p) => p.body }),
  }),
});

const bank = { bank: true } as const;

builder.queryFields((t) => ({
  messageTemplates: t.prismaConnection({
    type: 'MessageTemplate',
    cursor: 'id',
    description: 'The active templates, by key, channel and language.',
    authScopes: bank,
    args: { key: t.arg.string({ required: false }), channel: t.arg({ type: ContactChannel, required: false }), language: t.arg({ type: Language, required: false }) },
    resolve: (query, _r, args, ctx) =>
      ctx.prisma.messageTemplate.findMany({
        ...query,
        where: { ...(args.key ? { key: args.key } : {}), ...(args.channel ? { channel: args.channel } : {}), ...(args.language ? { language: args.language } : {}) },
        orderBy: [{ key: 'asc' }, { channel: 'asc' }, { language: 'asc' }, { id: 'asc' }],
      }),
  }),
  messageTemplateVersions: t.prismaConnection({
    type: 'MessageTemplateVersion',
    cursor: 'id',
    description: 'Every version of one template, newest first.',
    authScopes: bank,
    args: { key: t.arg.string(), channel: t.arg({ type: ContactChannel }), language: t.arg({ type: Language }) },
    resolve: (query, _r, args, ctx) =>
      ctx.prisma.messageTemplateVersion.findMany({ ...query, where: { key: args.key, channel: args.channel, language: args.language }, orderBy: [{ version: 'desc' }, { id: 'desc' }] }),
  }),
  dunningRules: t.prismaConnection({
    type: 'DunningRule',
    cursor: 'id',
    description: 'The automatic-reminder rules in force.',
    authScopes: bank,
    resolve: (query, _r, _a, ctx) => ctx.prisma.dunningRule.findMany({ ...query, orderBy: [{ minDaysPastDue: 'asc' }, { name: 'asc' }, { id: 'asc' }] }),
  }),
  dunningRuleVersions: t.prismaConnection({
    type: 'DunningRuleVersion',
    cursor: 'id',
    description: 'Every version of one dunning rule, newest first.',
    authScopes: bank,
    args: { name: t.arg.string() },
    resolve: (query, _r, args, ctx) => ctx.prisma.dunningRuleVersion.findMany({ ...query, where: { name: args.name }, orderBy: [{ version: 'desc' }, { id: 'desc' }] }),
  }),
  previewMessageTemplate: t.field({
    type: TemplatePreviewRef,
    description: 'A template rendered with a case’s facts: a version by id (active or not), or the active template of a key in the debtor’s language.',
    authScopes: bank,
    args: {
      caseId: t.arg.globalID({ for: [CaseRef] }),
      templateVersionId: t.arg.globalID({ required: false, for: [MessageTemplateVersionRef] }),
      key: t.arg.string({ required: false }),
      channel: t.arg({ type: ContactChannel, required: false }),
      at: t.arg({ type: 'DateTime', required: false, description: 'As if sent then (the deadline counts from it); default now.' }),
    },
    resolve: async (_r, args, ctx) => {
      try {
        return await service.previewTemplate(ctx, actorOf(ctx), { caseId: args.caseId.id, templateVersionId: args.templateVersionId?.id ?? null, key: args.key ?? null, channel: args.channel ?? null, at: args.at ?? null });
      } catch (err) {
        if (err instanceof DomainError) throw new (await import('graphql')).GraphQLError(err.message, { extensions: { code: err.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'BAD_USER_INPUT', field: err.field } });
        throw err;
      }
    },
  }),
}));

const CreateMessageTemplateVersionInput = builder.inputType('CreateMessageTemplateVersionInput', {
  fields: (t) => ({
    key: t.string({ description: 'An existing key for a new version, or a new key.' }),
    channel: t.field({ type: ContactChannel }),
    language: t.field({ type: Language }),
    body: t.string({ description: 'Placeholders: {{debtorName}} {{amount}} {{cardLast4}} {{deadline}} {{bankName}} {{caseNumber}}.' }),
    note: t.string({ required: false, description: 'What changed and why.' }),
  }),
});
const ActivateMessageTemplateVersionInput = builder.inputType('ActivateMessageTemplateVersionInput', {
  fields: (t) => ({ templateVersionId: t.globalID({ for: [MessageTemplateVersionRef] }), reason: t.string({ description: 'Kept in the audit log with the text before and after.' }) }),
});
const CreateDunningRuleVersionInput = builder.inputType('CreateDunningRuleVersionInput', {
  fields: (t) => ({
    name: t.string({ description: 'An existing rule for a new version, or a new rule.' }),
    minDaysPastDue: t.int(),
    maxDaysPastDue: t.int({ required: false, description: 'None: no upper bound.' }),
    channel: t.field({ type: ContactChannel, description: 'SMS or EMAIL.' }),
    templateKey: t.string({ description: 'A template with active text for the channel in both languages.' }),
    cadenceDays: t.int({ description: '0: once.' }),
    active: t.boolean(),
    note: t.string({ required: false }),
  }),
});
const ActivateDunningRuleVersionInput = builder.inputType('ActivateDunningRuleVersionInput', {
  fields: (t) => ({ ruleVersionId: t.globalID({ for: [DunningRuleVersionRef] }), reason: t.string() }),
});

type TemplateResult = { template?: MessageTemplate | null; templateVersion?: MessageTemplateVersion | null; userErrors: UserError[] };
type RuleResult = { rule?: DunningRule | null; ruleVersion?: DunningRuleVersion | null; userErrors: UserError[] };
const templatePayload = (name: string) =>
  builder.objectRef<TemplateResult>(name).implement({
    fields: (t) => ({
      template: t.field({ type: MessageTemplateRef, nullable: true, resolve: (p) => p.template ?? null }),
      templateVersion: t.field({ type: MessageTemplateVersionRef, nullable: true, resolve: (p) => p.templateVersion ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
const rulePayload = (name: string) =>
  builder.objectRef<RuleResult>(name).implement({
    fields: (t) => ({
      rule: t.field({ type: DunningRuleRef, nullable: true, resolve: (p) => p.rule ?? null }),
      ruleVersion: t.field({ type: DunningRuleVersionRef, nullable: true, resolve: (p) => p.ruleVersion ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationFields((t) => ({
  createMessageTemplateVersion: t.field({
    type: templatePayload('CreateMessageTemplateVersionPayload'),
    description: 'A new version of a template (or a new template); not in use until activated. Audited.',
    authScopes: { role: ADMINS },
    args: { input: t.arg({ type: CreateMessageTemplateVersionInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.createTemplateVersion(ctx, actorOf(ctx), input)),
  }),
  activateMessageTemplateVersion: t.field({
    type: templatePayload('ActivateMessageTemplateVersionPayload'),
    description: 'Makes a version the active text: reminders and letters render it from now on. Audited with before and after.',
    authScopes: { role: ADMINS },
    args: { input: t.arg({ type: ActivateMessageTemplateVersionInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.activateTemplateVersion(ctx, actorOf(ctx), { templateVersionId: input.templateVersionId.id, reason: input.reason })),
  }),
  createDunningRuleVersion: t.field({
    type: rulePayload('CreateDunningRuleVersionPayload'),
    description: 'A new version of a dunning rule (or a new rule); not in force until activated. Audited.',
    authScopes: { role: ADMINS },
    args: { input: t.arg({ type: CreateDunningRuleVersionInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.createDunningRuleVersion(ctx, actorOf(ctx), input)),
  }),
  activateDunningRuleVersion: t.field({
    type: rulePayload('ActivateDunningRuleVersionPayload'),
    description: 'Puts a version of a rule in force: the automatic-reminder job uses it from its next run. Audited with before and after.',
    authScopes: { role: ADMINS },
    args: { input: t.arg({ type: ActivateDunningRuleVersionInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.activateDunningRuleVersion(ctx, actorOf(ctx), { ruleVersionId: input.ruleVersionId.id, reason: input.reason })),
  }),
}));
