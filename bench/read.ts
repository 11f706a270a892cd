/**
 * The read benchmark (issue 12): `npm run bench:read -- --database-url <url of a bench:data book>`.
 *
 *   npm run bench:read -- --database-url postgres://postgres@127.0.0.1:5432/arrears_bench_10000 --label 10k
 *   npm run bench:read -- --embedded ./bench-data --label 100k-embedded
 *   options: --seconds N (each run under 10 connections, default 10), --single N (requests of the
 *            one-client run, default 200), --only a,b (some queries), --port N
 *
 * It builds and starts the compiled server (NODE_ENV=production, jobs off) on that store, issues
 * each viewer an API key with a budget no benchmark reaches, then for every query below, as the
 * right viewer: one client sending requests one after another (p50, p99), and 10 connections for
 * N seconds (autocannon: requests a second, p50, p99), with the server process's CPU time per
 * request (from /proc) and the SQL statements per request (from /metrics), beside `{ __typename }`
 * as the floor. Results go to bench/results/read-<label>.json and a table on the console.
 *
 * (a) the partner's reference read: an agency manager's first 50 cases by due date with debtor,
 *     account, agency, 5 reminders, 3 visits; (b) an agency collector's work queue, first 20;
 * (c) the admin's cases by overdue amount, descending; (d) a bucket filter with totalCount;
 * (e) search by exact national ID, by phone, by a name fragment; (f) one case's detail page;
 * (g) agencies with their case counts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { openEmbeddedStore, openPostgresStore, type Store } from '../src/db/store.ts';
import { hashApiKey, newApiKey } from '../src/auth/tokens.ts';
import { build, buildIsCurrent } from '../scripts/build.mjs';
import { BOOK_SEED, BENCH_NOW, intakeRow, seeded } from './data.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const url = arg('database-url');
const embedded = arg('embedded');
if (!url && !embedded) throw new Error('--database-url <postgres://…> or --embedded <folder>: a book made by npm run bench:data');
const label = arg('label') ?? (embedded ? path.basename(embedded) : new URL(url!).pathname.slice(1));
const SECONDS = Number(arg('seconds') ?? 10);
const SINGLE = Number(arg('single') ?? 200);
const PORT = Number(arg('port') ?? 4555);
const only = arg('only')?.split(',');
const METRICS_TOKEN = 'bench-metrics-token-000000';
const dataDir = embedded ?? path.join(root, 'data');

interface Query {
  key: string;
  name: string;
  viewer: string;
  query: string;
  variables?: Record<string, unknown>;
}

async function setUp(store: Store) {
  const users = await store.prisma.user.findMany({ select: { id: true, email: true } });
  const byEmail = new Map(users.map((u) => [u.email, u.id]));
  const keys: Record<string, string> = {};
  for (const email of ['admin@bank.example', 'manager@north.example', 'agent1@north.example']) {
    const userId = byEmail.get(email);
    if (!userId) throw new Error(`No ${email}: is this a book made by npm run bench:data?`);
    const key = newApiKey();
    await store.prisma.apiKey.create({
      data: { name: `bench:read ${email}`, prefix: key.prefix, hash: hashApiKey(key.secret), userId, persistedOnly: false, costMaximum: 1_000_000, costRestoreRate: 100_000 },
    });
    keys[email] = key.secret;
  }
  // Search terms: the book's first debtor, regenerated from the book's seed (bench/data.ts).
  const first = intakeRow(1, seeded(BOOK_SEED), new Date(BENCH_NOW));
  const oneCase = await store.prisma.case.findFirst({
    where: { assignedAgencyId: { not: null }, promises: { some: {} }, repaymentPlans: { some: {} } },
    select: { id: true },
  }) ?? (await store.prisma.case.findFirstOrThrow({ select: { id: true } }));
  return { keys, first, caseId: encodeGlobalID('Case', oneCase.id) };
}

function queries(s: Awaited<ReturnType<typeof setUp>>): Query[] {
  const mobile = s.first.debtor.contactPoints![0]!.value;
  const nameFragment = s.first.debtor.fullName.length >= 3 ? s.first.debtor.fullName : `${s.first.debtor.fullName}`;
  const list = (q: string) => q;
  return [
    { key: 'floor', name: '{ __typename } (the floor)', viewer: 'admin@bank.example', query: '{ __typename }' },
    {
      key: 'a',
      name: '(a) reference read: agency manager, 50 cases by due date',
      viewer: 'manager@north.example',
      query: list(`{ cases(first: 50, orderBy: { field: DAYS_PAST_DUE, direction: DESC }) { nodes {
        id number daysPastDue overdue { minorUnits currency } debtor { fullName nationalIdMasked } account { cardLast4 product }
        assignedAgency { name } reminders(first: 5) { nodes { status scheduledAt } } visits(first: 3) { nodes { status } } } } }`),
    },
    {
      key: 'b',
      name: '(b) work queue: agency collector, first 20',
      viewer: 'agent1@north.example',
      query: '{ viewer { workQueue(first: 20) { nodes { number daysPastDue status overdue { formatted } debtor { fullName } } } } }',
    },
    {
      key: 'c',
      name: '(c) admin: cases by overdue amount, descending',
      viewer: 'admin@bank.example',
      query: '{ cases(first: 20, orderBy: { field: OVERDUE_AMOUNT, direction: DESC }) { nodes { number overdue { formatted } debtor { fullName } assignedAgency { name } } } }',
    },
    {
      key: 'd',
      name: '(d) admin: bucket M3 with totalCount',
      viewer: 'admin@bank.example',
      query: '{ cases(first: 20, filter: { bucket: [M3] }) { totalCount nodes { number daysPastDue } } }',
    },
    {
      key: 'e1',
      name: '(e) search: exact national ID',
      viewer: 'admin@bank.example',
      query: 'query($s: String!) { cases(first: 20, filter: { search: $s }) { nodes { number debtor { fullName } } } }',
      variables: { s: s.first.debtor.nationalId },
    },
    {
      key: 'e2',
      name: '(e) search: phone',
      viewer: 'admin@bank.example',
      query: 'query($s: String!) { cases(first: 20, filter: { search: $s }) { nodes { number debtor { fullName } } } }',
      variables: { s: mobile },
    },
    {
      key: 'e3',
      name: '(e) search: name fragment',
      viewer: 'admin@bank.example',
      query: 'query($s: String!) { cases(first: 20, filter: { search: $s }) { nodes { number debtor { fullName } } } }',
      variables: { s: nameFragment },
    },
    {
      key: 'f',
      name: '(f) one case’s detail page',
      viewer: 'admin@bank.example',
      query: `query($id: ID!) { node(id: $id) { ... on Case {
        number stage status overdue { formatted } debtor { fullName contactPoints { kind value } }
        timeline(first: 20) { nodes { type summary occurredAt } }
        contactAttempts(first: 20) { nodes { channel outcome attemptedAt } }
        promises(first: 20) { nodes { amount { formatted } promisedFor status } }
        repaymentPlans(first: 10) { nodes { kind status instalments { seq dueDate amount { minorUnits } status } } }
        payments(first: 20) { nodes { amount { formatted } receivedAt allocations { amount { minorUnits } } } }
        visits(first: 10) { nodes { status evidence(first: 10) { nodes { kind fileName } } } } } } }`,
      variables: { id: s.caseId },
    },
    {
      key: 'g',
      name: '(g) agencies with their case counts',
      viewer: 'admin@bank.example',
      query: '{ agencies(first: 20) { nodes { name caseCount } } }',
    },
  ].filter((q) => !only || only.includes(q.key));
}

function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

async function sqlStatements(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith('arrears_sql_statements_total '));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function startServer(secrets: Record<string, string>): Promise<ChildProcess> {
  if (!buildIsCurrent()) await build();
  const child = spawn(process.execPath, [path.join(root, 'dist', 'main.js'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(PORT),
      ARREARS_JOBS: 'off',
      ARREARS_METRICS_TOKEN: METRICS_TOKEN,
      ...(url ? { DATABASE_URL: url } : { DATABASE_URL: '', ARREARS_DATA_DIR: embedded }),
      ARREARS_JWT_SECRET: secrets['jwtSecret']!,
      ARREARS_PII_KEY: secrets['piiKey']!,
      ARREARS_BLIND_INDEX_KEY: secrets['blindIndexKey']!,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/readyz`)).ok) return child;
    } catch {
      /* not yet */
    }
    if (child.exitCode !== null) throw new Error(`the server exited:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server did not come up:\n${stderr}`);
}

async function main(): Promise<void> {
  const secretsFile = path.join(dataDir, 'secrets.json');
  if (!fs.existsSync(secretsFile)) throw new Error(`${secretsFile} is missing: the book's keys (made by npm run bench:data) are needed to search it`);
  const secrets = JSON.parse(fs.readFileSync(secretsFile, 'utf8')) as Record<string, string>;
  const store = embedded ? await openEmbeddedStore(embedded, { purpose: 'bench:read' }) : await openPostgresStore(url!, { poolSize: 2 });
  let setup: Awaited<ReturnType<typeof setUp>>;
  let cases: number;
  try {
    setup = await setUp(store);
    cases = await store.prisma.case.count();
  } finally {
    await store.close();
  }
  const server = await startServer(secrets);
  const rows: Record<string, unknown>[] = [];
  try {
    for (const q of queries(setup)) {
      const body = JSON.stringify({ query: q.query, variables: q.variables ?? {} });
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${setup.keys[q.viewer]}` };
      const probe = (await (await fetch(`http://127.0.0.1:${PORT}/graphql`, { method: 'POST', headers, body })).json()) as { errors?: unknown[]; data?: unknown };
      if (probe.errors) throw new Error(`${q.name}: ${JSON.stringify(probe.errors)}`);
      // One client, one request after another.
      const single: number[] = [];
      for (let i = 0; i < SINGLE; i++) {
        const t = performance.now();
        const r = await fetch(`http://127.0.0.1:${PORT}/graphql`, { method: 'POST', headers, body });
        await r.arrayBuffer();
        single.push(performance.now() - t);
      }
      // 10 connections.
      const sqlBefore = await sqlStatements();
      const cpuBefore = cpuMs(server.pid!);
      const result = await autocannon({ url: `http://127.0.0.1:${PORT}/graphql`, method: 'POST', headers, body, connections: 10, duration: SECONDS });
      const cpuAfter = cpuMs(server.pid!);
      const sqlAfter = await sqlStatements();
      const requests = result.requests.total;
      const row = {
        key: q.key,
        query: q.name,
        singleP50: +percentile(single, 50).toFixed(1),
        singleP99: +percentile(single, 99).toFixed(1),
        rps: Math.round(result.requests.average),
        p50: result.latency.p50,
        p99: result.latency.p99,
        cpuMsPerRequest: +((cpuAfter - cpuBefore) / requests).toFixed(2),
        // The /metrics scrape itself runs no SQL.
        sqlPerRequest: +((sqlAfter - sqlBefore) / requests).toFixed(2),
        errors: result.errors + result.non2xx,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    server.kill('SIGTERM');
  }
  const out = { label, cases, store: url ? 'postgres' : 'embedded', at: new Date().toISOString(), node: process.version, seconds: SECONDS, single: SINGLE, rows };
  fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  const file = path.join(root, 'bench', 'results', `read-${label}.json`);
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\n${cases.toLocaleString('en')} cases (${out.store}), ${label}: single client ${SINGLE} requests; 10 connections ${SECONDS} s\n`);
  console.log('| query | 1 client p50 ms | p99 ms | 10 conn. rps | p50 ms | p99 ms | CPU ms/req | SQL/req |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${r['query']} | ${r['singleP50']} | ${r['singleP99']} | ${r['rps']} | ${r['p50']} | ${r['p99']} | ${r['cpuMsPerRequest']} | ${r['sqlPerRequest']} |`);
  }
  console.log(`\n→ ${path.relative(root, file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
