// `npx tsx bench/visitpack.ts [--runs N]`: how long the visit pack takes to render (issue 18), per
// document kind and language, as printVisitDocuments renders it (PDFKit, Noto Sans SC embedded),
// outside any transaction: the first render (fonts read, PDFKit loaded) and the median of N.
import { renderVisitDocument, type DocumentFacts } from '../src/modules/visitpack/documents.ts';
import { readDossier } from '../src/modules/visitpack/dossier.ts';
import type { Language, VisitDocumentKind } from '../src/generated/prisma/enums.ts';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 5);
const dossier = readDossier(
  {
    version: 2,
    form: 'BANK',
    caseNumber: 'C-000123',
    compiledAt: '2026-11-28T02:00:00.000Z',
    debtor: { fullName: '王小明', nationalIdMasked: '1101**********1234', language: 'ZH_CN', timeZone: 'Asia/Shanghai', jurisdiction: 'CN' },
    card: { last4: '4321', product: 'Platinum', creditLimit: '5000000', currency: 'CNY' },
    overdue: { total: '1017346', principal: '1000001', interest: '12345', fees: '5000', currency: 'CNY', firstMissedDueDate: '2026-10-15', daysPastDue: 44 },
    contactPoints: [{ kind: 'MOBILE', value: '13800001111' }],
    address: { kind: 'HOME', line1: '建国路 88 号', line2: null, city: '北京', region: '北京', postalCode: '100022', country: 'CN' },
    statements: Array.from({ length: 12 }, (_, i) => ({ periodStart: `2025-${String(i + 1).padStart(2, '0')}-01`, periodEnd: `2025-${String(i + 1).padStart(2, '0')}-28`, statementBalance: `${900000 + i}`, minimumDue: '90000', amountPaid: '0', dueDate: `2025-${String(i + 1).padStart(2, '0')}-28` })),
    transactions: Array.from({ length: 20 }, (_, i) => ({ postedOn: `2026-09-${String(i + 1).padStart(2, '0')}`, merchantCategory: '电子产品', merchantName: `商户 ${i}`, amount: `${10000 + i}` })),
  },
  { agency: false, agencyId: null },
);
const plan = { id: 'p', kind: 'INSTALMENTS' as const, status: 'PROPOSED' as const, currency: 'CNY', totalAmount: 1017346n, discountAmount: 0n, frequency: 'MONTHLY' as const, instalments: Array.from({ length: 6 }, (_, i) => ({ seq: i + 1, dueDate: `2027-0${i + 1}-15`, amount: 169557n + (i === 0 ? 4n : 0n) })) };
const promise = { id: 'q', amount: 123400n, currency: 'CNY', promisedFor: '2026-12-05' };
const kinds: VisitDocumentKind[] = ['DOSSIER', 'OVERDUE_STATEMENT', 'NOTICE', 'REPAYMENT_AGREEMENT', 'PROMISE_LETTER'];
const at = new Date('2026-11-28T02:00:00.000Z');

const t0 = performance.now();
const first = await renderVisitDocument({ kind: 'NOTICE', language: 'ZH_CN', jurisdiction: 'CN', printedAt: at, printedOn: '2026-11-28', printedBy: 'x', dossier, nationalId: '1101**********1234', collectors: [] });
console.log(`first render (fonts, PDFKit): ${Math.round(performance.now() - t0)} ms, ${first.length} bytes`);
for (const language of ['ZH_CN', 'EN'] as Language[]) {
  for (const kind of kinds) {
    const times: number[] = [];
    let size = 0;
    for (let i = 0; i < runs; i++) {
      const facts: DocumentFacts = { kind, language, jurisdiction: 'CN', printedAt: at, printedOn: '2026-11-28', printedBy: '李娜', dossier, nationalId: '1101**********1234', collectors: [{ fullName: '李娜', credentialNumber: 'WC-1' }], plan, promise };
      const s = performance.now();
      size = (await renderVisitDocument(facts)).length;
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    console.log(`${language.padEnd(5)} ${kind.padEnd(19)} median ${Math.round(times[Math.floor(times.length / 2)]!)} ms  ${Math.round(size / 1024)} KiB`);
  }
}
