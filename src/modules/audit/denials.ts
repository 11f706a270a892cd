import { AsyncLocalStorage } from 'node:async_hooks';
import { Kind, getOperationAST, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { PrismaClient, Prisma } from '../../generated/prisma/client.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { Clock } from '../../lib/time.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DomainError } from '../../lib/errors.ts';
import type { Context } from '../../context.ts';

/**
 * The audit of denials (issue 10, point 9): refused writes and reveals, throttled principals and
 * failed authentications become audit events, so that an admin or auditor sees who probes what
 * (`auditEvents(filter: { action: "DENIED_WRITE" })`). An attacker must not be able to flood the
 * log through them: each principal (or client address) writes at most DENIAL_LIMIT_PER_MINUTE
 * events of a kind a minute, and the whole process at most DENIAL_GLOBAL_LIMIT_PER_MINUTE; the
 * rest are counted in memory and the count is written with the next event that gets through.
 */
export const DENIAL_KINDS = ['DENIED_WRITE', 'DENIED_REVEAL', 'THROTTLED', 'AUTH_FAILED_API_KEY', 'AUTH_FAILED_TOKEN'] as const;
export type DenialKind = (typeof DENIAL_KINDS)[number];

export const DENIAL_LIMIT_PER_MINUTE = 10;
export const DENIAL_GLOBAL_LIMIT_PER_MINUTE = 600;
const WINDOW_MS = 60_000;
/** Past this many tracked principals, windows that have ended are dropped. */
const MAX_TRACKED = 10_000;

export interface Denial {
  kind: DenialKind;
  /** The principal, when it is known (a user's id; for an API key, the user it acts as). */
  userId?: string | null | undefined;
  role?: Role | null | undefined;
  agencyId?: string | null | undefined;
  apiKeyId?: string | null | undefined;
  /** Where the request came from, when the caller knows it (the key of unauthenticated requests). */
  clientAddress?: string | null | undefined;
  requestId: string;
  operationName?: string | null | undefined;
  detail?: Record<string, unknown> | string | null | undefined;
}

export interface DenialDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
}

interface Window {
  start: number;
  count: number;
  /** Events not written in the windows since the last one that was. */
  suppressed: number;
}

interface Limiter {
  principals: Map<string, Window>;
  global: Window;
}

// One limiter per store: two apps in one process (tests) keep apart.
const limiters = new WeakMap<object, Limiter>();

function limiterOf(deps: DenialDeps): Limiter {
  let l = limiters.get(deps.prisma);
  if (!l) {
    l = { principals: new Map(), global: { start: 0, count: 0, suppressed: 0 } };
    limiters.set(deps.prisma, l);
  }
  return l;
}

/** Counts one event in a window; true when it may be written. */
function admit(w: Window, now: number, limit: number): boolean {
  if (now - w.start >= WINDOW_MS || now < w.start) {
    w.start = now;
    w.count = 0;
  }
  w.count += 1;
  if (w.count > limit) {
    w.suppressed += 1;
    return false;
  }
  return true;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Text from a request, made safe to store: bounded, without NUL (PostgreSQL refuses it in text and jsonb). */
function clean(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/\u0000/g, '').slice(0, max);
}

function cleanJson(value: unknown): Prisma.InputJsonValue {
  // eslint-disable-next-line no-control-regex
  const text = JSON.stringify(value ?? {}).replace(/\\u0000/g, '');
  return text.length <= 4000 ? (JSON.parse(text) as Prisma.InputJsonValue) : { truncated: text.slice(0, 4000) };
}

/**
 * Writes one denial to the audit log, unless its principal (or the process) is over its budget.
 * Fire and forget: it never throws (a failure is logged); it resolves to whether it was written.
 */
export async function recordDenial(deps: DenialDeps, denial: Denial): Promise<boolean> {
  try {
    const now = deps.clock.now();
    const limiter = limiterOf(deps);
    const principal = denial.userId ?? denial.apiKeyId ?? denial.clientAddress ?? 'anonymous';
    const key = `${denial.kind}\u0001${principal}`;
    let w = limiter.principals.get(key);
    if (!w) {
      if (limiter.principals.size >= MAX_TRACKED) {
        for (const [k, old] of limiter.principals) if (now.getTime() - old.start >= WINDOW_MS && old.suppressed === 0) limiter.principals.delete(k);
        // Still full (a flood of distinct addresses): forget the oldest windows; the global cap still holds.
        if (limiter.principals.size >= MAX_TRACKED) limiter.principals.clear();
      }
      w = { start: now.getTime(), count: 0, suppressed: 0 };
      limiter.principals.set(key, w);
    }
    if (!admit(w, now.getTime(), DENIAL_LIMIT_PER_MINUTE)) return false;
    if (!admit(limiter.global, now.getTime(), DENIAL_GLOBAL_LIMIT_PER_MINUTE)) return false;
    const suppressed = w.suppressed;
    const suppressedGlobally = limiter.global.suppressed;
    w.suppressed = 0;
    limiter.global.suppressed = 0;

    const userId = denial.userId && UUID.test(denial.userId) ? denial.userId : null;
    const apiKeyId = denial.apiKeyId && UUID.test(denial.apiKeyId) ? denial.apiKeyId : null;
    const data = cleanJson({
      ...(denial.clientAddress ? { clientAddress: clean(denial.clientAddress, 100) } : {}),
      ...(denial.operationName ? { operationName: clean(denial.operationName, 200) } : {}),
      ...(apiKeyId ? { apiKeyId } : {}),
      ...(denial.detail !== undefined && denial.detail !== null ? { detail: typeof denial.detail === 'string' ? clean(denial.detail, 1000) : denial.detail } : {}),
      // Denials of this kind by this principal that were not written since the last one that was.
      ...(suppressed > 0 ? { suppressed } : {}),
      ...(suppressedGlobally > 0 ? { suppressedGlobally } : {}),
    });
    await deps.prisma.auditEvent.create({
      data: {
        at: now,
        actorId: userId,
        actorRole: denial.role ?? null,
        agencyId: denial.agencyId && UUID.test(denial.agencyId) ? denial.agencyId : null,
        requestId: clean(denial.requestId, 100),
        action: denial.kind,
        entityType: apiKeyId ? 'ApiKey' : 'Request',
        entityId: apiKeyId,
        data,
      },
    });
    return true;
  } catch (err) {
    try {
      deps.logger.warn({ err, kind: denial.kind, requestId: denial.requestId }, 'could not record a denial in the audit log');
    } catch {
      // A logger that throws must not break the request either.
    }
    return false;
  }
}

// ---------------------------------------------------------------- refused writes and reveals

/** Mutations that reveal personal data: a refusal of one is a DENIED_REVEAL, not a DENIED_WRITE. */
export const REVEAL_FIELDS: ReadonlySet<string> = new Set(['revealDebtorIdentity']);

interface Refusals {
  list: { code: string; field: string[] | null; message: string }[];
}

const refusalScope = new AsyncLocalStorage<Refusals>();

/**
 * Called where a service's refusal becomes a user error (withUserErrors): a FORBIDDEN_ACTION is
 * remembered for the denial audit of the operation being executed. Outside an execution: nothing.
 */
export function noteRefusal(err: DomainError): void {
  if (err.code !== 'FORBIDDEN_ACTION') return;
  refusalScope.getStore()?.list.push({ code: err.code, field: err.field, message: err.message });
}

/** Response key → field name of the operation's root fields (an alias must not hide what was refused). */
function rootFieldNames(op: OperationDefinitionNode): Map<string, string> {
  const names = new Map<string, string>();
  for (const s of op.selectionSet.selections) {
    if (s.kind === Kind.FIELD) names.set(s.alias?.value ?? s.name.value, s.name.value);
  }
  return names;
}

/**
 * A Yoga plugin: after a mutation, its FORBIDDEN errors and FORBIDDEN_ACTION user errors are
 * audited (one event a kind a request, naming the refused fields). Reads that are refused are
 * not: a read refused is answered null or FORBIDDEN and changes nothing.
 */
export function useDenialAudit(deps: DenialDeps): Plugin<Context> {
  return {
    instrumentation: {
      execute: (_payload, wrapped) => refusalScope.run({ list: [] }, wrapped),
    },
    onExecute({ args }) {
      const op = getOperationAST(args.document, args.operationName ?? undefined);
      if (op?.operation !== 'mutation') return undefined;
      const refusals = refusalScope.getStore();
      const ctx = args.contextValue as Partial<Context>;
      return {
        async onExecuteDone({ result }) {
          if (!ctx.viewer || Symbol.asyncIterator in (result as object)) return;
          const errors = (result as ExecutionResult).errors ?? [];
          const names = rootFieldNames(op);
          const refused = { DENIED_WRITE: [] as unknown[], DENIED_REVEAL: [] as unknown[] };
          for (const e of errors) {
            // The mutation itself refused (not a field read in its payload after it succeeded).
            if (e.extensions?.['code'] !== 'FORBIDDEN' || e.path?.length !== 1) continue;
            const key = typeof e.path?.[0] === 'string' ? e.path[0] : '';
            const field = names.get(key) ?? key;
            refused[REVEAL_FIELDS.has(field) ? 'DENIED_REVEAL' : 'DENIED_WRITE'].push({ field, code: 'FORBIDDEN' });
          }
          for (const r of refusals?.list ?? []) refused.DENIED_WRITE.push({ code: r.code, input: r.field, message: r.message });
          const viewer = ctx.viewer;
          await Promise.all(
            (['DENIED_WRITE', 'DENIED_REVEAL'] as const)
              .filter((kind) => refused[kind].length > 0)
              .map((kind) =>
                recordDenial(deps, {
                  kind,
                  userId: viewer.userId,
                  role: viewer.role,
                  agencyId: viewer.agencyId,
                  apiKeyId: viewer.apiKeyId,
                  requestId: ctx.requestId ?? 'unknown',
                  operationName: op.name?.value ?? args.operationName ?? null,
                  detail: { refused: refused[kind].slice(0, 20), ...(refused[kind].length > 20 ? { more: refused[kind].length - 20 } : {}) },
                }),
              ),
          );
        },
      };
    },
  };
}
