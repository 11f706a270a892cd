/**
 * Card usage (issue 18, point 1): the statements and transactions the bank sends at intake, kept
 * per card account and read as connections of `CardAccount`. An account is visible only through a
 * case the viewer sees (visibleRecords.CardAccount), so its usage is scoped like the case: an
 * agency reads the usage of accounts whose case is placed with it, a bank collector of their own.
 */
import { builder } from '../../builder.ts';
import { money } from '../../lib/money.ts';
import { MoneyRef } from '../common/schema.ts';

export const CardStatementRef = builder.prismaObject('CardStatement', {
  description: 'One monthly statement of a card account, as the bank sent it at intake.',
  fields: (t) => ({
    periodStart: t.expose('periodStart', { type: 'Date' }),
    periodEnd: t.expose('periodEnd', { type: 'Date' }),
    statementBalance: t.field({ type: MoneyRef, resolve: (s) => money(s.statementBalance, s.currency) }),
    minimumDue: t.field({ type: MoneyRef, resolve: (s) => money(s.minimumDue, s.currency) }),
    amountPaid: t.field({ type: MoneyRef, description: 'Paid against this statement by its due date.', resolve: (s) => money(s.amountPaid, s.currency) }),
    dueDate: t.expose('dueDate', { type: 'Date' }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime', description: 'When the intake that sent it was taken in.' }),
  }),
});

export const CardTransactionRef = builder.prismaObject('CardTransaction', {
  description: 'One posted card transaction, as the bank sent it at intake.',
  fields: (t) => ({
    postedOn: t.expose('postedOn', { type: 'Date' }),
    merchantCategory: t.exposeString('merchantCategory'),
    merchantName: t.exposeString('merchantName', { nullable: true }),
    amount: t.field({ type: MoneyRef, description: 'Positive a purchase or fee, negative a refund or credit.', resolve: (s) => money(s.amount, s.currency) }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('CardAccount', (t) => ({
  statements: t.relatedConnection('statements', {
    cursor: 'id',
    totalCount: true,
    description: 'Recent statements (at most 12), newest period first.',
    query: () => ({ orderBy: [{ periodEnd: 'desc' }, { id: 'desc' }] }),
  }),
  transactions: t.relatedConnection('transactions', {
    cursor: 'id',
    totalCount: true,
    description: 'Recent transactions (at most 200), newest first.',
    query: () => ({ orderBy: [{ postedOn: 'desc' }, { id: 'desc' }] }),
  }),
}));
