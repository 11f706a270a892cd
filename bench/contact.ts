/**
 * Benchmark of the contact policy and the automatic-reminder job (issue 4, "Performance": policy
 * decisions per second for a debtor with a year of history, read through indexed queries bounded
 * by the rule windows; the automatic-reminder job over 100,000 cases on PostgreSQL in under 60 s
 * with flat memory).
 *
 *   npx tsx bench/contact.ts                       # 100,000 cases, a throwaway database on
 *                                                  # postgres://postgres@127.0.0.1:5432, dropped after
 *   npx tsx bench/contact.ts --cases 20000         # fewer cases
 *   node --expose-gc --import tsx bench/contact.ts # also the live heap after a collection
 *   npx tsx bench/contact.ts --database-url postgres://user@host:5432/db   # that database, as is
 *                                                  # (migrations applied, the bench's rows left in it)
 *   options: --decisions N (policy decisions timed per debtor, default 2000),
 *            --batch-size N (cases per page of the job, default 1000),
 *            --dispatch N (reminders sent by the dispatcher afterwards, default 20000; 0: none)
 *
 * (a) Policy decisions: one CN and one US debtor, each with a year of contact history (3 calls a
 *     day for 365 days, a third of them connected), besides the seeded cases' data. It prints
 *     `evaluateCaseContact` decisions per second (the database reads: debtor, contact point,
 *     policy, the attempts inside historyWindowStart's window on the (debtorId, attemptedAt)
 *     index, the holds; then the pure engine), the rows the history read returns against the
 *     rows the debtor has, the plan of that read, and the pure `evaluateContact` alone (with the
 *     window's history, and with the whole year handed to it).
 * (b) The automatic-reminder job: seeds N cases with plain bulk SQL (debtors, contact points, card
 *     accounts, cases with days past due spread over 0–199, some on hold, ceased, closed, paid,
 *     US, English, half with an e-mail address), then times createAutomaticReminders over them:
 *     seconds, reminders created, peak RSS during the run; then a second run at the same instant
 *     (which creates nothing) and its time.
 * (c) The dispatcher (issue 12, "Contact at scale": ≥ 500 reminders/s to a loopback webhook with 8
 *     in flight): sends --dispatch N of those reminders to a loopback SMS gateway in its own
 *     process, which checks every HMAC signature (the whole path: claim, the policy for the batch
 *     at send time, render, signed POST, SENT + ContactAttempt + timeline + audit recorded in
 *     bulk), and prints reminders sent per second, SQL statements and dispatcher CPU per reminder.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type Store } from '../src/db/store.ts';
import { applyMigrations } from '../src/db/migrations.ts';
import { Pii } from '../src/lib/pii.ts';
import { DAY_MS, dateOnly, dueDateForDaysPastDue, localDate, systemClock, type Clock } from '../src/lib/time.ts';
import { createLogger } from '../src/lib/logger.ts';
import type { Case, PrismaClient } from '../src/generated/prisma/client.ts';
import type { Jurisdiction } from '../src/generated/prisma/enums.ts';
import { ensureContactPolicies, getContactPolicy } from '../src/modules/policy/service.ts';
import { evaluateContact, historyWindowStart, zonedWallTimeToInstant } from '../src/modules/policy/engine.ts';
import { evaluateCaseContact, evaluateContactMany } from '../src/modules/contact/service.ts';
import { createAutomaticReminders } from '../src/modules/contact/dunning.ts';
import { dispatchDueReminders } from '../src/modules/contact/outbox.ts';
import { WebhookProvider } from '../src/modules/contact/providers.ts';
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FixedClock } from '../src/lib/time.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from '../src/modules/contact/templates.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}
const cases = Number(arg('--cases') ?? 100_000);
const decisions = Number(arg('--decisions') ?? 2000);
const batchSize = Number(arg('--batch-size') ?? 1000);
const dispatchCount = Number(arg('--dispatch') ?? 20000);
const givenUrl = arg('--database-url');
for (const [name, v] of [['--cases', cases], ['--decisions', decisions], ['--batch-size', batchSize], ['--dispatch', dispatchCount + 1]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} N: a whole number above 0`);
}

const tag = randomBytes(3).toString('hex');
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const logger = createLogger('warn');

// ------------------------------------------------------------------ seeding (bulk SQL)

/** N cases with their debtors, contact points and accounts, by INSERT … SELECT over generate_series, in chunks. */
async function seedCases(store: Store, n: number, now: Date): Promise<void> {
  const today = localDate(now, 'Asia/Shanghai');
  const chunk = 25_000;
  for (let from = 1; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    await store.sql.transaction(async (tx) => {
      const range = `generate_series(${from}, ${to}) AS i`;
      await tx.exec(`
        INSERT INTO "Debtor" (id, "externalRef", "fullName", "nationalIdCiphertext", "nationalIdBlindIndex", "nationalIdMasked", "timeZone", jurisdiction, language, "ceaseContact", "createdAt", "updatedAt")
        SELECT md5('debtor-${tag}-' || i)::uuid, 'BENCH-${tag}-' || i, '债务人' || i, '\\x00'::bytea, md5('nid-' || i), '1101**********' || lpad((i % 10000)::text, 4, '0'),
               CASE WHEN i % 20 = 0 THEN 'America/New_York' ELSE 'Asia/Shanghai' END,
               (CASE WHEN i % 20 = 0 THEN 'US' ELSE 'CN' END)::"Jurisdiction",
               (CASE WHEN i % 5 = 0 THEN 'EN' ELSE 'ZH_CN' END)::"Language",
               i % 100 = 5, now(), now()
          FROM ${range};
        INSERT INTO "ContactPoint" (id, "debtorId", kind, party, value, "primary", "doNotContact", "createdAt")
        SELECT md5('mobile-${tag}-' || i)::uuid, md5('debtor-${tag}-' || i)::uuid, 'MOBILE', 'DEBTOR', '139' || lpad(i::text, 8, '0'), true, i % 100 = 6, now()
          FROM ${range};
        INSERT INTO "ContactPoint" (id, "debtorId", kind, party, relation, value, "primary", "createdAt")
        SELECT md5('contact-${tag}-' || i)::uuid, md5('debtor-${tag}-' || i)::uuid, 'MOBILE', 'THIRD_PARTY', 'spouse', '137' || lpad(i::text, 8, '0'), false, now()
          FROM ${range} WHERE i % 3 = 0;
        INSERT INTO "ContactPoint" (id, "debtorId", kind, party, value, "primary", "createdAt")
        SELECT md5('email-${tag}-' || i)::uuid, md5('debtor-${tag}-' || i)::uuid, 'EMAIL', 'DEBTOR', 'debtor' || i || '@example.cn', true, now()
          FROM ${range} WHERE i % 2 = 0;
        INSERT INTO "CardAccount" (id, "externalRef", "debtorId", "cardLast4", product, "creditLimit", currency, "createdAt")
        SELECT md5('account-${tag}-' || i)::uuid, 'ACCT-${tag}-' || i, md5('debtor-${tag}-' || i)::uuid, lpad((1000 + i % 9000)::text, 4, '0'), 'Gold', 5000000,
               CASE WHEN i % 20 = 0 THEN 'USD' ELSE 'CNY' END, now()
          FROM ${range};
        INSERT INTO "Case" (id, "accountId", "debtorId", currency, principal, interest, fees, "overdueTotal", "dueDate", stage, status, version, "openedAt", "updatedAt")
        SELECT md5('case-${tag}-' || i)::uuid, md5('account-${tag}-' || i)::uuid, md5('debtor-${tag}-' || i)::uuid,
               CASE WHEN i % 20 = 0 THEN 'USD' ELSE 'CNY' END,
               100000 + (i % 1000) * 731, 5000 + (i % 97) * 13, 2500, 100000 + (i % 1000) * 731 + 5000 + (i % 97) * 13 + 2500,
               '${today}'::date - (i % 200),
               (CASE WHEN i % 100 = 2 THEN 'CLOSED' WHEN i % 100 = 3 THEN 'RESOLVED' WHEN i % 50 = 1 THEN 'LEGAL' WHEN i % 10 = 0 THEN 'FIELD_VISIT' ELSE 'EARLY_REMINDER' END)::"CaseStage",
               (CASE WHEN i % 100 = 3 THEN 'PAID' ELSE 'OPEN' END)::"CaseStatus",
               1, now(), now()
          FROM ${range};
        INSERT INTO "Hold" (id, "caseId", reason, note, "startsAt", "createdAt")
        SELECT md5('hold-${tag}-' || i)::uuid, md5('case-${tag}-' || i)::uuid, 'DISPUTE', 'bench', now() - interval '1 day', now()
          FROM ${range} WHERE i % 100 = 4;
      `);
    });
  }
  await store.sql.exec('ANALYZE');
}

// ------------------------------------------------------------------ (a) policy decisions

async function debtorWithAYear(prisma: PrismaClient, pii: Pii, jurisdiction: Jurisdiction, now: Date): Promise<{ c: Case; mobileId: string; historyRows: number }> {
  const zone = jurisdiction === 'US' ? 'America/New_York' : 'Asia/Shanghai';
  const debtor = await prisma.debtor.create({
    data: {
      externalRef: `BENCH-YEAR-${jurisdiction}-${tag}`,
      fullName: jurisdiction === 'US' ? 'Year Of Calls' : '一年通话',
      timeZone: zone,
      jurisdiction,
      language: jurisdiction === 'US' ? 'EN' : 'ZH_CN',
      ...pii.sealNationalId('110101199003071234'),
      contactPoints: { create: [{ kind: 'MOBILE', value: `1390000${jurisdiction === 'US' ? '1' : '2'}000`, primary: true }, { kind: 'HOME_PHONE', value: '01088880000' }] },
    },
    include: { contactPoints: true },
  });
  const account = await prisma.cardAccount.create({ data: { externalRef: `ACCT-YEAR-${jurisdiction}-${tag}`, debtorId: debtor.id, cardLast4: '4321', product: 'Platinum', creditLimit: 5_000_000n, currency: jurisdiction === 'US' ? 'USD' : 'CNY' } });
  const c = await prisma.case.create({
    data: { accountId: account.id, debtorId: debtor.id, currency: account.currency, principal: 900_000n, interest: 50_000n, fees: 10_000n, overdueTotal: 960_000n, dueDate: dueDateForDaysPastDue(400, now), openedAt: new Date(now.getTime() - 400 * DAY_MS) },
  });
  const mobile = debtor.contactPoints.find((p) => p.kind === 'MOBILE')!;
  const home = debtor.contactPoints.find((p) => p.kind === 'HOME_PHONE')!;
  // 3 calls a day for 365 days up to today (10:00, 14:00, 19:00 local), a third connected.
  const today = localDate(now, zone);
  const rows = [];
  for (let d = 364; d >= 0; d--) {
    const date = dateOnly(new Date(Date.parse(`${today}T00:00:00Z`) - d * DAY_MS));
    for (const [k, minutes] of [10 * 60, 14 * 60, 19 * 60].entries()) {
      rows.push({
        caseId: c.id,
        debtorId: debtor.id,
        contactPointId: k === 2 ? home.id : mobile.id,
        channel: 'CALL' as const,
        attemptedAt: zonedWallTimeToInstant(date, minutes, zone),
        outcome: k === 1 ? ('ANSWERED' as const) : ('NO_ANSWER' as const),
        connected: k === 1,
      });
    }
  }
  await prisma.contactAttempt.createMany({ data: rows });
  return { c, mobileId: mobile.id, historyRows: rows.length };
}

async function policyBench(store: Store, pii: Pii, now: Date): Promise<void> {
  const { prisma } = store;
  for (const jurisdiction of ['CN', 'US'] as const) {
    const zone = jurisdiction === 'US' ? 'America/New_York' : 'Asia/Shanghai';
    // 20:00 local today, after the day's three calls, inside contact hours: every rule is checked.
    const at = zonedWallTimeToInstant(localDate(now, zone), 20 * 60, zone);
    const { c, mobileId, historyRows } = await debtorWithAYear(prisma, pii, jurisdiction, now);
    const input = { channel: 'CALL' as const, contactPointId: mobileId, at };
    const policy = await getContactPolicy(prisma, jurisdiction);
    const from = historyWindowStart(policy, at, zone);
    const window = await prisma.contactAttempt.findMany({
      where: { debtorId: c.debtorId, status: 'COMPLETED', direction: 'OUTBOUND', attemptedAt: { gte: from, lte: at } },
      select: { attemptedAt: true, channel: true, contactPointId: true, connected: true, caseId: true },
    });
    const year = await prisma.contactAttempt.findMany({ where: { debtorId: c.debtorId }, select: { attemptedAt: true, channel: true, contactPointId: true, connected: true, caseId: true } });
    const plan = await store.sql.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT "attemptedAt", channel, "contactPointId", connected, "caseId" FROM "ContactAttempt"
        WHERE "debtorId" = $1 AND status = 'COMPLETED' AND direction = 'OUTBOUND' AND "attemptedAt" >= $2 AND "attemptedAt" <= $3`,
      [c.debtorId, from.toISOString(), at.toISOString()],
    );

    for (let i = 0; i < 50; i++) await evaluateCaseContact(prisma, c, input); // warm-up
    let t0 = performance.now();
    let decision;
    for (let i = 0; i < decisions; i++) decision = (await evaluateCaseContact(prisma, c, input)).decision;
    const dbRate = decisions / ((performance.now() - t0) / 1000);

    const concurrent = 8;
    t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrent }, async () => {
        while (next++ < decisions) await evaluateCaseContact(prisma, c, input);
      }),
    );
    const dbRateConcurrent = decisions / ((performance.now() - t0) / 1000);

    const pure = (history: typeof window, n: number) => {
      const t = performance.now();
      for (let i = 0; i < n; i++) {
        evaluateContact({
          policy,
          debtor: { timeZone: zone, ceaseContact: false },
          contactPoint: { id: mobileId, debtorOwn: true, kind: 'MOBILE', doNotContact: false },
          channel: 'CALL',
          history,
          caseId: c.id,
          holds: [],
          at,
        });
      }
      return n / ((performance.now() - t) / 1000);
    };
    pure(window, 200);
    const pureWindow = pure(window, decisions * 5);
    const pureYear = pure(year, Math.max(50, Math.floor(decisions / 10)));

    console.log(`(a) ${jurisdiction} debtor (${zone}), ${fmt(historyRows)} calls over 365 days; a CALL at 20:00 local: ${decision?.allowed ? 'allowed' : `refused (${(decision as { rule: string } | undefined)?.rule})`}`);
    console.log(`    history read: ${window.length} row(s) since ${from.toISOString()} (historyWindowStart), not ${fmt(historyRows)}; plan: ${plan.map((p) => p['QUERY PLAN'].trim()).filter((l) => /Scan|Index Cond/.test(l)).join(' | ')}`);
    console.log(`    evaluateCaseContact (reads + engine): ${fmt(dbRate)} decisions/s one at a time, ${fmt(dbRateConcurrent)} decisions/s ${concurrent} at once`);
    console.log(`    evaluateContact (pure): ${fmt(pureWindow)} decisions/s with the window's ${window.length} entries; ${fmt(pureYear)} decisions/s if handed the whole year (${fmt(year.length)} entries)`);
  }
}

/**
 * (a′) Decisions per page: evaluateContactMany over pages of 100 of the seeded cases (an SMS and a
 * CALL question each, to their own mobile), the way the dispatcher decides a claimed batch.
 */
async function pageBench(store: Store, now: Date): Promise<void> {
  const { prisma } = store;
  const pages = 20;
  const rows = await prisma.case.findMany({ where: { stage: 'EARLY_REMINDER' }, take: pages * 100, select: { id: true, debtorId: true, debtor: { select: { contactPoints: { where: { kind: 'MOBILE', party: 'DEBTOR' }, select: { id: true }, take: 1 } } } } });
  const questions = rows.flatMap((c) =>
    (['SMS', 'CALL'] as const).map((channel) => ({ case: { id: c.id, debtorId: c.debtorId }, channel, contactPointId: c.debtor.contactPoints[0]?.id ?? null, at: now })),
  );
  const policies = new Map<Jurisdiction, ReturnType<typeof getContactPolicy>>();
  const policyOf = (j: Jurisdiction) => policies.get(j) ?? (policies.set(j, getContactPolicy(prisma, j)), policies.get(j)!);
  await evaluateContactMany(prisma, questions.slice(0, 200), { policyOf }); // warm-up
  let statements = 0;
  const stop = store.onQuery(() => statements++);
  const t0 = performance.now();
  for (let p = 0; p < questions.length; p += 200) await evaluateContactMany(prisma, questions.slice(p, p + 200), { policyOf });
  const secs = (performance.now() - t0) / 1000;
  stop();
  console.log(
    `(a) per page: evaluateContactMany over ${fmt(questions.length)} questions in pages of 200 (100 cases, an SMS and a CALL each): ` +
      `${fmt(questions.length / secs)} decisions/s, ${(statements / (questions.length / 200)).toFixed(1)} SQL statements a page`,
  );
}

// ------------------------------------------------------------------ (b) the automatic-reminder job

async function jobBench(store: Store, clock: Clock): Promise<void> {
  const { prisma } = store;
  const total = (await prisma.case.count()) / batchSize;
  const run = async (label: string) => {
    if (global.gc) global.gc();
    const startRss = process.memoryUsage.rss();
    let peak = startRss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
    // RSS when a tenth, half and all of the pages are done: flat memory means these do not grow with the pages.
    const marks = [0.1, 0.5];
    const rss: string[] = [];
    const t0 = performance.now();
    const result = await createAutomaticReminders(
      { prisma, clock, logger },
      {
        batchSize,
        onPage: (p) => {
          while (marks.length && p.pages >= marks[0]! * total) {
            // With node --expose-gc, the live heap after a collection too: what flat memory is about.
            if (global.gc) global.gc();
            rss.push(`${marks.shift()! * 100}%: ${mib(process.memoryUsage.rss())}${global.gc ? ` (heap ${mib(process.memoryUsage().heapUsed)})` : ''}`);
          }
        },
      },
    );
    const secs = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (global.gc) global.gc();
    rss.push(`end: ${mib(process.memoryUsage.rss())}${global.gc ? ` (heap ${mib(process.memoryUsage().heapUsed)})` : ''}`);
    console.log(
      `(b) ${label}: ${secs.toFixed(2)} s for ${fmt(result.examined)} open contactable cases in ${result.pages} pages: ` +
        `${fmt(result.created)} reminders created (${Object.entries(result.byRule).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'}), ` +
        `${fmt(result.existing)} existed, ${fmt(result.noContactPoint)} rule occurrences without a contactable point for their channel; ` +
        `RSS ${mib(startRss)} at start, ${rss.join(', ')}; peak ${mib(peak)}; ${((secs * 1000) / Math.max(1, result.examined)).toFixed(3)} ms a case` +
        `${secs * 1000 <= 0.3 * Math.max(1, result.examined) ? '' : '  ** over the target of 0.3 ms a case (1,000,000 cases in 5 min) **'}`,
    );
    return result;
  };
  await run('first run');
  await run('second run, same instant');
  const events = await prisma.caseEvent.count({ where: { type: 'REMINDER_SCHEDULED' } });
  const audits = await prisma.auditEvent.count({ where: { action: 'reminder.autoSchedule' } });
  console.log(`    ${fmt(await prisma.reminder.count())} reminders, ${fmt(events)} REMINDER_SCHEDULED timeline events, ${fmt(audits)} audit events (one per page)`);
}

// ------------------------------------------------------------------ (c) the dispatcher

/**
 * A loopback SMS gateway in its own process (as a real one would be): checks each request's
 * HMAC signature, answers 200 with a message id, and counts what it accepted.
 */
async function startGateway(secret: string): Promise<{ url: string; stop: () => Promise<number> }> {
  const code = `
    const http = require('node:http'); const { createHmac } = require('node:crypto');
    const secret = process.env.GATEWAY_SECRET; let accepted = 0, refused = 0;
    const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
      const chunks = []; req.on('data', (c) => chunks.push(c)); req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8'); const ts = req.headers['x-arrears-timestamp'];
        const want = 'sha256=' + createHmac('sha256', secret).update(ts + '.' + body).digest('hex');
        if (req.headers['x-arrears-signature'] !== want) { refused++; res.writeHead(401).end(); return; }
        accepted++; const { reminderId } = JSON.parse(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ providerMessageId: 'gw-' + reminderId }));
      });
    });
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
    process.on('message', () => process.send({ accepted, refused }, () => process.exit(0)));`;
  const file = join(mkdtempSync(join(tmpdir(), 'arrears-gateway-')), 'gateway.cjs');
  writeFileSync(file, code);
  const child = fork(file, [], { execArgv: [], env: { ...process.env, GATEWAY_SECRET: secret }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}/sms`,
    stop: () =>
      new Promise((resolve) => {
        child.once('message', (m) => {
          const { accepted, refused } = m as { accepted: number; refused: number };
          if (refused) console.log(`    ** the gateway refused ${refused} request(s): bad signatures **`);
          resolve(accepted);
        });
        child.send('stop');
      }),
  };
}

async function dispatchBench(store: Store, n: number): Promise<void> {
  if (n === 0) return;
  const { prisma } = store;
  // At the latest scheduled instant every reminder is due (the night's are due at 08:00).
  const latest = await prisma.reminder.aggregate({ _max: { scheduledAt: true } });
  const clock = new FixedClock(latest._max.scheduledAt ?? new Date());
  const secret = randomBytes(24).toString('hex');
  const gateway = await startGateway(secret);
  const provider = new WebhookProvider({ url: gateway.url, secret, name: 'loopback-gateway' });
  const batch = 100;
  let statements = 0;
  const stop = store.onQuery(() => statements++);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await dispatchDueReminders(
    { prisma, clock, logger, provider },
    { owner: 'bench', batchSize: batch, maxBatches: Math.ceil(n / batch), concurrency: 8 },
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stop();
  const accepted = await gateway.stop();
  const rate = result.sent / secs;
  console.log(
    `(c) dispatcher to a loopback webhook gateway (its own process, HMAC checked), 8 in flight, batches of ${batch}: ` +
      `${fmt(result.claimed)} claimed in ${secs.toFixed(2)} s = ${fmt(rate)} sent/s${rate >= 500 ? '' : '  ** under the 500/s target **'} ` +
      `(sent ${fmt(result.sent)}, deferred ${fmt(result.deferred)}, blocked ${fmt(result.blocked)}, failed ${fmt(result.failed)}, retried ${fmt(result.retried)}; gateway accepted ${fmt(accepted)}); ` +
      `${(statements / Math.max(1, result.claimed)).toFixed(2)} SQL statements and ${((cpu.user + cpu.system) / 1000 / Math.max(1, result.claimed)).toFixed(2)} ms of dispatcher CPU per reminder`,
  );
}

async function main() {
  let url: string;
  let cleanup = async () => {};
  let where: string;
  if (givenUrl) {
    url = givenUrl;
    where = `PostgreSQL ${new URL(givenUrl).host}${new URL(givenUrl).pathname}`;
  } else {
    const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `arrears_bench_contact_${process.pid}_${tag}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`CREATE DATABASE "${name}"`);
    await c.end();
    url = `postgres://postgres@127.0.0.1:5432/${name}`;
    where = `PostgreSQL 127.0.0.1:5432, throwaway database ${name}`;
    cleanup = async () => {
      const a = new pg.Client({ connectionString: admin });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    };
  }
  const store = await openPostgresStore(url, { poolSize: 8 });
  try {
    await applyMigrations(store.sql);
    await ensureContactPolicies(store.prisma);
    await ensureDefaultTemplates(store.prisma);
    await ensureDefaultDunningRules(store.prisma);
    const pii = new Pii(Pii.randomKeys());
    const clock = systemClock;
    const now = clock.now();
    console.log(`Contact benchmark on ${where}: ${fmt(cases)} cases, ${fmt(decisions)} policy decisions per debtor, pages of ${fmt(batchSize)}.`);
    const t0 = performance.now();
    await seedCases(store, cases, now);
    console.log(`seeded ${fmt(cases)} cases (debtors, contact points, accounts, holds) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await policyBench(store, pii, now);
    await pageBench(store, now);
    await jobBench(store, clock);
    await dispatchBench(store, dispatchCount);
  } finally {
    await store.close();
    await cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
