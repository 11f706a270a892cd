/**
 * The printed visit pack (issue 18, point 3; the source's 逾期账单, 还款协议, 通知书 and 还款承诺书):
 * the words of each document, in zh-CN and en, for the debtor's jurisdiction (CN or US), laid out
 * by src/lib/pdf.ts. Pure: the facts come in (the dossier as the printer may read it, the plan or
 * promise, the collectors), blocks and PDF bytes go out; the same facts give the same bytes.
 *
 * What a notice must say (DOMAIN.md, "Contact policy" and "Care"): in the US, that it comes from a
 * debt collector collecting a debt (FDCPA 807(11)), the amount, the creditor, and the right to
 * dispute within the validation period, collection of a disputed amount stopping until it is
 * verified (Regulation F 12 CFR 1006.34, FDCPA 809(b)); in China, the amount and the deadline,
 * that collection follows the law and never involves third parties (2011 measures art. 68), the
 * effect on the credit record (征信), and how to complain (15 days to answer, the 2020 rules).
 */
import type { Jurisdiction, Language, PlanFrequency, PlanKind, PlanStatus, VisitDocumentKind } from '../../generated/prisma/enums.ts';
import { formatMoney } from '../../lib/money.ts';
import { renderPdf, type PdfBlock } from '../../lib/pdf.ts';
import { BANK_NAME, LANGUAGE_LOCALE, formatDeadline } from '../contact/templates.ts';
import type { Dossier } from './dossier.ts';

export const LANG_TAG: Record<Language, string> = { ZH_CN: 'zh-CN', EN: 'en' };
/** US: the validation period a notice states (Regulation F 1006.34(b)(5): at least 30 days after receipt). */
export const VALIDATION_PERIOD_DAYS = 35;
/** CN: the bank answers a complaint within this many days (the 2020 rules; DOMAIN.md "Complaints"). */
export const COMPLAINT_ANSWER_DAYS = 15;
export const BANK_HOTLINE = { CN: '95555', US: '1-800-555-0199' } as const;

export interface PlanFacts {
  id: string;
  kind: PlanKind;
  status: PlanStatus;
  currency: string;
  totalAmount: bigint;
  discountAmount: bigint;
  frequency: PlanFrequency | null;
  instalments: { seq: number; dueDate: string; amount: bigint }[];
}

export interface PromiseFacts {
  id: string;
  amount: bigint;
  currency: string;
  promisedFor: string;
}

export interface SignatureFacts {
  /** The signature as drawn or captured: an image or strokes block. */
  mark: PdfBlock;
  signedAt: Date;
  place: string;
  latitude: number | null;
  longitude: number | null;
  collector: { fullName: string; credentialNumber: string | null };
  /** For an agreement: signed before the plan's approval (never binding until the bank approves). */
  pendingApproval: boolean;
}

export interface DocumentFacts {
  kind: VisitDocumentKind;
  language: Language;
  jurisdiction: Jurisdiction;
  printedAt: Date;
  /** YYYY-MM-DD in the debtor's zone. */
  printedOn: string;
  printedBy: string;
  dossier: Dossier;
  /** Masked, unless the printer's role may reveal (and the reveal is audited). */
  nationalId: string;
  collectors: { fullName: string; credentialNumber: string | null }[];
  plan?: PlanFacts | null;
  promise?: PromiseFacts | null;
  signature?: SignatureFacts | null;
}

const TITLES: Record<VisitDocumentKind, Record<Language, string>> = {
  DOSSIER: { ZH_CN: '上门催收资料', EN: 'Visit dossier' },
  OVERDUE_STATEMENT: { ZH_CN: '信用卡逾期账单', EN: 'Overdue statement' },
  NOTICE: { ZH_CN: '催收通知书', EN: 'Collection notice' },
  REPAYMENT_AGREEMENT: { ZH_CN: '还款协议', EN: 'Repayment agreement' },
  PROMISE_LETTER: { ZH_CN: '还款承诺书', EN: 'Promise to pay' },
};

export function documentTitle(kind: VisitDocumentKind, language: Language): string {
  return TITLES[kind][language];
}

const PLAN_KIND: Record<PlanKind, Record<Language, string>> = {
  INSTALMENTS: { ZH_CN: '分期还款', EN: 'instalments' },
  DEFERRAL: { ZH_CN: '延期还款', EN: 'deferral' },
  SETTLEMENT: { ZH_CN: '一次性结清', EN: 'settlement' },
};

/** The blocks of a document: the words, in the order they are printed. */
export function documentBlocks(f: DocumentFacts): PdfBlock[] {
  const zh = f.language === 'ZH_CN';
  const d = f.dossier;
  const cur = d.overdue.currency;
  const money = (minor: string | bigint | undefined) => (minor === undefined ? '—' : formatMoney({ minorUnits: BigInt(minor), currency: cur }, LANGUAGE_LOCALE[f.language]));
  const day = (s: string) => (/^\d{4}-\d{2}-\d{2}/.test(s) ? formatDeadline(s.slice(0, 10), f.language) : s || '—');
  const bank = zh ? `${BANK_NAME.ZH_CN}信用卡中心` : `${BANK_NAME.EN} Card Services`;
  const a = d.address;
  const addressLine = zh ? `${a.region}${a.city}${a.line1}${a.line2 ? ` ${a.line2}` : ''}` : `${a.line1}${a.line2 ? `, ${a.line2}` : ''}, ${a.city}, ${a.region}${a.postalCode ? ` ${a.postalCode}` : ''}, ${a.country}`;
  const card = zh ? `卡号 **** **** **** ${d.card.last4}（${d.card.product}）` : `Card **** **** **** ${d.card.last4} (${d.card.product})`;
  const head: PdfBlock[] = [
    { kind: 'lines', lines: [bank, formatDeadline(f.printedOn, f.language)], align: 'right' },
    { kind: 'title', text: TITLES[f.kind][f.language] },
    {
      kind: 'lines',
      lines: zh
        ? [`案件编号：${d.caseNumber}`, `客户姓名：${d.debtor.fullName}`, `证件号码：${f.nationalId}`, card]
        : [`Case number: ${d.caseNumber}`, `Name: ${d.debtor.fullName}`, `ID number: ${f.nationalId}`, card],
    },
  ];
  const amounts: PdfBlock = {
    kind: 'lines',
    lines: [
      ...(zh ? [`逾期总额：${money(d.overdue.total)}`] : [`Total overdue: ${money(d.overdue.total)}`]),
      ...(d.overdue.principal !== undefined ? [zh ? `其中本金：${money(d.overdue.principal)}` : `Principal: ${money(d.overdue.principal)}`] : []),
      ...(d.overdue.interest !== undefined ? [zh ? `利息：${money(d.overdue.interest)}` : `Interest: ${money(d.overdue.interest)}`] : []),
      ...(d.overdue.fees !== undefined ? [zh ? `费用：${money(d.overdue.fees)}` : `Fees: ${money(d.overdue.fees)}`] : []),
      zh ? `首次逾期还款日：${day(d.overdue.firstMissedDueDate)}，逾期 ${d.overdue.daysPastDue} 天` : `First missed due date: ${day(d.overdue.firstMissedDueDate)}; ${d.overdue.daysPastDue} days past due`,
    ],
  };
  const statements: PdfBlock[] = d.statements.length
    ? [
        { kind: 'heading', text: zh ? '近期账单' : 'Recent statements' },
        {
          kind: 'lines',
          lines: d.statements.map((s) =>
            zh
              ? `${s.periodStart} 至 ${s.periodEnd}  账单金额 ${money(s.statementBalance)}  最低还款 ${money(s.minimumDue)}  已还 ${money(s.amountPaid)}  到期日 ${s.dueDate}`
              : `${s.periodStart} to ${s.periodEnd}  balance ${money(s.statementBalance)}  minimum ${money(s.minimumDue)}  paid ${money(s.amountPaid)}  due ${s.dueDate}`,
          ),
        },
      ]
    : [];
  const transactions: PdfBlock[] = d.transactions.length
    ? [
        { kind: 'heading', text: zh ? '近期交易' : 'Recent transactions' },
        { kind: 'lines', lines: d.transactions.map((t) => `${t.postedOn}  ${t.merchantCategory}${t.merchantName ? ` · ${t.merchantName}` : ''}  ${money(t.amount)}`) },
      ]
    : [];
  const collectors = f.collectors.map((c) => (zh ? `${c.fullName}（工作证 ${c.credentialNumber ?? '—'}）` : `${c.fullName} (work credential ${c.credentialNumber ?? '—'})`));
  const footer: PdfBlock[] = [{ kind: 'rule' }, { kind: 'lines', lines: [zh ? `打印人：${f.printedBy}  打印时间：${f.printedAt.toISOString()}` : `Printed by ${f.printedBy} at ${f.printedAt.toISOString()}`] }];

  switch (f.kind) {
    case 'DOSSIER':
      return [
        ...head,
        { kind: 'heading', text: zh ? '欠款情况' : 'Amounts' },
        amounts,
        { kind: 'heading', text: zh ? '上门地址' : 'Address to visit' },
        { kind: 'lines', lines: [addressLine] },
        { kind: 'heading', text: zh ? '联系方式' : 'Contact points' },
        { kind: 'lines', lines: d.contactPoints.length ? d.contactPoints.map((c) => `${c.kind}: ${c.value}`) : ['—'] },
        ...statements,
        ...transactions,
        { kind: 'heading', text: zh ? '还款承诺与方案' : 'Promises and plans' },
        {
          kind: 'lines',
          lines: [
            ...d.promises.map((p) => (zh ? `承诺 ${money(p.amount)}，${p.promisedFor} 前（${p.status}）` : `Promise of ${money(p.amount)} by ${p.promisedFor} (${p.status})`)),
            ...d.plans.map((p) => (zh ? `方案：${PLAN_KIND[p.kind as PlanKind]?.ZH_CN ?? p.kind} ${money(p.totalAmount)}，${p.instalmentCount} 期（${p.status}）` : `Plan: ${PLAN_KIND[p.kind as PlanKind]?.EN ?? p.kind} of ${money(p.totalAmount)}, ${p.instalmentCount} instalment(s) (${p.status})`)),
            ...(d.promises.length + d.plans.length === 0 ? ['—'] : []),
          ],
        },
        { kind: 'heading', text: zh ? '联系记录' : 'Contact history' },
        {
          kind: 'lines',
          lines: [
            zh ? `共 ${d.contactHistory.totalAttempts} 次联系，接通 ${d.contactHistory.connected} 次` : `${d.contactHistory.totalAttempts} contact attempts, ${d.contactHistory.connected} connected`,
            ...d.contactHistory.byChannel.map((c) => `${c.channel}: ${c.attempts}`),
            ...(d.contactHistory.lastAttemptAt ? [zh ? `最近一次：${d.contactHistory.lastAttemptAt}（${d.contactHistory.lastOutcome ?? '—'}）` : `Last: ${d.contactHistory.lastAttemptAt} (${d.contactHistory.lastOutcome ?? '—'})`] : []),
          ],
        },
        { kind: 'heading', text: zh ? '暂停与投诉' : 'Holds and complaints' },
        {
          kind: 'lines',
          lines: [
            ...d.holds.map((h) => (zh ? `暂停催收：${h.reason}，${h.startsAt.slice(0, 10)} 起${h.releasedAt ? `，${h.releasedAt.slice(0, 10)} 解除` : ''}` : `Hold: ${h.reason} from ${h.startsAt.slice(0, 10)}${h.releasedAt ? `, released ${h.releasedAt.slice(0, 10)}` : ''}`)),
            ...d.complaints.map((k) => (zh ? `投诉：${k.category}，${k.receivedAt.slice(0, 10)}（${k.status}）` : `Complaint: ${k.category}, ${k.receivedAt.slice(0, 10)} (${k.status})`)),
            ...(d.holds.length + d.complaints.length === 0 ? ['—'] : []),
          ],
        },
        { kind: 'heading', text: zh ? '上门人员' : 'Collectors' },
        { kind: 'lines', lines: collectors.length ? collectors : ['—'] },
        ...footer,
      ];
    case 'OVERDUE_STATEMENT':
      return [
        ...head,
        { kind: 'paragraph', text: zh ? `截至 ${formatDeadline(f.printedOn, f.language)}，您的信用卡账户已逾期，欠款情况如下：` : `As of ${formatDeadline(f.printedOn, f.language)}, your card account is past due. The amounts overdue are:` },
        amounts,
        ...statements,
        ...transactions,
        { kind: 'paragraph', text: zh ? `如对上述金额有异议，请致电 ${BANK_HOTLINE.CN}。` : `If you believe these amounts are wrong, call us at ${f.jurisdiction === 'US' ? BANK_HOTLINE.US : BANK_HOTLINE.CN}.` },
        ...footer,
      ];
    case 'NOTICE':
      return [...head, ...noticeBody(f, money, day, bank, collectors), ...footer];
    case 'REPAYMENT_AGREEMENT':
      return [...head, ...agreementBody(f, money, day, bank), ...signatureBlocks(f), ...footer];
    case 'PROMISE_LETTER':
      return [...head, ...promiseBody(f, money, day), ...signatureBlocks(f), ...footer];
  }
}

type Fmt = (minor: string | bigint | undefined) => string;
type Day = (s: string) => string;

function noticeBody(f: DocumentFacts, money: Fmt, day: Day, bank: string, collectors: string[]): PdfBlock[] {
  const zh = f.language === 'ZH_CN';
  const d = f.dossier;
  const deadline = new Date(Date.parse(`${f.printedOn}T00:00:00Z`) + VALIDATION_PERIOD_DAYS * 86_400_000).toISOString().slice(0, 10);
  const present = collectors.length ? collectors.join(zh ? '、' : ', ') : '—';
  if (f.jurisdiction === 'US') {
    return zh
      ? [
          { kind: 'paragraph', text: '本函来自债务催收方。这是一次收取债务的行为，所获得的任何信息都将用于该目的。' },
          { kind: 'paragraph', text: `${bank} 是您信用卡账户（尾号 ${d.card.last4}）的债权人。截至 ${day(f.printedOn)}，您欠款 ${money(d.overdue.total)}。` },
          { kind: 'paragraph', text: `如您在 ${day(deadline)} 前以书面形式对全部或部分债务提出异议，我们将停止对有异议部分的催收，直至向您寄送证明该债务的资料。您也可以在该日期前要求我们提供原债权人的名称和地址。` },
          { kind: 'paragraph', text: `今日到访人员：${present}。如需联系我们，请致电 ${BANK_HOTLINE.US}。` },
        ]
      : [
          { kind: 'paragraph', text: 'This is a communication from a debt collector. This is an attempt to collect a debt and any information obtained will be used for that purpose.' },
          { kind: 'paragraph', text: `${bank} is the creditor of your card account ending ${d.card.last4}. As of ${day(f.printedOn)}, you owe ${money(d.overdue.total)}.` },
          { kind: 'paragraph', text: `If you write to us by ${day(deadline)} to dispute all or part of the debt, we must stop collection of any amount you dispute until we send you information that shows you owe the debt. You may also ask us by that date for the name and address of the original creditor.` },
          { kind: 'paragraph', text: `Visiting today: ${present}. To reach us, call ${BANK_HOTLINE.US}.` },
        ];
  }
  return zh
    ? [
        { kind: 'paragraph', text: `${d.debtor.fullName}：您在我行的信用卡（尾号 ${d.card.last4}）自 ${day(d.overdue.firstMissedDueDate)} 起逾期，截至 ${day(f.printedOn)} 逾期金额为 ${money(d.overdue.total)}。请尽快还款或与我们商定还款方案（分期还款、延期还款）。` },
        { kind: 'paragraph', text: '逾期记录将按规定报送金融信用信息基础数据库（征信），可能影响您的信用记录。我行依法依规催收，不会向您的亲友、同事等第三方透露您的欠款信息。' },
        { kind: 'paragraph', text: `今日上门人员：${present}，均已出示工作证。如对催收行为有异议，可致电 ${BANK_HOTLINE.CN} 投诉，我行将在 ${COMPLAINT_ANSWER_DAYS} 日内答复。` },
      ]
    : [
        { kind: 'paragraph', text: `Dear ${d.debtor.fullName}: your card (ending ${d.card.last4}) has been past due since ${day(d.overdue.firstMissedDueDate)}; as of ${day(f.printedOn)} the overdue amount is ${money(d.overdue.total)}. Please repay it or agree a repayment plan with us (instalments or a deferral).` },
        { kind: 'paragraph', text: 'Overdue records are reported to the credit reference system (Zhengxin) as the rules require and may affect your credit record. We collect in accordance with the law and never disclose your debt to third parties such as relatives or colleagues.' },
        { kind: 'paragraph', text: `Visiting today: ${present}, each showing a work credential. To complain about how your account is collected, call ${BANK_HOTLINE.CN}; we answer within ${COMPLAINT_ANSWER_DAYS} days.` },
      ];
}

function agreementBody(f: DocumentFacts, money: Fmt, day: Day, bank: string): PdfBlock[] {
  const zh = f.language === 'ZH_CN';
  const p = f.plan;
  if (!p) return [];
  const m = (v: bigint) => formatMoney({ minorUnits: v, currency: p.currency }, LANGUAGE_LOCALE[f.language]);
  const kind = PLAN_KIND[p.kind][f.language];
  const schedule = p.instalments.map((i) => (zh ? `第 ${i.seq} 期  ${day(i.dueDate)}  ${m(i.amount)}` : `${i.seq}.  ${day(i.dueDate)}  ${m(i.amount)}`));
  const approval =
    p.status === 'PROPOSED'
      ? zh
        ? '本协议所载方案尚待银行审批，审批通过前不具约束力。'
        : 'The plan in this agreement awaits the bank’s approval: it does not bind either party until approved.'
      : zh
        ? `本方案已经银行审批（${p.status}）。`
        : `The bank has approved this plan (${p.status}).`;
  const law =
    f.jurisdiction === 'US'
      ? zh
        ? '本协议不影响您依法对债务提出异议的权利。'
        : 'This agreement does not take away your right to dispute the debt.'
      : zh
        ? '双方依照《中华人民共和国民法典》自愿订立本协议。'
        : 'Both parties enter this agreement freely under the Civil Code of the People’s Republic of China.';
  return zh
    ? [
        { kind: 'paragraph', text: `甲方：${bank}；乙方：${f.dossier.debtor.fullName}。乙方信用卡（尾号 ${f.dossier.card.last4}）逾期金额为 ${money(f.dossier.overdue.total)}，双方约定以${kind}方式还款如下：` },
        { kind: 'lines', lines: [`还款总额：${m(p.totalAmount)}`, ...(p.discountAmount > 0n ? [`减免金额：${m(p.discountAmount)}`] : []), ...schedule] },
        { kind: 'paragraph', text: `乙方未按期足额还款的，本协议项下的方案失效，银行可按原合同继续催收。${approval}${law}` },
      ]
    : [
        { kind: 'paragraph', text: `Between ${bank} (the bank) and ${f.dossier.debtor.fullName} (the cardholder). The card ending ${f.dossier.card.last4} is past due by ${money(f.dossier.overdue.total)}; the parties agree to repay it by ${kind} as follows:` },
        { kind: 'lines', lines: [`Total to repay: ${m(p.totalAmount)}`, ...(p.discountAmount > 0n ? [`Discount: ${m(p.discountAmount)}`] : []), ...schedule] },
        { kind: 'paragraph', text: `If an instalment is not paid in full when due, the plan ends and the bank may collect under the card agreement. ${approval} ${law}` },
      ];
}

function promiseBody(f: DocumentFacts, money: Fmt, day: Day): PdfBlock[] {
  const zh = f.language === 'ZH_CN';
  const p = f.promise;
  if (!p) return [];
  const amount = formatMoney({ minorUnits: p.amount, currency: p.currency }, LANGUAGE_LOCALE[f.language]);
  return zh
    ? [{ kind: 'paragraph', text: `本人 ${f.dossier.debtor.fullName} 确认信用卡（尾号 ${f.dossier.card.last4}）逾期金额为 ${money(f.dossier.overdue.total)}，承诺于 ${day(p.promisedFor)} 前还款 ${amount}。` }]
    : [{ kind: 'paragraph', text: `I, ${f.dossier.debtor.fullName}, acknowledge that my card ending ${f.dossier.card.last4} is past due by ${money(f.dossier.overdue.total)}, and promise to pay ${amount} by ${day(p.promisedFor)}.` }];
}

/** Where the debtor signs: blank lines on paper, or the signature with its time, place and witness. */
function signatureBlocks(f: DocumentFacts): PdfBlock[] {
  const zh = f.language === 'ZH_CN';
  const s = f.signature;
  if (!s) {
    return [
      { kind: 'space', lines: 2 },
      { kind: 'lines', lines: zh ? ['客户签字：____________________', '日期：____________________', '地点：____________________'] : ['Signature: ____________________', 'Date: ____________________', 'Place: ____________________'] },
    ];
  }
  const coords = s.latitude != null && s.longitude != null ? ` (${s.latitude.toFixed(5)}, ${s.longitude.toFixed(5)})` : '';
  return [
    { kind: 'space', lines: 1 },
    { kind: 'heading', text: zh ? '客户签字' : 'Signature' },
    s.mark,
    {
      kind: 'lines',
      lines: zh
        ? [`签署时间：${s.signedAt.toISOString()}`, `签署地点：${s.place}${coords}`, `见证人员：${s.collector.fullName}（工作证 ${s.collector.credentialNumber ?? '—'}）`, ...(s.pendingApproval ? ['状态：待银行审批，尚不具约束力'] : [])]
        : [`Signed at: ${s.signedAt.toISOString()}`, `Place: ${s.place}${coords}`, `Witnessed by: ${s.collector.fullName} (work credential ${s.collector.credentialNumber ?? '—'})`, ...(s.pendingApproval ? ['Status: pending the bank’s approval, not yet binding'] : [])],
    },
  ];
}

/** Renders one document of the pack to PDF bytes. */
export function renderVisitDocument(f: DocumentFacts): Promise<Buffer> {
  const title = TITLES[f.kind][f.language];
  return renderPdf({
    title,
    lang: LANG_TAG[f.language],
    author: f.language === 'ZH_CN' ? `${BANK_NAME.ZH_CN}信用卡中心` : `${BANK_NAME.EN} Card Services`,
    subject: `${f.dossier.caseNumber} ${f.kind}`,
    createdAt: f.signature?.signedAt ?? f.printedAt,
    footer: f.dossier.caseNumber,
    blocks: documentBlocks(f),
  });
}
