import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import type { Actor } from '../../src/lib/actor.ts';
import type { ScenarioUser } from '../support/scenario.ts';
import type { ChannelProvider, OutboundMessage } from '../../src/modules/contact/providers.ts';

/** A provider that keeps what it was given and can be told to fail. */
export class FakeProvider implements ChannelProvider {
  readonly name = 'fake';
  readonly sent: OutboundMessage[] = [];
  failWith: (() => Error) | null = null;
  delayMs = 0;
  async send(msg: OutboundMessage): Promise<{ providerMessageId: string }> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) throw this.failWith();
    this.sent.push(msg);
    return { providerMessageId: `fake:${msg.reminderId}` };
  }
  sentTo(reminderId: string): OutboundMessage[] {
    return this.sent.filter((m) => m.reminderId === reminderId);
  }
}

export function actorOf(u: ScenarioUser, fullName = 'Test User'): Actor {
  return { viewer: { userId: u.id, email: u.email, fullName, role: u.role, agencyId: u.agencyId, authMethod: 'JWT', apiKeyId: null }, requestId: null };
}

/** The debtor's primary mobile of a case made by createCase. */
export async function mobileOf(prisma: PrismaClient, caseId: string) {
  const c = await prisma.case.findUniqueOrThrow({ where: { id: caseId }, select: { debtorId: true } });
  return prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.debtorId, kind: 'MOBILE' } });
}

export const SHANGHAI = (wall: string) => new Date(`${wall}+08:00`);
