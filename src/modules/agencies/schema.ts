import { builder } from '../../builder.ts';
import { agencyVisibility, userVisibility } from '../../auth/scopes.ts';
import { AgencyStatus, Role } from '../common/enums.ts';

export const AgencyRef = builder.prismaNode('Agency', {
  id: { field: 'id' },
  description: 'A partner collection agency. An agency principal sees only its own.',
  findUnique: (id, ctx) => ({ id, AND: [agencyVisibility(ctx.viewer)] }),
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
  id: { field: 'id' },
  description: 'A person who works cases: bank staff or an agency principal.',
  findUnique: (id, ctx) => ({ id, AND: [userVisibility(ctx.viewer)] }),
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
