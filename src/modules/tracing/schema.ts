import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Address as AddressShape, Case as CaseShape, ContactPoint as ContactPointShape } from '../../generated/prisma/client.ts';
import { UserErrorRef, withUserErrors } from '../common/schema.ts';
import { AddressKind, ContactParty, ContactPointKind, ContactSource, VerificationStatus } from '../common/enums.ts';
import { AddressRef, CaseRef, ContactPointRef } from '../cases/schema.ts';
import * as service from './service.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
/** Who traces and marks: whoever works the case. */
const TRACERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];
/** Who verifies: the bank. */
const VERIFIERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR'];

type CpResult = { contactPoint?: ContactPointShape | null; case?: CaseShape | null; userErrors: UserError[] };
type AddrResult = { address?: AddressShape | null; case?: CaseShape | null; userErrors: UserError[] };

function contactPointPayload(name: string) {
  return builder.objectRef<CpResult>(name).implement({
    fields: (t) => ({
      contactPoint: t.field({ type: ContactPointRef, nullable: true, resolve: (p) => p.contactPoint ?? null }),
      case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}
function addressPayload(name: string) {
  return builder.objectRef<AddrResult>(name).implement({
    fields: (t) => ({
      address: t.field({ type: AddressRef, nullable: true, resolve: (p) => p.address ?? null }),
      case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

const AddContactPointInput = builder.inputType('AddContactPointInput', {
  description: 'A phone number or e-mail address found for the debtor of a case the viewer works.',
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    kind: t.field({ type: ContactPointKind }),
    value: t.string(),
    party: t.field({ type: ContactParty, required: false, description: 'DEBTOR (default) or THIRD_PARTY (never told of the debt; give the relation).' }),
    relation: t.string({ required: false }),
    source: t.field({ type: ContactSource, description: 'An agency gives AGENCY_TRACE, DEBTOR or PUBLIC_RECORD.' }),
    sourceNote: t.string({ required: false, description: 'Where it was found, in a few words.' }),
    expectedVersion: t.int({ required: false }),
  }),
});
const AddAddressInput = builder.inputType('AddAddressInput', {
  description: 'An address found for the debtor of a case the viewer works.',
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    kind: t.field({ type: AddressKind }),
    line1: t.string(),
    line2: t.string({ required: false }),
    city: t.string(),
    region: t.string(),
    postalCode: t.string({ required: false }),
    country: t.string({ required: false, description: 'ISO 3166 alpha-2, default CN.' }),
    source: t.field({ type: ContactSource }),
    sourceNote: t.string({ required: false }),
    expectedVersion: t.int({ required: false }),
  }),
});
const VerifyContactPointInput = builder.inputType('VerifyContactPointInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    contactPointId: t.globalID({ for: [ContactPointRef] }),
    status: t.field({ type: VerificationStatus, description: 'VERIFIED, or REJECTED (not the debtor’s: no longer contacted).' }),
    note: t.string({ required: false }),
  }),
});
const VerifyAddressInput = builder.inputType('VerifyAddressInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    addressId: t.globalID({ for: [AddressRef] }),
    status: t.field({ type: VerificationStatus }),
    note: t.string({ required: false }),
  }),
});
const MarkContactPointWrongNumberInput = builder.inputType('MarkContactPointWrongNumberInput', {
  fields: (t) => ({ caseId: t.globalID({ for: [CaseRef] }), contactPointId: t.globalID({ for: [ContactPointRef] }), note: t.string({ description: 'What showed it is a wrong number.' }) }),
});
const MarkAddressMovedAwayInput = builder.inputType('MarkAddressMovedAwayInput', {
  fields: (t) => ({ caseId: t.globalID({ for: [CaseRef] }), addressId: t.globalID({ for: [AddressRef] }), note: t.string({ description: 'What showed the debtor moved away.' }) }),
});

builder.mutationFields((t) => ({
  addContactPoint: t.field({
    type: contactPointPayload('AddContactPointPayload'),
    description: 'Skip tracing: a new phone or e-mail of the debtor, with its source; UNVERIFIED until the bank verifies it. An agency adds to the cases it holds, in its own era.',
    authScopes: { role: TRACERS },
    args: { input: t.arg({ type: AddContactPointInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.addContactPoint(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
  addAddress: t.field({
    type: addressPayload('AddAddressPayload'),
    description: 'Skip tracing: a new address of the debtor, with its source; UNVERIFIED until the bank verifies it.',
    authScopes: { role: TRACERS },
    args: { input: t.arg({ type: AddAddressInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.addAddress(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
  verifyContactPoint: t.field({
    type: contactPointPayload('VerifyContactPointPayload'),
    description: 'The bank confirms or rejects a contact point; audited with before and after.',
    authScopes: { role: VERIFIERS },
    args: { input: t.arg({ type: VerifyContactPointInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.verifyContactPoint(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id, contactPointId: input.contactPointId.id })),
  }),
  verifyAddress: t.field({
    type: addressPayload('VerifyAddressPayload'),
    description: 'The bank confirms or rejects an address; audited with before and after.',
    authScopes: { role: VERIFIERS },
    args: { input: t.arg({ type: VerifyAddressInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.verifyAddress(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id, addressId: input.addressId.id })),
  }),
  markContactPointWrongNumber: t.field({
    type: contactPointPayload('MarkContactPointWrongNumberPayload'),
    description: 'A wrong number is marked, never deleted: it is no longer contacted.',
    authScopes: { role: TRACERS },
    args: { input: t.arg({ type: MarkContactPointWrongNumberInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.markContactPointWrongNumber(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id, contactPointId: input.contactPointId.id })),
  }),
  markAddressMovedAway: t.field({
    type: addressPayload('MarkAddressMovedAwayPayload'),
    description: 'The debtor moved away: the address is marked, never deleted; no visit or letter goes there.',
    authScopes: { role: TRACERS },
    args: { input: t.arg({ type: MarkAddressMovedAwayInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.markAddressMovedAway(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id, addressId: input.addressId.id })),
  }),
}));
