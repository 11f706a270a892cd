/**
 * Issue 18, point 3: every document of the pack rendered for both languages and both
 * jurisdictions, its text extracted from the PDF (unpdf) and checked against the case; each kept as
 * evidence of the visit with its SHA-256, downloadable through the signed link, listed as the
 * visit's materials; the full national ID only for a role that may reveal, audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createVisitWorld, type VisitWorld } from '../visits/support.ts';
import { formatMoney } from '../../src/lib/money.ts';
import { LANGUAGE_LOCALE, formatDeadline } from '../../src/modules/contact/templates.ts';
import type { Jurisdiction, Language } from '../../src/generated/prisma/enums.ts';
import { DOC, PRINT, download, packCase, pdfText, print, rawId, squash, type PackCase } from './support.ts';

let w: VisitWorld;
beforeAll(async () => {
  w = await createVisitWorld();
});
afterAll(async () => w?.close());

const ALL = ['DOSSIER', 'OVERDUE_STATEMENT', 'NOTICE', 'REPAYMENT_AGREEMENT', 'PROMISE_LETTER'] as const;

/** What each document must say in each language and jurisdiction, beyond the case's facts. */
const NOTICE_WORDS: Record<Jurisdiction, Record<Language, string[]>> = {
  CN: { ZH_CN: ['征信', '投诉', '不会向您的亲友'], EN: ['credit reference', 'complain', 'never disclose your debt to third parties'] },
  US: { ZH_CN: ['本函来自债务催收方', '提出异议', '停止对有异议部分的催收'], EN: ['This is a communication from a debt collector', 'dispute all or part of the debt', 'stop collection of any amount you dispute'] },
};

describe('printed documents: every kind, both languages, both jurisdictions', () => {
  for (const jurisdiction of ['CN', 'US'] as const) {
    for (const language of ['ZH_CN', 'EN'] as const) {
      it(`${jurisdiction} / ${language}: the PDFs state the case, are kept as evidence with their SHA-256 and listed as the visit's materials`, async () => {
        w.e.t.clock.set('2026-11-28T02:00:00.000Z');
        const name = language === 'ZH_CN' ? `陈${jurisdiction}` : `Alex ${jurisdiction}`;
        const c: PackCase = await packCase(w, jurisdiction, language, name);
        const p = await print(w, 'northAgent', { visitId: c.visitId, documents: [...ALL], planId: c.planId, promiseId: c.promiseId });
        expect(p.userErrors).toEqual([]);
        expect(p.documents.map((d: any) => d.kind)).toEqual([...ALL]);
        const caseRow = await w.e.t.prisma.case.findUniqueOrThrow({ where: { id: c.row.id }, include: { debtor: true, account: true } });
        const locale = LANGUAGE_LOCALE[language];
        const money = (v: bigint | number) => formatMoney({ minorUnits: BigInt(v), currency: 'CNY' }, locale);
        const caseNumber = `C-${String(caseRow.caseNo).padStart(6, '0')}`;
        for (const d of p.documents) {
          expect(d).toMatchObject({ language, jurisdiction, nationalIdRevealed: false, printedBy: { fullName: 'North Agent' }, evidence: { sha256: d.sha256, contentType: 'application/pdf', visit: { id: c.visitId } } });
          const got = await download(w, d.downloadUrl);
          expect(got.status).toBe(200);
          expect(createHash('sha256').update(got.bytes).digest('hex')).toBe(d.sha256);
          const text = squash(await pdfText(got.bytes));
          const must = [caseNumber, name, caseRow.debtor.nationalIdMasked, caseRow.account.cardLast4];
          if (d.kind !== 'PROMISE_LETTER') must.push(money(caseRow.overdueTotal));
          if (d.kind === 'DOSSIER' || d.kind === 'OVERDUE_STATEMENT') must.push('2026-10-01', money(1_023_456), 'ZhongguancunDigital', money(456_789));
          if (d.kind === 'DOSSIER') must.push(caseRow.debtor.fullName);
          if (d.kind === 'NOTICE') must.push(...NOTICE_WORDS[jurisdiction][language]);
          if (d.kind === 'REPAYMENT_AGREEMENT') {
            for (const i of c.instalments) must.push(money(i.amount.minorUnits), formatDeadline(i.dueDate, language));
            must.push(language === 'ZH_CN' ? '尚待银行审批' : 'awaits the bank’s approval');
          }
          if (d.kind === 'PROMISE_LETTER') must.push(money(123_400), formatDeadline('2026-12-05', language));
          for (const words of must) expect(text, `${d.kind} ${jurisdiction} ${language}: ${words}`).toContain(squash(words));
          // The agency form: never the full ID, never the breakdown of the debt.
          expect(text).not.toContain(squash(money(caseRow.principal)));
          expect(text).not.toMatch(/\d{17}[\dX]/);
        }
        // Listed as the visit's materials (what, by whom, when), newest first, and as its evidence.
        const r = await w.as('northAgent', `query($id: ID!) { node(id: $id) { ... on Visit { documents(first: 10) { totalCount nodes { ${DOC} } } evidence(first: 10) { totalCount } } } }`, { id: c.visitId });
        expect(r.data.node.documents.totalCount).toBe(5);
        expect(r.data.node.evidence.totalCount).toBe(5);
        expect(new Set(r.data.node.documents.nodes.map((n: any) => n.kind))).toEqual(new Set(ALL));
        const events = await w.e.t.prisma.caseEvent.count({ where: { caseId: c.row.id, type: 'VISIT_DOCUMENTS_PRINTED' } });
        expect(events).toBe(1);
      });
    }
  }

  it('the bank form prints the breakdown; the printing language may differ from the debtor’s', async () => {
    const c = await packCase(w, 'CN', 'ZH_CN', '赵银行');
    await w.e.t.prisma.case.update({ where: { id: c.row.id }, data: { assignedAgencyId: null, assignedCollectorId: w.s.users.collector.id } });
    const v = (await w.mutate('collector', `mutation($input: PlanVisitInput!) { planVisit(input: $input) { visit { id } userErrors { code } } }`, { caseId: c.id, addressId: c.homeId, purpose: 'Bank visit' })).visit;
    const p = await print(w, 'collector', { visitId: v.id, documents: ['OVERDUE_STATEMENT'], language: 'EN' });
    expect(p.userErrors).toEqual([]);
    expect(p.documents[0].language).toBe('EN');
    const caseRow = await w.e.t.prisma.case.findUniqueOrThrow({ where: { id: c.row.id } });
    const text = squash(await pdfText((await download(w, p.documents[0].downloadUrl)).bytes));
    expect(text).toContain(squash(`Principal: ${formatMoney({ minorUnits: caseRow.principal, currency: 'CNY' }, 'en-US')}`));
    expect(text).toContain('Overduestatement');
  });

  it('refusals change nothing: no documents, a duplicate, an agreement without its plan, a broken promise, a cancelled visit', async () => {
    const c = await packCase(w, 'CN', 'ZH_CN', '钱拒绝');
    const before = await w.e.t.prisma.evidence.count();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ documents: [] }, 'VALIDATION', 'documents'],
      [{ documents: ['NOTICE', 'NOTICE'] }, 'VALIDATION', 'documents'],
      [{ documents: ['REPAYMENT_AGREEMENT'] }, 'VALIDATION', 'planId'],
      [{ documents: ['PROMISE_LETTER'] }, 'VALIDATION', 'promiseId'],
      [{ documents: ['NOTICE'], revealNationalId: true, revealReason: 'printing the notice for the court' }, 'FORBIDDEN_ACTION', 'revealNationalId'],
    ];
    for (const [input, code, field] of cases) {
      const p = await print(w, 'northAgent', { visitId: c.visitId, ...input });
      expect(p.userErrors[0], JSON.stringify(input)).toMatchObject({ code, field: [field] });
      expect(p.documents).toBeNull();
    }
    await w.e.t.prisma.promiseToPay.update({ where: { id: rawId(c.promiseId) }, data: { status: 'BROKEN' } });
    expect((await print(w, 'northAgent', { visitId: c.visitId, documents: ['PROMISE_LETTER'], promiseId: c.promiseId })).userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION', field: ['promiseId'] });
    await w.e.t.prisma.visit.update({ where: { id: rawId(c.visitId) }, data: { status: 'CANCELLED' } });
    expect((await print(w, 'northAgent', { visitId: c.visitId, documents: ['NOTICE'] })).userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(await w.e.t.prisma.evidence.count()).toBe(before);
    expect(await w.e.t.prisma.visitDocument.count({ where: { visitId: rawId(c.visitId) } })).toBe(0);
    expect(w.e.files().staging).toEqual([]);
  });

  it('the full national ID: a supervisor prints it with a reason (audited); only roles that may reveal download it', async () => {
    const c = await packCase(w, 'CN', 'ZH_CN', '孙全号');
    const audits = await w.e.t.prisma.auditEvent.count({ where: { action: 'debtor.revealIdentity' } });
    const noReason = await print(w, 'supervisor', { visitId: c.visitId, documents: ['DOSSIER'], revealNationalId: true });
    expect(noReason.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['revealReason'] });
    const p = await print(w, 'supervisor', { visitId: c.visitId, documents: ['DOSSIER'], revealNationalId: true, revealReason: 'court filing needs the full number' });
    expect(p.userErrors).toEqual([]);
    expect(p.documents[0].nationalIdRevealed).toBe(true);
    expect(await w.e.t.prisma.auditEvent.count({ where: { action: 'debtor.revealIdentity' } })).toBe(audits + 1);
    const nationalId = w.e.t.pii.decrypt((await w.e.t.prisma.debtor.findUniqueOrThrow({ where: { id: c.row.debtorId } })).nationalIdCiphertext);
    const got = await download(w, p.documents[0].downloadUrl);
    expect(got.status).toBe(200);
    expect(squash(await pdfText(got.bytes))).toContain(nationalId);
    // North sees the document listed, but its link does not serve the full number to an agency.
    const r = await w.as('northAgent', `query($id: ID!) { node(id: $id) { ... on VisitDocument { nationalIdRevealed downloadUrl } } }`, { id: p.documents[0].id });
    expect(r.data.node.nationalIdRevealed).toBe(true);
    expect((await download(w, r.data.node.downloadUrl)).status).toBe(404);
    // Masked by default, for everyone.
    const masked = await print(w, 'supervisor', { visitId: c.visitId, documents: ['DOSSIER'] });
    expect(squash(await pdfText((await download(w, masked.documents[0].downloadUrl)).bytes))).not.toContain(nationalId);
    void PRINT;
  });
});
