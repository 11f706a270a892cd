import { builder } from '../../builder.ts';
import { agencyVisibility, userVisibility } from '../../auth/scopes.ts';
import { isAgencyRole } from '../../auth/viewer.ts';
import { AgencyStatus, Role } from '../common/enums.ts';
import { UserErrorRef, mutationPayload, withUserErrors } from '../common/schema.ts';
import type { UserError } from '../../lib/errors.ts';
import type { ApiKey as ApiKeyShape } from '../../generated/prisma/client.ts';
import type { Role as RoleValue } from '../../generated/prisma/enums.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import * as service from './service.ts';

export const AgencyRef = builder.prismaNode('Agency', {
  nullable: true,
  id: { field: 'id' },
  description: 'A partner collection agency. An agency principal sees only its own.',
  findUnique: (id, ctx) => ({ id, AND: [agencyVisibility(ctx.viewer)] }),
  // Defence in depth: whatever path loads an agency, an agency principal reads only its own.
  authScopes: (agency, ctx) => !isAgencyRole(ctx.viewer.role) || agency.id === ctx.viewer.agencyId,
  fields: (t) => ({
    code: t.exposeString('code'),
    name: t.exposeString('name'),
    licenseNumber: t.exposeString('licenseNumber'),
    status: t.expose('status', { type: AgencyStatus }),
    dataProcessingContractRef: t.exposeString('dataProcessingContractRef', {
      description: 'Reference of the data-processing contract with the bank (PIPL art. 21).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    inspections: t.relation('inspections', { query: { orderBy: { inspectedOn: 'desc' } } }),
    users: t.relatedConnection('users', {
      cursor: 'id',
      totalCount: true,
      query: { orderBy: { id: 'asc' } },
    }),
    caseCount: t.loadable({
      type: 'Int',
      description: 'Cases placed with the agency now, as far as the viewer sees them (one grouped count for a page of agencies).',
      load: (agencyIds: string[], ctx: Context) => service.caseCountsByAgency(ctx.prisma, ctx.viewer, agencyIds),
      resolve: (agency) => agency.id,
    }),
  }),
});

builder.prismaObject('AgencyInspection', {
  fields: (t) => ({
    inspectedOn: t.expose('inspectedOn', { type: 'Date' }),
    inspector: t.exposeString('inspector'),
    result: t.exposeString('result'),
    findings: t.exposeString('findings'),
  }),
});

export const UserRef = builder.prismaNode('User', {
  nullable: true,
  id: { field: 'id' },
  description: 'A person who works cases: bank staff or an agency principal.',
  findUnique: (id, ctx) => ({ id, AND: [userVisibility(ctx.viewer)] }),
  // Defence in depth: an agency principal reads its own people and the bank's, never another agency's.
  authScopes: (user, ctx) => !isAgencyRole(ctx.viewer.role) || user.agencyId === null || user.agencyId === ctx.viewer.agencyId,
  fields: (t) => ({
    email: t.exposeString('email'),
    fullName: t.exposeString('fullName'),
    role: t.expose('role', { type: Role }),
    agency: t.relation('agency', { nullable: true }),
    credentialNumber: t.exposeString('credentialNumber', { nullable: true, description: 'Work credential (工作证) number.' }),
    credentialExpiresOn: t.expose('credentialExpiresOn', { type: 'Date', nullable: true }),
    active: t.exposeBoolean('active'),
  }),
});

builder.queryField('agencies', (t) =>
  t.prismaConnection({
    type: 'Agency',
    cursor: 'id',
    description: 'Partner agencies: all of them for the bank, its own for an agency principal.',
    totalCount: (_parent, _args, ctx) => ctx.prisma.agency.count({ where: agencyVisibility(ctx.viewer) }),
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.agency.findMany({ ...query, where: agencyVisibility(ctx.viewer), orderBy: { id: 'asc' } }),
  }, { name: 'AgencyConnection' }),
);

// ---------------------------------------------------------------- administration (bank admin)

const ADMIN = { role: ['BANK_ADMIN'] as RoleValue[] };

export const ApiKeyRef = builder.prismaNode('ApiKey', {
  nullable: true,
  id: { field: 'id' },
  description: "A partner system's key: it acts as its user. Only a hash is stored; the secret was shown once.",
  authScopes: ADMIN,
  findUnique: (id, ctx) => ({ id, AND: [ctx.viewer.role === 'BANK_ADMIN' ? {} : { id: { in: [] } }] }),
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    user: t.relation('user'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    persistedOnly: t.exposeBoolean('persistedOnly', {
      description: "True: the key runs only the documents of the SDK's persisted manifest; anything else is refused with PERSISTED_DOCUMENT_REQUIRED.",
    }),
    costMaximum: t.exposeInt('costMaximum', { nullable: true, description: "The size of the key's bucket of cost points; null: the default for API keys." }),
    costRestoreRate: t.exposeInt('costRestoreRate', { nullable: true, description: "Cost points restored per second; null: the default for API keys." }),
  }),
});

const CreateAgencyInput = builder.inputType('CreateAgencyInput', {
  fields: (t) => ({
    code: t.string(),
    name: t.string(),
    licenseNumber: t.string(),
    dataProcessingContractRef: t.string({ description: 'The data-processing contract with the bank (PIPL art. 21).' }),
    status: t.field({ type: AgencyStatus, required: false }),
  }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    email: t.string(),
    fullName: t.string(),
    role: t.field({ type: Role }),
    agencyId: t.globalID({ required: false, for: [AgencyRef] }),
    credentialNumber: t.string({ required: false }),
    credentialExpiresOn: t.field({ type: 'Date', required: false }),
  }),
});

const IssueApiKeyInput = builder.inputType('IssueApiKeyInput', {
  fields: (t) => ({
    userId: t.globalID({ for: [UserRef] }),
    name: t.string(),
    expiresAt: t.field({ type: 'DateTime', required: false }),
    persistedOnly: t.boolean({
      required: false,
      defaultValue: true,
      description: "Default true: the key runs only the documents of the SDK's persisted manifest (partners' systems). False: any document.",
    }),
    costMaximum: t.int({ required: false, description: "The size of the key's bucket of cost points (1,000 to 1,000,000); default the API-key budget." }),
    costRestoreRate: t.int({ required: false, description: 'Cost points restored per second (1 to 100,000); given together with costMaximum.' }),
  }),
});

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  fields: (t) => ({ apiKeyId: t.globalID({ for: [ApiKeyRef] }) }),
});

const UserActivationInput = (name: string, what: string) =>
  builder.inputType(name, {
    fields: (t) => ({
      userId: t.globalID({ for: [UserRef] }),
      reason: t.string({ description: `Why the user is ${what}: kept in the audit log.` }),
    }),
  });
const DeactivateUserInput = UserActivationInput('DeactivateUserInput', 'switched off');
const ReactivateUserInput = UserActivationInput('ReactivateUserInput', 'switched back on');

const CreateAgencyPayload = mutationPayload('CreateAgencyPayload', 'agency', AgencyRef);
const CreateUserPayload = mutationPayload('CreateUserPayload', 'user', UserRef);
const RevokeApiKeyPayload = mutationPayload('RevokeApiKeyPayload', 'apiKey', ApiKeyRef);
const DeactivateUserPayload = mutationPayload('DeactivateUserPayload', 'user', UserRef);
const ReactivateUserPayload = mutationPayload('ReactivateUserPayload', 'user', UserRef);

type IssuedKey = { apiKey?: ApiKeyShape | null; secret?: string | null; userErrors: UserError[] };
const IssueApiKeyPayload = builder.objectRef<IssuedKey>('IssueApiKeyPayload').implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, nullable: true, resolve: (p) => p.apiKey ?? null }),
    secret: t.string({ nullable: true, description: 'The key itself (ak_…): shown this once, never again.', resolve: (p) => p.secret ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });

builder.mutationFields((t) => ({
  createAgency: t.field({
    type: CreateAgencyPayload,
    authScopes: ADMIN,
    args: { input: t.arg({ type: CreateAgencyInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.createAgency(ctx, actorOf(ctx), input)),
  }),
  createUser: t.field({
    type: CreateUserPayload,
    authScopes: ADMIN,
    args: { input: t.arg({ type: CreateUserInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.createUser(ctx, actorOf(ctx), { ...input, agencyId: input.agencyId?.id ?? null })),
  }),
  issueApiKey: t.field({
    type: IssueApiKeyPayload,
    authScopes: ADMIN,
    args: { input: t.arg({ type: IssueApiKeyInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.issueApiKey(ctx, actorOf(ctx), { ...input, persistedOnly: input.persistedOnly ?? true, userId: input.userId.id })),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeyPayload,
    authScopes: ADMIN,
    args: { input: t.arg({ type: RevokeApiKeyInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.revokeApiKey(ctx, actorOf(ctx), { apiKeyId: input.apiKeyId.id })),
  }),
  deactivateUser: t.field({
    type: DeactivateUserPayload,
    description: "Switches a user off: their tokens and API keys are refused from the next request on. Bank admins; audited.",
    authScopes: ADMIN,
    args: { input: t.arg({ type: DeactivateUserInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.deactivateUser(ctx, actorOf(ctx), { userId: input.userId.id, reason: input.reason })),
  }),
  reactivateUser: t.field({
    type: ReactivateUserPayload,
    description: 'Switches a user back on (their unrevoked API keys work again). Bank admins; audited.',
    authScopes: ADMIN,
    args: { input: t.arg({ type: ReactivateUserInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.reactivateUser(ctx, actorOf(ctx), { userId: input.userId.id, reason: input.reason })),
  }),
}));
