/**
 * Opt-outs and contact preferences (DOMAIN.md "Care, complaints and disputes"; issue 13 point 1).
 *
 * A debtor may stop one contact point (optionally one channel of it) or all contact (cease).
 * Honoured from the moment it is recorded: the flags the contact policy reads
 * (`ContactPoint.doNotContact`, `Debtor.ceaseContact`; src/modules/contact/service.ts
 * `evaluateCaseContact`) are set in the same transaction as the ContactOptOut row that keeps the
 * source and the reason. Only the bank (a supervisor or admin) clears one, with a reason. Every
 * change is audited with the flags before and after, and appears on the timeline of each open
 * case of the debtor.
 *
 * The policy reads one do-not-contact flag per contact point, for every channel: an opt-out of
 * one channel (an SMS "STOP") therefore stops every channel of that number until it is cleared.
 * The row keeps the channel, so that a channel-precise policy can read it.
 */
import type { Prisma, PrismaClient, ContactPoint, Debtor } from '../../generated/prisma/client.ts';
import type { ContactChannel, OptOutSource } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import { actorLabel, auditActor, type Actor } from '../../lib/actor.ts';
import type { Clock } from '../../lib/time.ts';
import type { Tx } from '../../db/store.ts';
import type { EventBus } from '../../events/bus.ts';
import { canSeeCase, debtorVisibility, eraAgencyOf, visibleRecords } from '../../auth/scopes.ts';
import { recordAudit, type AuditActor } from '../audit/service.ts';
import { OPEN_STAGES } from '../cases/write.ts';
import { channelFits } from '../policy/engine.ts';
import { getContactPolicy } from '../policy/service.ts';

export interface CareDeps {
  prisma: PrismaClient;
  clock: Clock;
  events?: EventBus | undefined;
}

/** Who clears an opt-out: the bank's supervisors and admins. */
export const CLEARERS = ['BANK_ADMIN', 'BANK_SUPERVISOR'] as const;
export const MAX_REASON = 2000;
/** Sources that are in writing. */
const WRITTEN_SOURCES: readonly OptOutSource[] = ['LETTER', 'EMAIL'];

function reasonOf(value: string | null | undefined, field = 'reason'): string {
  const r = (value ?? '').trim();
  if (!r) throw new DomainError('VALIDATION', 'Give the reason', field);
  if (r.length > MAX_REASON) throw new DomainError('VALIDATION', `${field}: at most ${MAX_REASON} characters`, field);
  return r;
}

interface DebtorWrite {
  tx: Tx;
  now: Date;
  debtor: Debtor;
}

interface DebtorWriteResult<T> {
  result: T;
  /** The timeline entry written on each open case of the debtor. */
  event: { type: string; summary: string; data: Prisma.InputJsonValue };
  audit: { action: string; entityType: string; entityId: string | null; data: Prisma.InputJsonValue; reason?: string | null };
}

/**
 * One write about a debtor: the debtor's row is locked (two opt-out changes queue), the viewer
 * must see the debtor (else NOT_FOUND, never a hint), then the change, the audit entry and a
 * timeline entry on each open case of the debtor, in one transaction. On a case the actor does
 * not see (another agency's), the entry names no one.
 */
export async function writeDebtor<T>(
  deps: CareDeps,
  actor: Actor | null,
  debtorId: string,
  field: string,
  change: (w: DebtorWrite) => Promise<DebtorWriteResult<T>>,
): Promise<T> {
  const out = await deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Debtor" WHERE id = ${debtorId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw new DomainError('NOT_FOUND', 'No such record', field);
    const debtor = await tx.debtor.findFirst({ where: { id: debtorId, ...(actor ? debtorVisibility(actor.viewer) : {}) } });
    if (!debtor) throw new DomainError('NOT_FOUND', 'No such record', field);
    const done = await change({ tx, now, debtor });
    const who: AuditActor = actor ? auditActor(actor) : { userId: null, role: null, agencyId: null, requestId: null };
    const cases = await tx.case.findMany({ where: { debtorId, stage: { in: [...OPEN_STAGES] } }, select: { id: true, assignedAgencyId: true, assignedCollectorId: true } });
    for (const c of cases) {
      await tx.caseEvent.create({
        data: {
          caseId: c.id,
          type: done.event.type,
          summary: done.event.summary,
          data: done.event.data,
          actorId: actor && canSeeCase(actor.viewer, c) ? actor.viewer.userId : null,
          actorLabel: actor ? (canSeeCase(actor.viewer, c) ? actorLabel(actor) : 'bank') : 'system',
          agencyId: c.assignedAgencyId,
          occurredAt: now,
          requestId: actor?.requestId ?? null,
        },
      });
    }
    await recordAudit(tx, who, now, { ...done.audit, caseId: cases.length === 1 ? cases[0]!.id : null, data: { debtorId, cases: cases.map((c) => c.id), ...(done.audit.data as object) } });
    return done.result;
  });
  deps.events?.committed();
  return out;
}

const flagsOf = (cp: Pick<ContactPoint, 'doNotContact' | 'doNotContactReason'>) => ({ doNotContact: cp.doNotContact, doNotContactReason: cp.doNotContactReason });
const mask = (value: string) => (value.length > 4 ? `${'*'.repeat(Math.min(value.length - 4, 7))}${value.slice(-4)}` : value);

async function contactPointOf(tx: Tx, actor: Actor | null, contactPointId: string): Promise<ContactPoint> {
  const cp = await tx.contactPoint.findFirst({ where: { id: contactPointId, ...(actor ? { AND: [visibleRecords.ContactPoint(actor.viewer)] } : {}) } });
  if (!cp) throw new DomainError('NOT_FOUND', 'No such contact point', 'contactPointId');
  return cp;
}

/** The debtor of a contact point the viewer sees (NOT_FOUND otherwise), before any lock. */
async function debtorOfContactPoint(deps: CareDeps, actor: Actor, contactPointId: string): Promise<string> {
  // The rule of node(id): a contact point the viewer may not see (another agency's debtor, or era) is not there.
  const cp = await deps.prisma.contactPoint.findFirst({ where: { id: contactPointId, AND: [visibleRecords.ContactPoint(actor.viewer)] }, select: { debtorId: true } });
  if (!cp) throw new DomainError('NOT_FOUND', 'No such contact point', 'contactPointId');
  return cp.debtorId;
}

export interface SetDoNotContactInput {
  contactPointId: string;
  channel?: ContactChannel | null;
  reason: string;
  source: OptOutSource;
}

/** Records that the debtor does not want to be contacted on this point (or this channel of it): in force at once. */
export async function setDoNotContact(deps: CareDeps, actor: Actor, input: SetDoNotContactInput) {
  const reason = reasonOf(input.reason);
  const debtorId = await debtorOfContactPoint(deps, actor, input.contactPointId);
  return writeDebtor(deps, actor, debtorId, 'contactPointId', async ({ tx, now }) => {
    const cp = await contactPointOf(tx, actor, input.contactPointId);
    if (input.channel && !channelFits(input.channel, cp.kind)) throw new DomainError('VALIDATION', `${input.channel} cannot reach a ${cp.kind.toLowerCase().replace('_', ' ')}`, 'channel');
    const covering = await tx.contactOptOut.findFirst({
      where: { contactPointId: cp.id, kind: 'DO_NOT_CONTACT', clearedAt: null, OR: [{ channel: null }, ...(input.channel ? [{ channel: input.channel }] : [])] },
    });
    if (covering) throw new DomainError('INVALID_TRANSITION', `The contact point is already opted out${covering.channel ? ` of ${covering.channel}` : ''}`, 'contactPointId');
    const optOut = await tx.contactOptOut.create({
      data: { kind: 'DO_NOT_CONTACT', debtorId: cp.debtorId, contactPointId: cp.id, channel: input.channel ?? null, source: input.source, reason, agencyId: eraAgencyOf(actor.viewer), setById: actor.viewer.userId, setAt: now },
    });
    const after = await tx.contactPoint.update({ where: { id: cp.id }, data: { doNotContact: true, doNotContactAt: cp.doNotContact ? cp.doNotContactAt : now, doNotContactReason: reason } });
    return {
      result: { optOut, contactPoint: after },
      event: {
        type: 'DO_NOT_CONTACT_SET',
        summary: `Do not contact ${cp.kind.toLowerCase().replace('_', ' ')} ${mask(cp.value)}${input.channel ? ` by ${input.channel}` : ''} (${input.source.toLowerCase().replace('_', ' ')})`,
        data: { optOutId: optOut.id, contactPointId: cp.id, channel: input.channel ?? null, source: input.source },
      },
      audit: { action: 'contact.doNotContact.set', entityType: 'ContactPoint', entityId: cp.id, data: { optOutId: optOut.id, channel: input.channel ?? null, source: input.source, before: flagsOf(cp), after: flagsOf(after) }, reason },
    };
  });
}

/** The bank lifts an opt-out of a contact point (one channel's, or all of them), with a reason. */
export async function clearDoNotContact(deps: CareDeps, actor: Actor, input: { contactPointId: string; channel?: ContactChannel | null; reason: string }) {
  const reason = reasonOf(input.reason);
  const debtorId = await debtorOfContactPoint(deps, actor, input.contactPointId);
  return writeDebtor(deps, actor, debtorId, 'contactPointId', async ({ tx, now }) => {
    const cp = await contactPointOf(tx, actor, input.contactPointId);
    const active = await tx.contactOptOut.findMany({ where: { contactPointId: cp.id, kind: 'DO_NOT_CONTACT', clearedAt: null, ...(input.channel ? { channel: input.channel } : {}) } });
    // A flag with no row behind it (set before opt-outs were recorded, or by import) is cleared as a whole.
    const legacy = active.length === 0 && !input.channel && cp.doNotContact && cp.wrongNumberAt === null;
    if (active.length === 0 && !legacy) throw new DomainError('INVALID_TRANSITION', `The contact point is not opted out${input.channel ? ` of ${input.channel}` : ''}`, 'contactPointId');
    await tx.contactOptOut.updateMany({ where: { id: { in: active.map((o) => o.id) } }, data: { clearedAt: now, clearedById: actor.viewer.userId, clearReason: reason } });
    const remaining = await tx.contactOptOut.findFirst({ where: { contactPointId: cp.id, kind: 'DO_NOT_CONTACT', clearedAt: null }, orderBy: { setAt: 'desc' } });
    // A wrong number stays marked: that is no wish of the debtor's to clear.
    const stillOff = remaining !== null || cp.wrongNumberAt !== null;
    const after = await tx.contactPoint.update({
      where: { id: cp.id },
      data: stillOff ? { doNotContactReason: remaining?.reason ?? cp.doNotContactReason } : { doNotContact: false, doNotContactAt: null, doNotContactReason: null },
    });
    return {
      result: { contactPoint: after },
      event: {
        type: 'DO_NOT_CONTACT_CLEARED',
        summary: `Do-not-contact lifted on ${cp.kind.toLowerCase().replace('_', ' ')} ${mask(cp.value)}${input.channel ? ` for ${input.channel}` : ''}${stillOff ? ' (other opt-outs remain)' : ''}`,
        data: { contactPointId: cp.id, channel: input.channel ?? null, optOutIds: active.map((o) => o.id) },
      },
      audit: { action: 'contact.doNotContact.clear', entityType: 'ContactPoint', entityId: cp.id, data: { channel: input.channel ?? null, optOutIds: active.map((o) => o.id), before: flagsOf(cp), after: flagsOf(after) }, reason },
    };
  });
}

/** Cease contact: no contact of any kind with the debtor, on any case, from now on. */
export async function setCeaseContact(deps: CareDeps, actor: Actor, input: { debtorId: string; reason: string; source: OptOutSource }) {
  const reason = reasonOf(input.reason);
  return writeDebtor(deps, actor, input.debtorId, 'debtorId', async ({ tx, now, debtor }) => {
    if (debtor.ceaseContact) throw new DomainError('INVALID_TRANSITION', 'Contact with the debtor has already ceased', 'debtorId');
    // FDCPA 805(c), Regulation F 1006.6(c): in the US a cease request is made in writing (a letter,
    // an e-mail). A spoken request is honoured as do-not-contact on the points it names.
    if (debtor.jurisdiction === 'US' && !WRITTEN_SOURCES.includes(input.source)) {
      throw new DomainError('VALIDATION', 'In the US a request to cease contact is made in writing (LETTER or EMAIL): record a spoken one as do-not-contact', 'source');
    }
    const optOut = await tx.contactOptOut.create({
      data: { kind: 'CEASE_CONTACT', debtorId: debtor.id, source: input.source, reason, agencyId: eraAgencyOf(actor.viewer), setById: actor.viewer.userId, setAt: now },
    });
    const after = await tx.debtor.update({ where: { id: debtor.id }, data: { ceaseContact: true, ceaseContactAt: now } });
    return {
      result: { optOut, debtor: after },
      event: { type: 'CEASE_CONTACT_SET', summary: `Cease contact (${input.source.toLowerCase().replace('_', ' ')}): no contact of any kind`, data: { optOutId: optOut.id, source: input.source } },
      audit: { action: 'contact.cease.set', entityType: 'Debtor', entityId: debtor.id, data: { optOutId: optOut.id, source: input.source, before: { ceaseContact: false }, after: { ceaseContact: true } }, reason },
    };
  });
}

/** The bank lifts a cease-contact (bank only), with a reason. */
export async function clearCeaseContact(deps: CareDeps, actor: Actor, input: { debtorId: string; reason: string }) {
  const reason = reasonOf(input.reason);
  return writeDebtor(deps, actor, input.debtorId, 'debtorId', async ({ tx, now, debtor }) => {
    if (!debtor.ceaseContact) throw new DomainError('INVALID_TRANSITION', 'Contact with the debtor has not ceased', 'debtorId');
    const active = await tx.contactOptOut.findMany({ where: { debtorId: debtor.id, kind: 'CEASE_CONTACT', clearedAt: null }, select: { id: true } });
    await tx.contactOptOut.updateMany({ where: { id: { in: active.map((o) => o.id) } }, data: { clearedAt: now, clearedById: actor.viewer.userId, clearReason: reason } });
    const after = await tx.debtor.update({ where: { id: debtor.id }, data: { ceaseContact: false, ceaseContactAt: null } });
    return {
      result: { debtor: after },
      event: { type: 'CEASE_CONTACT_CLEARED', summary: 'Cease contact lifted by the bank', data: { optOutIds: active.map((o) => o.id) } },
      audit: { action: 'contact.cease.clear', entityType: 'Debtor', entityId: debtor.id, data: { optOutIds: active.map((o) => o.id), before: { ceaseContact: true, ceaseContactAt: debtor.ceaseContactAt?.toISOString() ?? null }, after: { ceaseContact: false } }, reason },
    };
  });
}

export interface ContactPreferencesInput {
  debtorId: string;
  /** Null clears it. */
  preferredChannel?: ContactChannel | null;
  /** HH:MM in the debtor's zone; both or neither; null clears them. */
  preferredHoursStart?: string | null;
  preferredHoursEnd?: string | null;
  reason?: string | null;
}

function minutesOf(v: string, field: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(v.trim());
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || minutes > 1440) throw new DomainError('VALIDATION', `${field}: HH:MM between 00:00 and 24:00`, field);
  return minutes;
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** The channel and hours the debtor asked for; the hours lie inside the policy's contact hours. Audited with before and after. */
export async function setContactPreferences(deps: CareDeps, actor: Actor, input: ContactPreferencesInput) {
  const reason = input.reason?.trim() || null;
  if ((input.preferredHoursStart == null) !== (input.preferredHoursEnd == null)) throw new DomainError('VALIDATION', 'Give both ends of the preferred hours, or neither', 'preferredHoursEnd');
  const from = input.preferredHoursStart == null ? null : minutesOf(input.preferredHoursStart, 'preferredHoursStart');
  const to = input.preferredHoursEnd == null ? null : minutesOf(input.preferredHoursEnd, 'preferredHoursEnd');
  if (from !== null && to !== null && from >= to) throw new DomainError('VALIDATION', 'The preferred hours must start before they end', 'preferredHoursEnd');
  return writeDebtor(deps, actor, input.debtorId, 'debtorId', async ({ tx, debtor }) => {
    if (from !== null && to !== null) {
      const policy = await getContactPolicy(tx, debtor.jurisdiction);
      if (from < policy.contactHoursStart || to > policy.contactHoursEnd) {
        throw new DomainError('VALIDATION', `The preferred hours lie inside the contact hours of ${debtor.jurisdiction} (${hhmm(policy.contactHoursStart)}–${hhmm(policy.contactHoursEnd)})`, 'preferredHoursStart');
      }
    }
    const prefs = (d: Debtor) => ({ preferredChannel: d.preferredChannel, preferredContactFrom: d.preferredContactFrom, preferredContactTo: d.preferredContactTo });
    const after = await tx.debtor.update({ where: { id: debtor.id }, data: { preferredChannel: input.preferredChannel ?? null, preferredContactFrom: from, preferredContactTo: to } });
    const summary = [after.preferredChannel ? `by ${after.preferredChannel}` : null, from !== null ? `${hhmm(from)}–${hhmm(to!)}` : null].filter(Boolean).join(', ');
    return {
      result: { debtor: after },
      event: { type: 'CONTACT_PREFERENCES_SET', summary: `Contact preferences: ${summary || 'none'}`, data: { preferredChannel: after.preferredChannel, from: from === null ? null : hhmm(from), to: to === null ? null : hhmm(to) } },
      audit: { action: 'contact.preferences.set', entityType: 'Debtor', entityId: debtor.id, data: { before: prefs(debtor), after: prefs(after) }, reason },
    };
  });
}

export { hhmm };
