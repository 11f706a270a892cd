import { builder } from '../../builder.ts';
import { formatMoney, toSafeNumber, type Money } from '../../lib/money.ts';
import { DomainError, USER_ERROR_CODES, type UserError } from '../../lib/errors.ts';
import { noteRefusal } from '../audit/denials.ts';

export const CURRENCY_CODES = ['CNY', 'USD', 'HKD', 'EUR', 'GBP', 'JPY'] as const;

export const CurrencyCode = builder.enumType('CurrencyCode', {
  description: 'ISO 4217 currency code.',
  values: CURRENCY_CODES,
});

const LOCALE_OF_CURRENCY: Record<string, string> = { CNY: 'zh-CN', USD: 'en-US', HKD: 'zh-HK', EUR: 'en-IE', GBP: 'en-GB', JPY: 'ja-JP' };

export const MoneyRef = builder.objectRef<Money>('Money').implement({
  description: 'An exact amount: an integer number of minor units (fen, cents) and its currency. Never a float.',
  fields: (t) => ({
    minorUnits: t.field({ type: 'SafeInt', resolve: (m) => toSafeNumber(m.minorUnits) }),
    currency: t.field({ type: CurrencyCode, resolve: (m) => m.currency as (typeof CURRENCY_CODES)[number] }),
    formatted: t.string({
      description: 'The amount as people read it, e.g. ¥12,345.67.',
      resolve: (m) => formatMoney(m, LOCALE_OF_CURRENCY[m.currency] ?? 'en-US'),
    }),
  }),
});

export const UserErrorCodeEnum = builder.enumType('UserErrorCode', { values: USER_ERROR_CODES });

export const UserErrorRef = builder.objectRef<UserError>('UserError').implement({
  description: 'An expected refusal: nothing was changed. Switch on `code`; `field` names the input at fault.',
  fields: (t) => ({
    code: t.field({ type: UserErrorCodeEnum, resolve: (e) => e.code }),
    field: t.stringList({ nullable: true, resolve: (e) => e.field }),
    message: t.exposeString('message'),
  }),
});

export const SortDirection = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });

/**
 * A named connection with `totalCount`, for node types listed from more than one place
 * (`cases` and `viewer.workQueue` both return CaseConnection). The count is the resolver's
 * `totalCount` option, computed only when selected.
 */
export function countedConnection<T extends object>(type: import('@pothos/core').ObjectRef<any, T>, name: string, totalCountDescription?: string) {
  return builder.connectionObject({
    type,
    name,
    fields: (t) => ({
      totalCount: t.int({
        ...(totalCountDescription ? { description: totalCountDescription } : {}),
        resolve: (conn) => {
          const count = (conn as { totalCount?: (() => number | Promise<number>) | number }).totalCount;
          return typeof count === 'function' ? count() : (count ?? 0);
        },
      }),
    }),
  });
}

/**
 * Runs a service call for a mutation: a DomainError (an expected refusal; the service's
 * transaction rolled back) becomes `userErrors`, anything else propagates and is masked.
 */
export async function withUserErrors<T extends object>(fn: () => Promise<T>): Promise<Partial<T> & { userErrors: UserError[] }> {
  try {
    return { ...(await fn()), userErrors: [] };
  } catch (err) {
    if (err instanceof DomainError) {
      noteRefusal(err); // a FORBIDDEN_ACTION goes to the audit of denials
      return { userErrors: [err.toUserError()] } as Partial<T> & { userErrors: UserError[] };
    }
    throw err;
  }
}

/**
 * `XPayload { <key>: X, userErrors: [UserError!]! }`: the shape of every mutation's answer
 * (API.md). The object is null when the mutation refused.
 */
export function mutationPayload<K extends string, T extends object>(
  name: string,
  key: K,
  type: import('@pothos/core').ObjectRef<any, T>,
  description?: string,
) {
  type Shape = { userErrors: UserError[] } & { [P in K]?: T | null };
  return builder.objectRef<Shape>(name).implement({
    ...(description ? { description } : {}),
    fields: (t) => ({
      [key]: t.field({ type, nullable: true, resolve: (p: Shape) => (p[key] ?? null) as never }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p: Shape) => p.userErrors }),
    }),
  });
}
