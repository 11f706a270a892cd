/**
 * Letters (issue 13, point 6; the source's 通知书): the active LETTER template in the debtor's
 * language, filled with the case's facts (the amount and the repayment deadline exactly as the
 * SMS states them: templates.ts `templateVars`), rendered to PDF (src/lib/pdf.ts), kept as
 * evidence of the case with its SHA-256, and recorded as dispatched to one of the debtor's
 * addresses: a LetterDispatch row and a LETTER contact attempt in the contact history.
 *
 * A letter is contact: the contact policy decides first (cease contact, an open hold). It goes
 * only to an address that is the debtor's and usable (not moved away from, not rejected), in the
 * viewer's era. One transaction: there is never a dispatch without its evidence, nor evidence
 * without its bytes (they are committed to the store as the transaction's last step).
 */
import { Readable } from 'node:stream';
import type { Address, Case, Debtor, Evidence, LetterDispatch } from '../../generated/prisma/client.ts';
import { DomainError, unavailable } from '../../lib/errors.ts';
import { idempotencyKeyOf, once, requestHash } from '../../lib/idempotency.ts';
import type { Actor } from '../../lib/actor.ts';
import { formatCaseNumber } from '../../lib/ids.ts';
import { dateOnly, parseDateOnly } from '../../lib/time.ts';
import { renderPdf, type PdfBlock } from '../../lib/pdf.ts';
import { agencyEra, caseVisibility } from '../../auth/scopes.ts';
import { writeCase, type CaseWriteDeps } from '../cases/write.ts';
import { evaluateCaseContact, RULE_ERROR } from '../contact/service.ts';
import { BANK_NAME, formatDeadline, renderMessage, repaymentDeadline, splitEmail, templateVars, TemplateRenderError } from '../contact/templates.ts';
import { usableAddress } from '../tracing/service.ts';
import { storeFault, type BlobStore, type StagedBlob } from '../evidence/blob-store.ts';
import { STORE_RETRY_AFTER_SECONDS } from '../evidence/service.ts';

export interface LetterDeps extends CaseWriteDeps {
  blobs: BlobStore;
  logger?: { error(obj: object, msg: string): void } | undefined;
}

export const DEFAULT_LETTER_TEMPLATE = 'overdue-letter';
const LANG_TAG = { ZH_CN: 'zh-CN', EN: 'en' } as const;

export interface SendLetterInput {
  caseId: string;
  addressId: string;
  templateKey?: string | null;
  expectedVersion?: number | null;
  idempotencyKey?: string | null;
}

export interface LetterSent {
  letter: LetterDispatch;
  evidence: Evidence;
  case: Case;
}

/** The printed letter: sender, date and addressee, the title, the text, the reference. */
export function letterBlocks(input: { debtor: Pick<Debtor, 'fullName' | 'language'>; address: Pick<Address, 'line1' | 'line2' | 'city' | 'region' | 'postalCode' | 'country'>; date: string; title: string; body: string; caseNumber: string }): PdfBlock[] {
  const zh = input.debtor.language === 'ZH_CN';
  const a = input.address;
  const addressee = zh
    ? [`${a.region} ${a.city}`, a.line1, ...(a.line2 ? [a.line2] : []), ...(a.postalCode ? [`邮编 ${a.postalCode}`] : []), `${input.debtor.fullName} 收`]
    : [input.debtor.fullName, a.line1, ...(a.line2 ? [a.line2] : []), `${a.city}, ${a.region}${a.postalCode ? ` ${a.postalCode}` : ''}`, a.country];
  return [
    { kind: 'lines', lines: [zh ? `${BANK_NAME.ZH_CN}信用卡中心` : `${BANK_NAME.EN} Card Services`], align: 'right' },
    { kind: 'lines', lines: [formatDeadline(input.date, input.debtor.language)], align: 'right' },
    { kind: 'lines', lines: addressee },
    { kind: 'rule' },
    { kind: 'title', text: input.title },
    ...input.body
      .split(/\n{2,}/)
      .map((p) => p.trim())
      .filter(Boolean)
      .map((text): PdfBlock => ({ kind: 'paragraph', text })),
  ];
}

/** Sends a letter (see the file's comment); with an idempotency key, once however often it is sent. */
export async function sendLetter(deps: LetterDeps, actor: Actor, input: SendLetterInput): Promise<LetterSent> {
  const templateKey = (input.templateKey ?? DEFAULT_LETTER_TEMPLATE).trim();
  if (input.idempotencyKey == null) return writeLetter(deps, actor, input, templateKey, null);
  const key = idempotencyKeyOf(input.idempotencyKey);
  const hash = requestHash([input.caseId, input.addressId, templateKey]);
  return once({
    what: 'another letter',
    hash,
    find: () => deps.prisma.letterDispatch.findUnique({ where: { idempotencyKey: key } }),
    visible: async (l) => (await deps.prisma.letterDispatch.count({ where: { id: l.id, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) } })) > 0,
    replay: async (letter) => ({
      letter,
      evidence: await deps.prisma.evidence.findUniqueOrThrow({ where: { id: letter.evidenceId } }),
      case: await deps.prisma.case.findUniqueOrThrow({ where: { id: letter.caseId } }),
    }),
    write: () => writeLetter(deps, actor, input, templateKey, { key, hash }),
  });
}

async function writeLetter(deps: LetterDeps, actor: Actor, input: SendLetterInput, templateKey: string, idem: { key: string; hash: string } | null): Promise<LetterSent> {
  let staged: StagedBlob | null = null;
  let committed = false;
  try {
    const out = await writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'letter.send' }, async ({ tx, now, before }) => {
      const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId } });
      const address = await tx.address.findFirst({ where: { id: input.addressId, debtorId: debtor.id, ...agencyEra(actor.viewer) } });
      if (!address) throw new DomainError('NOT_FOUND', "No such address of the case's debtor", 'addressId');
      usableAddress(address);
      // A letter is contact: the policy first (cease contact, an open hold).
      const policy = await evaluateCaseContact(tx, before, { channel: 'LETTER', contactPointId: null, at: now });
      if (!policy.decision.allowed) throw new DomainError(RULE_ERROR[policy.decision.rule], policy.decision.message, 'caseId');
      const template = await tx.messageTemplate.findUnique({ where: { key_channel_language: { key: templateKey, channel: 'LETTER', language: debtor.language } } });
      if (!template) throw new DomainError('VALIDATION', `No active LETTER template ${templateKey} in ${debtor.language}`, 'templateKey');
      const account = await tx.cardAccount.findUniqueOrThrow({ where: { id: before.accountId }, select: { cardLast4: true } });
      const vars = templateVars({ debtor, case: before, account, at: now });
      let text: string;
      try {
        text = renderMessage({ body: template.body, channel: 'LETTER', language: debtor.language, optOutLineRequired: false, vars });
      } catch (err) {
        if (err instanceof TemplateRenderError) throw new DomainError('VALIDATION', err.message, 'templateKey');
        throw err;
      }
      const { subject: title, body } = splitEmail(text);
      const caseNumber = formatCaseNumber(before.caseNo);
      const deadline = repaymentDeadline(now, debtor.timeZone);
      const pdf = await renderPdf({
        title,
        lang: LANG_TAG[debtor.language],
        author: debtor.language === 'ZH_CN' ? `${BANK_NAME.ZH_CN}信用卡中心` : `${BANK_NAME.EN} Card Services`,
        subject: `${caseNumber} ${templateKey} v${template.version}`,
        createdAt: now,
        footer: caseNumber,
        blocks: letterBlocks({ debtor, address, date: dateOnly(now), title, body, caseNumber }),
      });
      staged = await deps.blobs.put(Readable.from([pdf]), { maxBytes: pdf.length });
      const fileName = `letter-${caseNumber}-${dateOnly(now)}-${debtor.language === 'ZH_CN' ? 'zh-CN' : 'en'}.pdf`;
      const evidence = await tx.evidence.create({
        data: {
          caseId: before.id,
          agencyId: before.assignedAgencyId,
          kind: 'LETTER',
          sha256: staged.sha256,
          sizeBytes: staged.size,
          contentType: 'application/pdf',
          fileName,
          description: `${title} (${templateKey} v${template.version})`,
          capturedAt: now,
          uploadedById: actor.viewer.userId,
          uploadedAt: now,
        },
      });
      await tx.evidenceCustody.create({
        data: { evidenceId: evidence.id, agencyId: before.assignedAgencyId, action: 'UPLOADED', actorId: actor.viewer.userId, at: now, requestId: actor.requestId, detail: `${fileName} (application/pdf, ${staged.size} bytes) rendered by sendLetter` },
      });
      const attempt = await tx.contactAttempt.create({
        data: { caseId: before.id, agencyId: before.assignedAgencyId, debtorId: before.debtorId, channel: 'LETTER', attemptedAt: now, recordedAt: now, outcome: 'SENT', notes: `${title}: ${address.line1}, ${address.city}`, actorId: actor.viewer.userId },
      });
      const letter = await tx.letterDispatch.create({
        data: {
          caseId: before.id,
          agencyId: before.assignedAgencyId,
          addressId: address.id,
          templateKey,
          templateVersion: template.version,
          language: debtor.language,
          renderedText: text,
          amount: before.overdueTotal,
          currency: before.currency,
          deadline: parseDateOnly(deadline),
          evidenceId: evidence.id,
          sha256: staged.sha256,
          dispatchedAt: now,
          dispatchedById: actor.viewer.userId,
          contactAttemptId: attempt.id,
          idempotencyKey: idem?.key ?? null,
          requestHash: idem?.hash ?? null,
        },
      });
      // Last: a failure to keep the bytes rolls the records back.
      await staged.commit();
      committed = true;
      return {
        result: { letter, evidence },
        events: [{ type: 'LETTER_SENT', summary: `Letter sent to the ${address.kind.toLowerCase()} address in ${address.city}: ${title}`, data: { letterId: letter.id, evidenceId: evidence.id, sha256: staged.sha256 } }],
        auditData: { letterId: letter.id, evidenceId: evidence.id, sha256: staged.sha256, templateKey, templateVersion: template.version, addressId: address.id },
      };
    });
    return out;
  } catch (err) {
    // The bytes of a letter that was not recorded go, unless a record shares them.
    const bytes = staged as StagedBlob | null;
    if (bytes && (!committed || (await deps.prisma.evidence.count({ where: { sha256: bytes.sha256 } }).catch(() => 1)) === 0)) {
      await bytes.discard().catch((e: unknown) => deps.logger?.error({ err: e }, 'letters: could not remove the bytes of a letter not sent'));
    }
    const errno = storeFault(err);
    if (errno) {
      deps.logger?.error({ err, errno }, 'evidence store unavailable: a letter was not sent');
      throw unavailable(`The evidence store cannot take files right now (${errno}); the letter was not sent. Try again later.`, STORE_RETRY_AFTER_SECONDS);
    }
    throw err;
  }
}
