/**
 * Server-sent events with ids (API.md "Subscriptions"): each `next` event of `caseEvents` carries
 * `id: <outbox position>` (also in the payload's `extensions.eventId`); a client reconnecting
 * with `Last-Event-ID: <position>` gets what it missed first. On shutdown the streams end with a
 * normal end of the response body and no `complete` event, so that clients reconnect (to another
 * instance, or to this one restarted) and resume from their last id.
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { badUserInput } from '../lib/errors.ts';
import type { LiveEvents } from './live.ts';

const eventIds = new WeakMap<object, string>();

/** The subscription tells which outbox position the value it yields now stands for. */
export function setEventId(ctx: object, position: string): void {
  eventIds.set(ctx, position);
}

/** The request's Last-Event-ID as a position; null when absent; BAD_USER_INPUT when not a position. */
export function lastEventIdOf(ctx: object): bigint | null {
  const request = (ctx as { request?: Request }).request;
  const raw = request?.headers.get('last-event-id')?.trim();
  if (!raw) return null;
  if (!/^\d{1,18}$/.test(raw)) throw badUserInput('Last-Event-ID must be the id of an event this server sent (a number).');
  return BigInt(raw);
}

function stringify(result: ExecutionResult): string {
  // The `http` extension is for the response, not for the client (as Yoga's own processor does).
  const { extensions, ...rest } = result as ExecutionResult & { extensions?: Record<string, unknown> };
  const ext = extensions ? Object.fromEntries(Object.entries(extensions).filter(([k]) => k !== 'http')) : undefined;
  return JSON.stringify({ ...rest, ...(ext && Object.keys(ext).length ? { extensions: ext } : {}) });
}

const PING_MS = 12_000;

/** Yoga plugin: event ids on subscription results, and SSE responses that write them. */
export function useLiveEventStreams(events: () => LiveEvents | undefined): Plugin {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ args }) {
          const ctx = args.contextValue as object;
          return {
            onNext({ result, setResult }) {
              const id = eventIds.get(ctx);
              if (id === undefined) return;
              eventIds.delete(ctx);
              setResult({ ...result, extensions: { ...(result.extensions ?? {}), eventId: id } });
            },
          };
        },
      };
    },
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result)) return;
      const accept = request.headers.get('accept') ?? '';
      if (!/text\/event-stream/i.test(accept)) return;
      setResultProcessor((res, fetchAPI) => {
        const iterator = (res as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
        const encoder = new fetchAPI.TextEncoder();
        let ping: NodeJS.Timeout | undefined;
        const stream = new fetchAPI.ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode(':\n\n'));
            ping = setInterval(() => {
              if (controller.desiredSize === null) return clearInterval(ping);
              if (controller.desiredSize > 0) controller.enqueue(encoder.encode(':\n\n'));
            }, PING_MS);
          },
          async pull(controller) {
            let step: IteratorResult<ExecutionResult>;
            try {
              step = await iterator.next();
            } catch (err) {
              clearInterval(ping);
              controller.error(err);
              return;
            }
            if (step.value != null) {
              const id = (step.value.extensions as { eventId?: unknown } | undefined)?.eventId;
              const idLine = typeof id === 'string' ? `id: ${id}\n` : '';
              controller.enqueue(encoder.encode(`event: next\n${idLine}data: ${stringify(step.value)}\n\n`));
            }
            if (step.done) {
              clearInterval(ping);
              // Ended by a shutdown: no `complete`, the client reconnects and resumes.
              if (!events()?.streamsEnding) controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
              controller.close();
            }
          },
          async cancel(reason) {
            clearInterval(ping);
            await iterator.return?.(reason);
          },
        });
        return new fetchAPI.Response(stream, {
          status: 200,
          headers: { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' },
        });
      }, 'text/event-stream');
    },
  };
}
