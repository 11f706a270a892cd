/**
 * The reminder jobs (DOMAIN.md "Reminders"):
 * - reminder-dispatch (every 30 s): sends the due reminders of the outbox through the channel
 *   provider (src/modules/contact/outbox.ts), until none is due or the job is stopped.
 * - automatic-reminders (hourly): creates the reminders the dunning rules ask for
 *   (src/modules/contact/dunning.ts); a re-run creates nothing new.
 * The provider: a webhook gateway when ARREARS_SMS_WEBHOOK_URL and ARREARS_SMS_WEBHOOK_SECRET
 * are set, else the recording provider (logs, the text stays in Reminder.renderedMessage).
 */
import type { Logger } from '../lib/logger.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { dispatchDueReminders, type DispatchOptions } from '../modules/contact/outbox.ts';
import { createAutomaticReminders } from '../modules/contact/dunning.ts';
import { providerFromEnv, type ChannelProvider } from '../modules/contact/providers.ts';
import type { Job } from './scheduler.ts';

export const REMINDER_DISPATCH_JOB = 'reminder-dispatch';
export const AUTOMATIC_REMINDERS_JOB = 'automatic-reminders';

export interface ReminderDispatchJobOptions extends Omit<DispatchOptions, 'owner' | 'signal'> {
  /** The provider, or how to make one from the job's logger; default providerFromEnv(env). */
  provider?: ChannelProvider | ((logger: Logger) => ChannelProvider);
  /** Where the webhook settings are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  everyMs?: number;
}

export function reminderDispatchJob(options: ReminderDispatchJobOptions = {}): Job {
  const { provider, env, everyMs, ...dispatch } = options;
  let made: ChannelProvider | undefined;
  const providerFor = (logger: Logger, prisma: PrismaClient): ChannelProvider => {
    if (provider && typeof provider !== 'function') return provider;
    made ??= provider ? provider(logger) : providerFromEnv(env ?? process.env, logger, prisma);
    return made;
  };
  return {
    name: REMINDER_DISPATCH_JOB,
    everyMs: everyMs ?? 30_000,
    description: 'send the due reminders of the outbox, checking the contact policy again (every 30 s)',
    async run({ prisma, clock, logger, owner, runId, signal }) {
      const result = await dispatchDueReminders(
        { prisma, clock, logger, provider: providerFor(logger, prisma) },
        // The row leases name this run: two runs of one owner (a restart) never share a claim.
        { ...dispatch, owner: `${owner}:${runId}`, signal },
      );
      return { ...result, ...(signal.aborted ? { interrupted: true } : {}) };
    },
  };
}

export interface AutomaticRemindersJobOptions {
  batchSize?: number;
  everyMs?: number;
}

export function automaticRemindersJob(options: AutomaticRemindersJobOptions = {}): Job {
  return {
    name: AUTOMATIC_REMINDERS_JOB,
    everyMs: options.everyMs ?? 60 * 60_000,
    description: 'create the reminders the dunning rules ask for, never twice (hourly)',
    run: async ({ prisma, clock, logger, signal }) =>
      ({ ...(await createAutomaticReminders({ prisma, clock, logger }, { signal, ...(options.batchSize ? { batchSize: options.batchSize } : {}) })) }),
  };
}
