/**
 * A realistic book for the read benchmarks (issue 12): `npm run bench:data -- --cases N`.
 *
 *   npm run bench:data -- --cases 10000                  # PostgreSQL database arrears_bench_10000 on
 *                                                       # postgres://postgres@127.0.0.1:5432 (made anew)
 *   npm run bench:data -- --cases 1000000 --database-url postgres://user@host:5432/db   # that database (must be empty)
 *   npm run bench:data -- --cases 100000 --embedded ./bench-data   # the embedded store in that folder
 *
 * The cases come in through the intake service (`intakeBatch`, 2,000 a transaction: debtors with
 * national IDs encrypted and blind-indexed, contact points, addresses, card accounts, cases, their
 * first timeline event), with seeded randomness and a fixed clock. The people (a bank admin,
 * supervisor, auditor and 20 bank collectors; North and South with a manager and 25 collectors
 * each) are made first. Then the records that a year of collection leaves are written in bulk SQL,
 * one statement per kind over all cases, deterministic per case (a hash of its id):
 * - placements: 35 % North, 35 % South, 10 % a bank collector, 20 % unassigned; one in ten of
 *   North's cases was South's before (a past South era, recalled), and one in ten of the bank's
 *   was North's (a past North era): records of each era carry that agency (`agencyId`);
 * - per case: 3 reminders (2 sent SMS, 1 scheduled), 3 contact attempts (2 SMS, 1 call), a
 *   timeline of 6 events; for 30 %: a promise to pay; 10 %: an instalment plan of 6 with a payment
 *   allocated to the first instalment; 20 %: a payment allocated to the promise; 5 %: a visit with
 *   two collectors, consent, two evidence rows and their custody.
 * Prints the time of each step and the rows of each table.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { openEmbeddedStore, openPostgresStore, type Store } from '../src/db/store.ts';
import { applyMigrations } from '../src/db/migrations.ts';
import { ensureContactPolicies } from '../src/modules/policy/service.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from '../src/modules/contact/templates.ts';
import { intakeBatch, type IntakeRow } from '../src/modules/cases/intake.ts';
import { Pii } from '../src/lib/pii.ts';
import { loadSecrets } from '../src/lib/secrets.ts';
import { FixedClock } from '../src/lib/time.ts';
import { createLogger } from '../src/lib/logger.ts';

/** The instant the book is made at (the benchmarks read it with the same clock). */
export const BENCH_NOW = '2026-11-30T02:00:00.000Z';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** mulberry32: a small seeded generator, so that two runs make the same book. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'.split('');
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉鹏飞玉兰志强红梅海燕'.split('');
const REGIONS = ['110101', '310104', '440305', '330106', '510107', '420106', '320102', '370202'];

/** A mainland resident ID with its check digit (GB 11643). */
function residentId(rand: () => number, birth: Date): string {
  const region = REGIONS[Math.floor(rand() * REGIONS.length)]!;
  const ymd = birth.toISOString().slice(0, 10).replaceAll('-', '');
  const seq = String(Math.floor(rand() * 1000)).padStart(3, '0');
  const first17 = region + ymd + seq;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = first17.split('').reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11]!;
}

export function intakeRow(i: number, rand: () => number, now: Date): IntakeRow {
  const name = SURNAMES[Math.floor(rand() * SURNAMES.length)]! + GIVEN[Math.floor(rand() * GIVEN.length)]! + (rand() < 0.6 ? GIVEN[Math.floor(rand() * GIVEN.length)]! : '');
  const birth = new Date(Date.UTC(1960 + Math.floor(rand() * 40), Math.floor(rand() * 12), 1 + Math.floor(rand() * 28)));
  const daysPastDue = 1 + Math.floor(rand() * 400);
  const due = new Date(now.getTime() - daysPastDue * 86_400_000);
  const opened = new Date(due.getTime() - (200 + Math.floor(rand() * 2000)) * 86_400_000);
  const principal = 50_000 + Math.floor(rand() * 5_000_000);
  const mobile = `1${3 + Math.floor(rand() * 7)}${String(Math.floor(rand() * 1e9)).padStart(9, '0')}`;
  const us = rand() < 0.05;
  return {
    account: {
      externalRef: `ACC-${String(i).padStart(9, '0')}`,
      cardLast4: String(1000 + Math.floor(rand() * 9000)),
      product: rand() < 0.7 ? 'Classic' : 'Platinum',
      creditLimit: 1_000_000 + Math.floor(rand() * 9_000_000),
      currency: 'CNY',
      openedOn: opened.toISOString().slice(0, 10),
    },
    debtor: {
      externalRef: `CUS-${String(i).padStart(9, '0')}`,
      fullName: name,
      nationalId: residentId(rand, birth),
      ...(us ? { timeZone: 'America/New_York', jurisdiction: 'US', language: 'EN' } : {}),
      contactPoints: [
        { kind: 'MOBILE', value: mobile, primary: true },
        ...(rand() < 0.4 ? [{ kind: 'HOME_PHONE' as const, value: `0${10 + Math.floor(rand() * 89)}${String(Math.floor(rand() * 1e8)).padStart(8, '0')}` }] : []),
        ...(rand() < 0.3 ? [{ kind: 'EMAIL' as const, value: `c${i}@mail.example` }] : []),
      ],
      addresses: [{ kind: 'HOME', line1: `${1 + Math.floor(rand() * 300)}号`, city: '北京', region: '北京' }],
    },
    dueDate: due.toISOString().slice(0, 10),
    principal,
    interest: Math.floor(principal * 0.05),
    fees: rand() < 0.5 ? 5_000 : 0,
    priority: rand() < 0.05 ? 'HIGH' : 'NORMAL',
  } as IntakeRow;
}

interface People {
  north: string;
  south: string;
  northCollectors: string[];
  southCollectors: string[];
  bankCollectors: string[];
  admin: string;
}

async function makePeople(store: Store): Promise<People> {
  const prisma = store.prisma;
  const user = (email: string, fullName: string, role: string, agencyId: string | null, credential = false) =>
    prisma.user.create({
      data: {
        email,
        fullName,
        role: role as never,
        agencyId,
        ...(credential ? { credentialNumber: `CRED-${email.split('@')[0]}`, credentialExpiresOn: new Date('2028-12-31') } : {}),
      },
    });
  const north = await prisma.agency.create({ data: { code: 'NORTH', name: 'North Recovery', licenseNumber: 'LIC-N-001', dataProcessingContractRef: 'DPA-2026-N' } });
  const south = await prisma.agency.create({ data: { code: 'SOUTH', name: 'South Recovery', licenseNumber: 'LIC-S-001', dataProcessingContractRef: 'DPA-2026-S' } });
  const admin = await user('admin@bank.example', 'Bank Admin', 'BANK_ADMIN', null);
  await user('supervisor@bank.example', 'Bank Supervisor', 'BANK_SUPERVISOR', null);
  await user('auditor@bank.example', 'Bank Auditor', 'AUDITOR', null);
  await user('manager@north.example', 'North Manager', 'AGENCY_MANAGER', north.id, true);
  await user('manager@south.example', 'South Manager', 'AGENCY_MANAGER', south.id, true);
  const many = async (n: number, prefix: string, domain: string, role: string, agencyId: string | null) => {
    const ids: string[] = [];
    for (let i = 1; i <= n; i++) ids.push((await user(`${prefix}${i}@${domain}`, `${prefix} ${i}`, role, agencyId, true)).id);
    return ids;
  };
  return {
    north: north.id,
    south: south.id,
    admin: admin.id,
    northCollectors: await many(25, 'agent', 'north.example', 'AGENCY_COLLECTOR', north.id),
    southCollectors: await many(25, 'agent', 'south.example', 'AGENCY_COLLECTOR', south.id),
    bankCollectors: await many(20, 'collector', 'bank.example', 'BANK_COLLECTOR', null),
  };
}

/** The bulk statements: each runs over all cases at once; `h` is a stable hash of the case (0–99). */
function nestedStatements(p: People, now: Date): { name: string; sql: string }[] {
  const ts = `'${now.toISOString()}'::timestamptz`;
  const arr = (ids: string[]) => `ARRAY[${ids.map((id) => `'${id}'::uuid`).join(',')}]`;
  const H = `(abs(hashtext(c.id::text)) % 100)`;
  const pick = (ids: string[], salt: string) => `(${arr(ids)})[1 + abs(hashtext(c.id::text || '${salt}')) % ${ids.length}]`;
  return [
    {
      name: 'placements (cases assigned)',
      sql: `UPDATE "Case" c SET
          "assignedAgencyId" = CASE WHEN ${H} < 35 THEN '${p.north}'::uuid WHEN ${H} < 70 THEN '${p.south}'::uuid ELSE NULL END,
          "assignedCollectorId" = CASE WHEN ${H} < 35 THEN ${pick(p.northCollectors, 'n')} WHEN ${H} < 70 THEN ${pick(p.southCollectors, 's')}
                                       WHEN ${H} < 80 THEN ${pick(p.bankCollectors, 'b')} ELSE NULL END`,
    },
    {
      name: 'placement history (current, and the past era of one in ten)',
      sql: `INSERT INTO "Placement" (id, "caseId", kind, "agencyId", "collectorId", "startsAt", "endedAt", "recallReason", "assignedById")
        SELECT gen_random_uuid(), c.id, 'AGENCY'::"PlacementKind", c."assignedAgencyId", c."assignedCollectorId", ${ts} - interval '60 days', NULL::timestamptz, NULL::"RecallReason", '${p.admin}'::uuid
          FROM "Case" c WHERE c."assignedAgencyId" IS NOT NULL
        UNION ALL
        SELECT gen_random_uuid(), c.id, 'BANK', NULL, c."assignedCollectorId", ${ts} - interval '60 days', NULL, NULL, '${p.admin}'
          FROM "Case" c WHERE c."assignedAgencyId" IS NULL AND c."assignedCollectorId" IS NOT NULL
        UNION ALL
        SELECT gen_random_uuid(), c.id, 'AGENCY', '${p.south}'::uuid, NULL, ${ts} - interval '200 days', ${ts} - interval '60 days', 'PERFORMANCE'::"RecallReason", '${p.admin}'::uuid
          FROM "Case" c WHERE ${H} < 35 AND ${H} % 10 = 3
        UNION ALL
        SELECT gen_random_uuid(), c.id, 'AGENCY', '${p.north}'::uuid, NULL, ${ts} - interval '200 days', ${ts} - interval '60 days', 'END_OF_PLACEMENT'::"RecallReason", '${p.admin}'::uuid
          FROM "Case" c WHERE ${H} >= 70 AND ${H} % 10 = 3`,
    },
    {
      name: 'reminders (2 sent, 1 scheduled per case; the past era’s first)',
      sql: `INSERT INTO "Reminder" (id, "caseId", "contactPointId", channel, "templateKey", language, "scheduledAt", status, "idempotencyKey", "requestHash",
            "renderedMessage", automatic, attempts, "nextAttemptAt", "sentAt", "createdAt", "agencyId")
        SELECT gen_random_uuid(), c.id, cp.id, 'SMS', 'overdue_notice', 'ZH_CN', ${ts} - (k * interval '9 days'),
               CASE WHEN k = 0 THEN 'SCHEDULED'::"ReminderStatus" ELSE 'SENT'::"ReminderStatus" END,
               'bench-' || c.id || '-' || k, 'bench', '您的信用卡已逾期，请尽快还款。', true, CASE WHEN k = 0 THEN 0 ELSE 1 END,
               ${ts} - (k * interval '9 days'), CASE WHEN k = 0 THEN NULL ELSE ${ts} - (k * interval '9 days') END, ${ts} - (k * interval '9 days'),
               CASE WHEN k = 2 AND ${H} < 35 AND ${H} % 10 = 3 THEN '${p.south}'::uuid
                    WHEN k = 2 AND ${H} >= 70 AND ${H} % 10 = 3 THEN '${p.north}'::uuid ELSE c."assignedAgencyId" END
          FROM "Case" c JOIN "ContactPoint" cp ON cp."debtorId" = c."debtorId" AND cp."primary" AND cp.kind = 'MOBILE'
          CROSS JOIN generate_series(0, 2) k`,
    },
    {
      name: 'contact attempts (2 SMS, 1 call per case)',
      sql: `INSERT INTO "ContactAttempt" (id, "caseId", "debtorId", "contactPointId", channel, direction, "attemptedAt", status, outcome, connected, notes, "actorId", "createdAt", "agencyId")
        SELECT gen_random_uuid(), c.id, c."debtorId", cp.id, CASE WHEN k = 0 THEN 'CALL'::"ContactChannel" ELSE 'SMS'::"ContactChannel" END, 'OUTBOUND',
               ${ts} - (k * interval '9 days') - interval '2 hours', 'COMPLETED',
               CASE WHEN k = 0 THEN (CASE WHEN ${H} < 30 THEN 'PROMISE_TO_PAY' ELSE 'NO_ANSWER' END)::"ContactOutcome" ELSE 'SENT'::"ContactOutcome" END,
               k = 0 AND ${H} < 30, '', c."assignedCollectorId", ${ts} - (k * interval '9 days'),
               CASE WHEN k = 2 AND ${H} < 35 AND ${H} % 10 = 3 THEN '${p.south}'::uuid
                    WHEN k = 2 AND ${H} >= 70 AND ${H} % 10 = 3 THEN '${p.north}'::uuid ELSE c."assignedAgencyId" END
          FROM "Case" c JOIN "ContactPoint" cp ON cp."debtorId" = c."debtorId" AND cp."primary" AND cp.kind = 'MOBILE'
          CROSS JOIN generate_series(0, 2) k`,
    },
    {
      name: 'timeline (6 events per case)',
      sql: `INSERT INTO "CaseEvent" (id, "caseId", type, "actorId", "actorLabel", "agencyId", "occurredAt", summary, data)
        SELECT gen_random_uuid(), c.id, (ARRAY['CASE_ASSIGNED','REMINDER_SENT','CONTACT_LOGGED','REMINDER_SENT','CONTACT_LOGGED','REMINDER_SCHEDULED'])[k + 1],
               c."assignedCollectorId", 'bench', CASE WHEN k < 2 AND ${H} % 10 = 3 AND ${H} < 35 THEN '${p.south}'::uuid ELSE c."assignedAgencyId" END,
               ${ts} - ((6 - k) * interval '5 days'), 'bench event ' || k, '{}'::jsonb
          FROM "Case" c CROSS JOIN generate_series(0, 5) k`,
    },
    {
      name: 'promises to pay (30 %)',
      sql: `INSERT INTO "PromiseToPay" (id, "caseId", amount, currency, "promisedFor", "paidAmount", status, "capturedById", "createdAt", "agencyId")
        SELECT gen_random_uuid(), c.id, c."overdueTotal" / 4, c.currency, (${ts} + interval '10 days')::date, 0, 'OPEN', c."assignedCollectorId",
               ${ts} - interval '9 days', c."assignedAgencyId"
          FROM "Case" c WHERE ${H} < 30`,
    },
    {
      name: 'repayment plans (10 %) with 6 instalments',
      sql: `WITH plans AS (
          INSERT INTO "RepaymentPlan" (id, "caseId", kind, status, currency, "totalAmount", "instalmentCount", frequency, "firstDueDate", "proposedById", "proposedAt",
                                       "decidedById", "decidedAt", "activatedAt", "agencyId")
          SELECT gen_random_uuid(), c.id, 'INSTALMENTS', 'ACTIVE', c.currency, c."overdueTotal", 6, 'MONTHLY', (${ts} - interval '20 days')::date,
                 c."assignedCollectorId", ${ts} - interval '30 days', '${p.admin}', ${ts} - interval '29 days', ${ts} - interval '29 days', c."assignedAgencyId"
            FROM "Case" c WHERE ${H} >= 30 AND ${H} < 40
          RETURNING id, "totalAmount", "firstDueDate")
        INSERT INTO "Instalment" (id, "planId", seq, "dueDate", amount, "paidAmount", status)
        SELECT gen_random_uuid(), plans.id, k, (plans."firstDueDate" + (k - 1) * interval '1 month')::date,
               plans."totalAmount" / 6 + CASE WHEN k = 6 THEN plans."totalAmount" % 6 ELSE 0 END, 0, 'DUE'
          FROM plans CROSS JOIN generate_series(1, 6) k`,
    },
    {
      name: 'payments (20 % on promises, plans’ first instalments) with allocations',
      sql: `WITH targets AS (
          SELECT c.id AS "caseId", c.currency, c."assignedAgencyId", p.id AS "promiseId", NULL::uuid AS "instalmentId", p.amount / 2 AS amount
            FROM "Case" c JOIN "PromiseToPay" p ON p."caseId" = c.id WHERE ${H} < 20
          UNION ALL
          SELECT c.id, c.currency, c."assignedAgencyId", NULL, i.id, i.amount
            FROM "Case" c JOIN "RepaymentPlan" rp ON rp."caseId" = c.id JOIN "Instalment" i ON i."planId" = rp.id AND i.seq = 1),
        paid AS (
          INSERT INTO "Payment" (id, "caseId", amount, currency, "receivedAt", channel, "externalReference", "idempotencyKey", "requestHash", "recordedById", "createdAt", "agencyId")
          SELECT gen_random_uuid(), t."caseId", t.amount, t.currency, ${ts} - interval '3 days', 'BANK_TRANSFER', 'BENCH-' || t."caseId",
                 'bench-pay-' || t."caseId" || coalesce(t."promiseId"::text, t."instalmentId"::text), 'bench', '${p.admin}', ${ts} - interval '3 days', t."assignedAgencyId"
            FROM targets t
          RETURNING id, "caseId", amount, "idempotencyKey")
        INSERT INTO "PaymentAllocation" (id, "paymentId", target, "promiseId", "instalmentId", amount)
        SELECT gen_random_uuid(), paid.id, CASE WHEN t."promiseId" IS NOT NULL THEN 'PROMISE'::"AllocationTarget" ELSE 'INSTALMENT'::"AllocationTarget" END,
               t."promiseId", t."instalmentId", paid.amount
          FROM paid JOIN targets t ON paid."idempotencyKey" = 'bench-pay-' || t."caseId" || coalesce(t."promiseId"::text, t."instalmentId"::text)`,
    },
    {
      name: 'visits (5 %) with two collectors, consent, evidence and custody',
      sql: `WITH consents AS (
          INSERT INTO "VisitConsent" (id, "caseId", "contactAttemptId", "windowStart", "windowEnd", "recordedById", "recordedAt", "agencyId")
          SELECT DISTINCT ON (c.id) gen_random_uuid(), c.id, a.id, ${ts} - interval '5 days', ${ts} - interval '5 days' + interval '4 hours', c."assignedCollectorId",
                 ${ts} - interval '8 days', c."assignedAgencyId"
            FROM "Case" c JOIN "ContactAttempt" a ON a."caseId" = c.id AND a.channel = 'CALL'
           WHERE ${H} >= 40 AND ${H} < 45 AND c."assignedCollectorId" IS NOT NULL
          RETURNING id, "caseId", "agencyId"),
        visits AS (
          INSERT INTO "Visit" (id, "caseId", "addressId", purpose, status, dossier, "consentId", "windowStart", "windowEnd", materials, "checkedInAt", outcome,
                               "completedAt", report, "reportedAt", "plannedById", "createdAt", "agencyId")
          SELECT gen_random_uuid(), co."caseId", ad.id, 'Overdue follow-up', 'REPORTED', '{"bench": true}'::jsonb, co.id,
                 ${ts} - interval '5 days', ${ts} - interval '5 days' + interval '4 hours', ARRAY['OVERDUE_STATEMENT']::"VisitMaterial"[],
                 ${ts} - interval '5 days', 'PROMISE_TO_PAY', ${ts} - interval '5 days' + interval '1 hour', 'Met the debtor at home.',
                 ${ts} - interval '4 days', '${p.admin}', ${ts} - interval '9 days', co."agencyId"
            FROM consents co JOIN "Case" c ON c.id = co."caseId" JOIN "Address" ad ON ad."debtorId" = c."debtorId"
          RETURNING id, "caseId", "agencyId"),
        participants AS (
          INSERT INTO "VisitParticipant" (id, "visitId", "userId", "credentialNumber", "credentialExpiresOn", "credentialShownAt", "credentialShownNumber")
          SELECT gen_random_uuid(), v.id, u.id, u."credentialNumber", u."credentialExpiresOn", ${ts} - interval '5 days', u."credentialNumber"
            FROM visits v JOIN LATERAL (
              SELECT id, "credentialNumber", "credentialExpiresOn" FROM "User"
               WHERE "credentialNumber" IS NOT NULL AND "agencyId" IS NOT DISTINCT FROM v."agencyId" AND role IN ('AGENCY_COLLECTOR', 'BANK_COLLECTOR')
               ORDER BY md5(v.id::text || id::text) LIMIT 2) u ON true
          RETURNING "visitId"),
        evidence AS (
          INSERT INTO "Evidence" (id, "caseId", "visitId", kind, sha256, "sizeBytes", "contentType", "fileName", "uploadedById", "uploadedAt", "agencyId")
          SELECT gen_random_uuid(), v."caseId", v.id, (ARRAY['PROMISE_LETTER','PHOTO'])[k]::"EvidenceKind", md5(v.id::text || k) || md5(k || v.id::text),
                 20000 + k, (ARRAY['application/pdf','image/jpeg'])[k], (ARRAY['promise.pdf','door.jpg'])[k], '${p.admin}', ${ts} - interval '5 days', v."agencyId"
            FROM visits v CROSS JOIN generate_series(1, 2) k
          RETURNING id, "uploadedAt")
        INSERT INTO "EvidenceCustody" (id, "evidenceId", action, "actorId", at, detail)
        SELECT gen_random_uuid(), e.id, 'UPLOADED', '${p.admin}', e."uploadedAt", 'bench' FROM evidence e`,
    },
  ];
}

async function main(): Promise<void> {
  const cases = Number(arg('cases') ?? 10_000);
  if (!Number.isInteger(cases) || cases < 1) throw new Error('--cases N: a whole number');
  const batchSize = Number(arg('batch-size') ?? 2_000);
  const embedded = arg('embedded');
  let url = arg('database-url');
  const now = new Date(BENCH_NOW);
  const clock = new FixedClock(BENCH_NOW);
  const started = Date.now();
  const step = (name: string, from: number) => console.log(`${name.padEnd(70)} ${((Date.now() - from) / 1000).toFixed(1).padStart(7)} s`);

  if (!embedded && !url) {
    const name = `arrears_bench_${cases}`;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    url = `postgres://postgres@127.0.0.1:5432/${name}`;
  }
  const store: Store = embedded ? await openEmbeddedStore(embedded, { purpose: 'bench:data' }) : await openPostgresStore(url!, { poolSize: 4 });
  try {
    await applyMigrations(store.sql);
    await ensureContactPolicies(store.prisma);
    await ensureDefaultTemplates(store.prisma);
    await ensureDefaultDunningRules(store.prisma);
    if ((await store.prisma.case.count()) > 0) throw new Error('The database already holds cases: bench:data fills an empty one.');
    const config = loadConfig({ ...process.env, ...(embedded ? { ARREARS_DATA_DIR: embedded } : {}), DATABASE_URL: url ?? '' });
    const secrets = loadSecrets(config);
    const pii = new Pii(secrets.pii);
    const deps = { prisma: store.prisma, clock, pii, logger: createLogger('silent') };

    let t = Date.now();
    const people = await makePeople(store);
    step('people: 3 bank staff, 20 bank collectors, 2 agencies of 26', t);

    t = Date.now();
    const rand = seeded(BOOK_SEED);
    let done = 0;
    while (done < cases) {
      const n = Math.min(batchSize, cases - done);
      const rows = Array.from({ length: n }, (_, k) => intakeRow(done + k + 1, rand, now));
      const outcomes = await intakeBatch(deps, null, rows, { source: 'bench:data' });
      const refused = outcomes.filter((o) => o.status === 'REJECTED');
      if (refused.length) throw new Error(`intake refused ${refused.length} rows, e.g. ${JSON.stringify(refused[0]!.errors)}`);
      done += n;
      if (done % (batchSize * 25) === 0 || done === cases) {
        const s = (Date.now() - t) / 1000;
        console.log(`  intake: ${done.toLocaleString('en')} of ${cases.toLocaleString('en')} cases, ${Math.round(done / s)} a second`);
      }
    }
    step(`cases through the intake service (${cases.toLocaleString('en')})`, t);

    for (const statement of nestedStatements(people, now)) {
      t = Date.now();
      await store.prisma.$executeRawUnsafe(statement.sql);
      step(statement.name, t);
    }
    t = Date.now();
    // As autovacuum would in a day: statistics for the planner, and the visibility map that lets
    // counts read indexes alone. PGlite has no autovacuum: an embedded store needs it all the more.
    await store.prisma.$executeRawUnsafe('VACUUM (ANALYZE)');
    step('VACUUM (ANALYZE)', t);

    const tables = ['Case', 'Debtor', 'ContactPoint', 'Placement', 'Reminder', 'ContactAttempt', 'CaseEvent', 'PromiseToPay', 'RepaymentPlan', 'Instalment', 'Payment', 'PaymentAllocation', 'Visit', 'VisitParticipant', 'VisitConsent', 'Evidence', 'EvidenceCustody'];
    console.log('\nrows:');
    for (const table of tables) {
      const [row] = await store.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM "${table}"`);
      console.log(`  ${table.padEnd(20)} ${Number(row!.n).toLocaleString('en').padStart(12)}`);
    }
    console.log(`\nbench:data: ${cases.toLocaleString('en')} cases in ${((Date.now() - started) / 1000).toFixed(0)} s → ${embedded ? `the embedded store in ${embedded}` : url}`);
    console.log(`Run the read benchmark on it: npm run bench:read -- ${embedded ? `--embedded ${embedded}` : `--database-url ${url}`}`);
  } finally {
    await store.close();
  }
}

/** The seed of the book's randomness: bench/read.ts regenerates rows from it to pick search terms. */
export const BOOK_SEED = 20261130;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

