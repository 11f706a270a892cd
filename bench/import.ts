/**
 * Benchmark of `npm run import` (issue 3: "at least 5,000 accounts per second into PostgreSQL on
 * this machine, memory flat whatever the file size").
 *
 *   npx tsx bench/import.ts                       # 100,000 accounts, a throwaway database on
 *                                                 # postgres://postgres@127.0.0.1:5432, dropped after
 *   npx tsx bench/import.ts --rows 1000000        # a bigger file: the RSS figures should not move
 *   npx tsx bench/import.ts --database-url postgres://user@host:5432/db   # that database, as is
 *                                                 # (migrations applied, the bench's rows left in it)
 *   npx tsx bench/import.ts --embedded            # the embedded store (PGlite) in a temp folder
 *   options: --batch-size N (default 2000, as the import command), --format jsonl|csv|both (default both),
 *            --concurrency N (batches in the database at once; default 2 on PostgreSQL, 1 embedded)
 *
 * It writes a synthetic file of N accounts (JSONL and CSV: distinct accounts, ~10% of debtors with
 * two cards, quoted CSV fields) into os.tmpdir(), runs the import command's core (importFile) on
 * it, and prints rows, seconds, accounts/second, peak RSS and the RSS at 10%, 50% and 100% of the
 * file; then runs the same file again (idempotent: every row UNCHANGED) and prints its rate.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openEmbeddedStore, openPostgresStore, type Store } from '../src/db/store.ts';
import { applyMigrations } from '../src/db/migrations.ts';
import { Pii } from '../src/lib/pii.ts';
import { systemClock, dateOnly, DAY_MS } from '../src/lib/time.ts';
import { importFile, CSV_COLUMNS, DEFAULT_BATCH_SIZE, type ImportFormat, type ImportSummary } from '../src/cli/import.ts';
import { csvField } from '../src/cli/csv.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}
const rows = Number(arg('--rows') ?? 100_000);
const batchSize = Number(arg('--batch-size') ?? DEFAULT_BATCH_SIZE);
const embedded = process.argv.includes('--embedded');
/** As the command: two batches at once on PostgreSQL, one on the embedded store. */
const concurrency = Number(arg('--concurrency') ?? (embedded ? 1 : 2));
const givenUrl = arg('--database-url');
/** The server is on this machine: its backends' CPU can be read. */
const local = !givenUrl || ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(givenUrl).hostname);
const formats: ImportFormat[] = (arg('--format') ?? 'both') === 'both' ? ['jsonl', 'csv'] : [arg('--format') as ImportFormat];
if (!Number.isInteger(rows) || rows < 1) throw new Error('--rows N: a whole number');

const tag = randomBytes(3).toString('hex');
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋'];
const CITIES = [['北京', '北京'], ['上海', '上海'], ['广州', '广东'], ['深圳', '广东'], ['成都', '四川']] as const;

/** A deterministic synthetic account; `prefix` keeps the JSONL and CSV accounts apart. */
function account(i: number, prefix: string) {
  const d = i % 10 === 9 ? i - 1 : i; // every tenth account belongs to the previous account's debtor
  const today = Date.now();
  const [city, region] = CITIES[d % CITIES.length]!;
  return {
    account: { externalRef: `${prefix}-${tag}-${i}`, cardLast4: String(1000 + (i % 9000)), product: i % 3 ? 'Gold' : 'Platinum', creditLimit: 5_000_000 + (i % 7) * 1_000_000, currency: 'CNY', openedOn: '2019-03-01' },
    debtor: {
      externalRef: `CUS-${prefix}-${tag}-${d}`,
      fullName: `${SURNAMES[d % 10]}${GIVEN[(d >> 3) % 10]}${GIVEN[(d >> 5) % 10]}`,
      nationalId: `1101051985${String(d % 100_000_000).padStart(8, '0')}`,
      contactPoints: [
        { kind: 'MOBILE', value: `139${String(d % 100_000_000).padStart(8, '0')}` },
        { kind: 'EMAIL', value: `debtor${d}@example.cn` },
      ],
      addresses: [{ kind: 'HOME', line1: `${(d % 200) + 1}号, 长安街 "${d % 9}"`, city, region, postalCode: '100000' }],
    },
    dueDate: dateOnly(new Date(today - (20 + (i % 150)) * DAY_MS)),
    principal: 100_000 + (i % 1000) * 731,
    interest: 5_000 + (i % 97) * 13,
    fees: i % 4 ? 2_500 : 0,
    priority: i % 50 ? 'NORMAL' : 'HIGH',
  };
}

async function writeFile(file: string, format: ImportFormat, n: number): Promise<number> {
  const out = fs.createWriteStream(file);
  const put = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const columns = CSV_COLUMNS.map(([c]) => c);
  if (format === 'csv') await put(`${columns.join(',')}\n`);
  for (let i = 0; i < n; i++) {
    const r = account(i, format === 'csv' ? 'C' : 'J');
    if (format === 'jsonl') {
      await put(`${JSON.stringify(r)}\n`);
      continue;
    }
    const ad = r.debtor.addresses[0]!;
    const v: Record<string, string | number> = {
      account_ref: r.account.externalRef, card_last4: r.account.cardLast4, product: r.account.product, credit_limit: r.account.creditLimit, currency: r.account.currency, opened_on: r.account.openedOn,
      debtor_ref: r.debtor.externalRef, full_name: r.debtor.fullName, national_id: r.debtor.nationalId,
      mobile: r.debtor.contactPoints[0]!.value, email: r.debtor.contactPoints[1]!.value,
      home_address_line1: ad.line1, home_city: ad.city, home_region: ad.region, home_postal_code: ad.postalCode,
      due_date: r.dueDate, principal: r.principal, interest: r.interest, fees: r.fees, priority: r.priority,
    };
    await put(`${columns.map((c) => csvField(v[c])).join(',')}\r\n`);
  }
  out.end();
  await once(out, 'finish');
  return fs.statSync(file).size;
}

// A full collection before each memory sample, so that the heap figure is what is live.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * CPU time (ms) of the PostgreSQL backends serving this database, by pid: when the server runs on
 * this machine (Linux /proc), so that the figures say where the time goes. Null otherwise.
 */
async function serverCpu(store: Store): Promise<Map<number, number> | null> {
  if (store.kind !== 'postgres' || !fs.existsSync('/proc/self/stat')) return null;
  const rows = await store.sql.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  const tick = 10; // ms: USER_HZ is 100 on Linux
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) * tick);
    } catch {
      return null; // not on this machine
    }
  }
  return out;
}

async function run(store: Store, pii: Pii, file: string, format: ImportFormat, label: string): Promise<ImportSummary> {
  const marks = [0.1, 0.5, 1];
  const cpu0 = process.cpuUsage();
  const server0 = local ? await serverCpu(store) : null;
  const rss: string[] = [];
  gc();
  const summary = await importFile(
    { prisma: store.prisma, clock: systemClock, pii },
    {
      file,
      format,
      batchSize,
      concurrency,
      onProgress: (p) => {
        while (marks.length && p.totalBytes && p.bytesDone / p.totalBytes >= marks[0]!) {
          gc();
          const m = process.memoryUsage();
          rss.push(`${marks.shift()! * 100}%: ${mib(m.rss)} (heap ${mib(m.heapUsed)})`);
        }
      },
    },
  );
  const cpu = process.cpuUsage(cpu0);
  const server1 = server0 ? await serverCpu(store) : null;
  let serverMs: number | null = null;
  if (server0 && server1) {
    serverMs = 0;
    for (const [pid, ms] of server1) serverMs += ms - (server0.get(pid) ?? 0);
  }
  const perRow = (ms: number) => `${Math.round((ms * 1000) / Math.max(1, summary.rows))} µs/row`;
  const secs = summary.elapsedMs / 1000;
  console.log(
    `  ${label.padEnd(8)} ${fmt(summary.rows)} rows in ${secs.toFixed(2)} s = ${fmt(summary.rowsPerSecond)} accounts/s ` +
      `(created ${fmt(summary.created)}, updated ${fmt(summary.updated)}, unchanged ${fmt(summary.unchanged)}, rejected ${fmt(summary.rejected)}` +
      `${summary.retried ? `; ${summary.retried} batch(es) sent again after a conflict` : ''}); ` +
      `RSS ${rss.join(', ')}; peak RSS ${mib(summary.peakRssBytes)}`,
  );
  console.log(
    `           CPU: this process ${perRow((cpu.user + cpu.system) / 1000)}` +
      `${serverMs === null ? '' : `, PostgreSQL backends ${perRow(serverMs)}`}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`,
  );
  return summary;
}

async function main() {
  let store: Store;
  let cleanup = async () => {};
  let where: string;
  if (embedded) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-bench-pglite-'));
    store = await openEmbeddedStore(dir, { purpose: 'bench' });
    where = `the embedded store (PGlite) in ${dir}`;
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else if (givenUrl) {
    store = await openPostgresStore(givenUrl, { poolSize: 4 });
    where = `PostgreSQL ${new URL(givenUrl).host}${new URL(givenUrl).pathname}`;
  } else {
    const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `arrears_bench_${process.pid}_${tag}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`CREATE DATABASE "${name}"`);
    await c.end();
    store = await openPostgresStore(`postgres://postgres@127.0.0.1:5432/${name}`, { poolSize: 4 });
    where = `PostgreSQL 127.0.0.1:5432, throwaway database ${name}`;
    cleanup = async () => {
      const a = new pg.Client({ connectionString: admin });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    };
  }
  const files: string[] = [];
  try {
    await applyMigrations(store.sql);
    const pii = new Pii(Pii.randomKeys());
    console.log(`Import benchmark: ${fmt(rows)} accounts per file, batches of ${fmt(batchSize)}, ${concurrency} at once, into ${where}; target ≥ 5,000 accounts/s, memory flat.`);
    for (const format of formats) {
      const file = path.join(os.tmpdir(), `arrears-bench-${tag}-${rows}.${format}`);
      files.push(file);
      const t0 = performance.now();
      const size = await writeFile(file, format, rows);
      console.log(`${format.toUpperCase()}: ${file}, ${mib(size)}, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await run(store, pii, file, format, 'first');
      await run(store, pii, file, format, 're-run');
    }
  } finally {
    for (const f of files) fs.rmSync(f, { force: true });
    await store.close();
    await cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
