/**
 * Takeover after kill -9 (issue 11, point 4): two real Arrears processes on one PostgreSQL (a
 * cluster of the bench's own, as in the fault suite), the one holding the event relay's lease is
 * killed with SIGKILL, and the bench measures
 *   - how long until the survivor holds the relay lease,
 *   - how long until an event written on the survivor reaches a subscriber on the survivor
 *     (events get their positions from the relay: this is how long live events pause),
 *   - how long the dead process's job leases could block a job at most.
 * Usage: npx tsx bench/takeover.ts [rounds=3]
 */
import pg from 'pg';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { openPostgresStore } from '../src/db/store.ts';
import { applyMigrations } from '../src/db/migrations.ts';
import { Pii } from '../src/lib/pii.ts';
import { signToken } from '../src/auth/tokens.ts';
import { createArrearsClient } from '../sdk/src/index.ts';
import { createCase, createPeople } from '../test/support/scenario.ts';
import { ArrearsProcess, PgCluster, SECRETS, freePort, post, sleep, until } from '../test-faults/support.ts';

const rounds = Number(process.argv[2] ?? 3);
const cluster = await PgCluster.create();
const admin = new pg.Client({ connectionString: cluster.url });
await admin.connect();
await admin.query('CREATE DATABASE arrears');
await admin.end();
const databaseUrl = cluster.urlOf('arrears');
const store = await openPostgresStore(databaseUrl, { poolSize: 2, onError: () => {} });
await applyMigrations(store.sql);
const pii = new Pii({ encryptionKey: Buffer.from(SECRETS.pii, 'base64'), blindIndexKey: Buffer.from(SECRETS.blind, 'base64') });
const people = await createPeople(store.prisma);
const token = await signToken(SECRETS.jwt, people.users.supervisor);

const relayHolder = async () => (await store.prisma.jobLease.findUnique({ where: { name: 'event-relay' } }))?.owner ?? '';
const ownerPid = (owner: string) => Number(owner.split(':')[2]);

const procs = [
  new ArrearsProcess({ databaseUrl, port: await freePort() }, 'takeover-a'),
  new ArrearsProcess({ databaseUrl, port: await freePort() }, 'takeover-b'),
];
const results: { relay: number; event: number; jobLeaseLeft: number }[] = [];
try {
  await Promise.all(procs.map((p) => p.start()));
  for (let round = 1; round <= rounds; round++) {
    const holderOwner = await until('a relay lease holder', async () => {
      const o = await relayHolder();
      return procs.some((p) => p.pid === ownerPid(o)) ? o : null;
    }, 60_000);
    const victim = procs.find((p) => p.pid === ownerPid(holderOwner))!;
    const survivor = procs.find((p) => p !== victim)!;
    const c = await createCase(store.prisma, pii, { now: new Date(Date.now() - 40 * 86_400_000), agencyId: people.north.id });
    const client = createArrearsClient({ url: `${survivor.url}/graphql`, token });
    const sub = client.subscribe.caseEvents({ caseId: encodeGlobalID('Case', c.id) });
    let eventAt = 0;
    const reading = (async () => {
      for await (const e of sub) if (e.caseEvents.type === 'HOLD_PLACED' && !eventAt) eventAt = Date.now();
    })();
    await sleep(500);

    const killedAt = Date.now();
    await victim.kill();
    const jobLeases = await store.prisma.jobLease.findMany({ where: { owner: { contains: `:${victim.pid}:` } } });
    const jobLeaseLeft = Math.max(0, ...jobLeases.filter((l) => l.name !== 'event-relay').map((l) => l.leaseUntil.getTime() - killedAt));
    const r = await post(survivor.url, token, `mutation($input: HoldCaseInput!) { holdCase(input: $input) { userErrors { code } } }`, {
      input: { caseId: encodeGlobalID('Case', c.id), reason: 'DISPUTE' },
    });
    if (r.status !== 200) throw new Error(`the write on the survivor failed: ${JSON.stringify(r)}`);
    const relayAt = await until('the survivor takes the relay lease', async () => (ownerPid(await relayHolder()) === survivor.pid ? Date.now() : null), 60_000, 50);
    await until('the event reaches the subscriber', async () => eventAt > 0, 60_000, 50);
    sub.close();
    await reading.catch(() => {});
    const row = { relay: (relayAt - killedAt) / 1000, event: (eventAt - killedAt) / 1000, jobLeaseLeft: jobLeaseLeft / 1000 };
    results.push(row);
    process.stdout.write(
      `round ${round}: relay lease taken over ${row.relay.toFixed(1)} s after kill -9; an event written meanwhile delivered after ${row.event.toFixed(1)} s; the dead process's job leases blocked at most ${row.jobLeaseLeft.toFixed(1)} s more\n`,
    );
    await victim.start(); // back for the next round, as a restarted instance
  }
  const max = (k: keyof (typeof results)[number]) => Math.max(...results.map((r) => r[k])).toFixed(1);
  process.stdout.write(`\ntakeover after kill -9 (${rounds} rounds, lease 15 s, heartbeat 5 s): relay ≤ ${max('relay')} s, live events paused ≤ ${max('event')} s, job leases ≤ ${max('jobLeaseLeft')} s\n`);
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  await store.close();
  await cluster.destroy();
}
