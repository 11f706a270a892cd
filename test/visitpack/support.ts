/**
 * Helpers for the visit pack tests (issue 18): a North field case with card usage, a plan and a
 * promise; the print and sign mutations; a PDF's text (unpdf), whitespace removed so that a line
 * broken by the layout still matches.
 */
import { expect } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import type { Jurisdiction, Language } from '../../src/generated/prisma/enums.ts';
import { M, gid, rawId, steps, type FieldCase, type UserKey, type VisitWorld } from '../visits/support.ts';

export const DOC = `id kind language jurisdiction sha256 nationalIdRevealed printedAt printedBy { id fullName } downloadUrl
  evidence { id kind sha256 contentType fileName visit { id } } plan { id status } promise { id status } visit { id }`;
export const SIG = `id method status signedAt recordedAt place latitude longitude sha256 collector { id } downloadUrl
  evidence { id kind sha256 contentType } document { id kind } plan { id status } promise { id }`;
export const PRINT = `mutation($input: PrintVisitDocumentsInput!) { printVisitDocuments(input: $input) { documents { ${DOC} } visit { id } userErrors { code field message } } }`;
export const SIGN = `mutation($input: SignVisitDocumentInput!) { signVisitDocument(input: $input) { signature { ${SIG} } evidence { id } case { id version } userErrors { code field message } } }`;
export const PROPOSE = `mutation($input: ProposeRepaymentPlanInput!) { proposeRepaymentPlan(input: $input) { plan { id status instalments { seq dueDate amount { minorUnits } } } userErrors { code field message } } }`;
export const APPROVE = `mutation($input: ApproveRepaymentPlanInput!) { approveRepaymentPlan(input: $input) { plan { id status } userErrors { code field message } } }`;
export const PROMISE = `mutation($input: RecordPromiseToPayInput!) { recordPromiseToPay(input: $input) { promise { id status } userErrors { code field message } } }`;

export const squash = (s: string) => s.replace(/\s+/g, '');

export async function pdfText(bytes: Uint8Array): Promise<string> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(bytes)), { mergePages: true });
  return text as unknown as string;
}

export async function download(w: VisitWorld, url: string): Promise<{ status: number; bytes: Buffer }> {
  const r = await w.e.download(url);
  return { status: r.status, bytes: Buffer.from(await r.arrayBuffer()) };
}

export interface PackCase extends FieldCase {
  visitId: string;
  planId: string;
  promiseId: string;
  instalments: { seq: number; dueDate: string; amount: { minorUnits: number } }[];
}

/** A North case of this jurisdiction and language, with card usage, a planned visit (consent recorded), a proposed plan and a promise. */
export async function packCase(w: VisitWorld, jurisdiction: Jurisdiction, language: Language, name: string): Promise<PackCase> {
  const c = await w.northCase({ debtorName: name });
  const p = w.e.t.prisma;
  await p.debtor.update({ where: { id: c.row.debtorId }, data: { jurisdiction, language } });
  const at = (d: string) => new Date(`${d}T00:00:00.000Z`);
  await p.cardStatement.create({ data: { accountId: c.row.accountId, periodStart: at('2026-10-01'), periodEnd: at('2026-10-28'), statementBalance: 1_023_456n, minimumDue: 102_345n, amountPaid: 0n, dueDate: at('2026-11-15'), currency: 'CNY', receivedAt: at('2026-11-01') } });
  await p.cardTransaction.create({ data: { accountId: c.row.accountId, postedOn: at('2026-10-12'), merchantCategory: 'Electronics', merchantName: 'Zhongguancun Digital', amount: 456_789n, currency: 'CNY', receivedAt: at('2026-11-01') } });
  const st = steps(w);
  const visitId = await st.prepared(c);
  const plan = await w.mutate('northAgent', PROPOSE, { caseId: c.id, kind: 'INSTALMENTS', currency: 'CNY', instalmentCount: 3, frequency: 'MONTHLY', firstDueDate: '2026-12-15' });
  expect(plan.userErrors).toEqual([]);
  const promise = await w.mutate('northAgent', PROMISE, { caseId: c.id, amount: 123_400, currency: 'CNY', promisedFor: '2026-12-05' });
  expect(promise.userErrors).toEqual([]);
  return { ...c, visitId, planId: plan.plan.id, promiseId: promise.promise.id, instalments: plan.plan.instalments };
}

export async function print(w: VisitWorld, who: UserKey, input: Record<string, unknown>) {
  return w.mutate(who, PRINT, input);
}

export { M, gid, rawId, steps };
