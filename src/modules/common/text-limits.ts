import {
  GraphQLError,
  GraphQLString,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  isObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { UserError } from '../../lib/errors.ts';

/**
 * Every free text a client sends has a length limit (issue 11: a 1 MiB external reference was
 * taken). One limit for all, checked here for every String argument and input field of every
 * query and mutation, whichever module defined it; shorter limits for the fields that name or
 * refer to something. Longer texts are refused as VALIDATION naming the field (a mutation) or
 * BAD_USER_INPUT (a query), before any resolver runs: nothing is changed.
 */
export const MAX_TEXT_LENGTH = 2000;

/** Limits other than MAX_TEXT_LENGTH, by `InputType.field` (or `Type.field.argument`). */
export const TEXT_LIMITS: Readonly<Record<string, number>> = {
  'RecordPaymentInput.externalReference': 100,
  'RecordPaymentInput.idempotencyKey': 200,
  'ScheduleReminderInput.idempotencyKey': 200,
  'RecordPromiseToPayInput.idempotencyKey': 200,
  'PlanVisitInput.idempotencyKey': 200,
  'UploadEvidenceInput.idempotencyKey': 200,
  'SendLetterInput.idempotencyKey': 200,
  'SendLetterInput.templateKey': 100,
  'ImportCasesInput.idempotencyKey': 200,
  'ScheduleReminderInput.templateKey': 100,
  'AddressInput.line1': 200,
  'AddressInput.line2': 200,
  'AddressInput.city': 100,
  'AddressInput.region': 100,
  'AddressInput.postalCode': 20,
  'AddressInput.country': 2,
  'CardAccountInput.externalRef': 64,
  'CardAccountInput.cardLast4': 4,
  'CardAccountInput.product': 100,
  'DebtorInput.externalRef': 64,
  'DebtorInput.fullName': 200,
  'DebtorInput.nationalId': 30,
  'DebtorInput.timeZone': 64,
  'ContactPointInput.value': 254,
  'ContactPointInput.relation': 100,
  'CreateAgencyInput.code': 32,
  'CreateAgencyInput.name': 200,
  'CreateAgencyInput.licenseNumber': 100,
  'CreateAgencyInput.dataProcessingContractRef': 100,
  'CreateUserInput.email': 254,
  'CreateUserInput.fullName': 200,
  'CreateUserInput.credentialNumber': 100,
  'CredentialShownInput.credentialNumber': 100,
  'IssueApiKeyInput.name': 100,
  'UpdateContactPolicyInput.contactHoursStart': 5,
  'UpdateContactPolicyInput.contactHoursEnd': 5,
  'CaseFilter.search': 200,
  'AuditEventFilter.action': 100,
  'PlanVisitInput.purpose': 500,
  'ReportVisitInput.report': 10_000,
  'RecordComplaintInput.description': 4000,
  'StartComplaintInvestigationInput.response': 4000,
  'DecideComplaintInput.findings': 4000,
  'OpenDisputeInput.description': 4000,
  'ResolveDisputeInput.note': 4000,
  'SetContactPreferencesInput.preferredHoursStart': 5,
  'SetContactPreferencesInput.preferredHoursEnd': 5,
};

/** Checked elsewhere: each imported row's texts are checked by intake, which rejects that row alone. */
const CHECKED_ELSEWHERE = new Set(['ImportCasesInput.rows']);

interface TooLong {
  path: string[];
  max: number;
  length: number;
}

function limitOf(key: string): number {
  return TEXT_LIMITS[key] ?? MAX_TEXT_LENGTH;
}

/** The first string in `value` (of GraphQL input type `type`) longer than its limit. */
function findTooLong(type: GraphQLInputType, value: unknown, key: string, path: string[]): TooLong | null {
  if (value === null || value === undefined) return null;
  const t = getNullableType(type);
  if (isListType(t)) {
    if (!Array.isArray(value)) return null;
    for (let i = 0; i < value.length; i++) {
      const found = findTooLong(t.ofType as GraphQLInputType, value[i], key, [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (t === GraphQLString) {
    const max = limitOf(key);
    return typeof value === 'string' && value.length > max ? { path, max, length: value.length } : null;
  }
  if (isInputObjectType(t) && typeof value === 'object') {
    for (const field of Object.values(t.getFields())) {
      if (CHECKED_ELSEWHERE.has(`${t.name}.${field.name}`)) continue;
      const found = findTooLong(field.type, (value as Record<string, unknown>)[field.name], `${t.name}.${field.name}`, [...path, field.name]);
      if (found) return found;
    }
  }
  return null;
}

/** Wraps every root field: a text over its limit is refused before the resolver runs. */
export function enforceTextLimits(schema: GraphQLSchema): GraphQLSchema {
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) {
      if (!field.args.length) continue;
      const returnsPayload = (() => {
        const named = getNamedType(field.type);
        return isObjectType(named) && 'userErrors' in named.getFields();
      })();
      const check = (args: Record<string, unknown>): TooLong | null => {
        for (const arg of field.args) {
          // `input` is the argument of every mutation: its fields are named without it.
          const found = findTooLong(arg.type, args[arg.name], `${root.name}.${field.name}.${arg.name}`, arg.name === 'input' ? [] : [arg.name]);
          if (found) return found;
        }
        return null;
      };
      const message = (f: TooLong) => `${f.path.join('.') || 'the text'}: at most ${f.max} characters (got ${f.length})`;
      const resolve = field.resolve;
      if (resolve) {
        field.resolve = (source, args, ctx, info) => {
          const found = check(args);
          if (!found) return resolve(source, args, ctx, info);
          if (returnsPayload) return { userErrors: [{ code: 'VALIDATION', field: found.path, message: message(found) } satisfies UserError] };
          throw new GraphQLError(message(found), { extensions: { code: 'BAD_USER_INPUT', field: found.path, max: found.max } });
        };
      }
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (source, args, ctx, info) => {
          const found = check(args);
          if (found) throw new GraphQLError(message(found), { extensions: { code: 'BAD_USER_INPUT', field: found.path, max: found.max } });
          return subscribe(source, args, ctx, info);
        };
      }
    }
  }
  return schema;
}
