// Shutdown ends event streams cleanly (issue 11, point 9): the SSE response ends normally, before
// the grace period, without `complete` (so that clients reconnect and resume with Last-Event-ID).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';
import { openStream } from '../support/sse-raw.ts';
import { listen } from '../../src/server.ts';
import { shutdown } from '../../src/bootstrap.ts';

let t: TestApp;
let s: Scenario;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
});
afterAll(async () => {
  await t?.close().catch(() => {}); // closed by the shutdown already
});

describe('shutdown', () => {
  it('ends open event streams with a clean end of the response, well before the grace period', async () => {
    const server = await listen(t.runtime.app, '127.0.0.1', 0);
    const token = await t.token(s.users.supervisor);
    const streams = await Promise.all(
      [0, 1, 2].map(() => openStream((r) => fetch(r), `${server.url}/graphql`, token, 'subscription { caseEvents { type } }')),
    );
    expect(streams.map((x) => x.status)).toEqual([200, 200, 200]);
    await new Promise((r) => setTimeout(r, 100));
    const graceMs = 8000;
    const started = Date.now();
    await shutdown(t.runtime, server, null, graceMs);
    const took = Date.now() - started;
    const ends = await Promise.all(streams.map((x) => x.ended));
    expect(ends.map((e) => e.clean)).toEqual([true, true, true]); // no socket error
    for (const x of streams) expect(await x.next(100)).toBeNull(); // no `complete`: clients reconnect
    expect(took).toBeLessThan(2000);
    expect(server.server.listening).toBe(false);
  });
});
