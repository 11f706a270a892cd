/**
 * The export benchmark (issue 14): one export of each kind asked for as the bank admin, written
 * by the export runner against a book made by `npm run bench:data`, with its rows, time, file
 * size, and the process's peak resident memory above the start (sampled every 20 ms): flat memory
 * means this stays the same whatever the number of rows.
 *
 *   npx tsx bench/export.ts --database-url postgres://postgres@127.0.0.1:5432/arrears_an_10k [--kinds CASES,CONTACT_ATTEMPTS] [--format CSV|XLSX]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPostgresStore } from '../src/db/store.ts';
import { FixedClock } from '../src/lib/time.ts';
import { Pii } from '../src/lib/pii.ts';
import { createLogger } from '../src/lib/logger.ts';
import { runExport } from '../src/modules/exports/service.ts';
import type { ExportFormat, ExportKind } from '../src/generated/prisma/enums.ts';
import { BENCH_NOW } from './data.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const url = arg('database-url');
if (!url) throw new Error('--database-url <postgres://…>: a book made by npm run bench:data');
const kinds = (arg('kinds') ?? 'CASES,PAYMENTS,CONTACT_ATTEMPTS').split(',') as ExportKind[];
const formats = (arg('format') ? [arg('format')] : ['CSV', 'XLSX']) as ExportFormat[];

const store = await openPostgresStore(url, { poolSize: 2 });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-bench-exports-'));
try {
  const clock = new FixedClock(BENCH_NOW);
  const admin = await store.prisma.user.findUniqueOrThrow({ where: { email: 'admin@bank.example' } });
  console.log(`${'kind'.padEnd(18)} ${'format'.padEnd(6)} ${'rows'.padStart(9)} ${'seconds'.padStart(8)} ${'MB file'.padStart(8)} ${'MB peak RSS above start'.padStart(24)}`);
  for (const format of formats) {
    for (const kind of kinds) {
      const job = await store.prisma.export.create({ data: { kind, format, requestedById: admin.id, requestedAt: clock.now(), status: 'RUNNING', leaseOwner: 'bench', leaseUntil: new Date(clock.now().getTime() + 3_600_000) } });
      global.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const t0 = performance.now();
      const ok = await runExport({ prisma: store.prisma, clock, pii: new Pii(Pii.randomKeys()), logger: createLogger('warn'), dir, owner: 'bench' }, job);
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      const done = await store.prisma.export.findUniqueOrThrow({ where: { id: job.id } });
      console.log(
        `${kind.padEnd(18)} ${format.padEnd(6)} ${String(done.rowsWritten).padStart(9)} ${seconds.toFixed(1).padStart(8)} ${(Number(done.sizeBytes ?? 0) / 1e6).toFixed(1).padStart(8)} ${((peak - base) / 1e6).toFixed(0).padStart(24)}${ok ? '' : '  FAILED: ' + done.error}`,
      );
      await store.prisma.export.delete({ where: { id: job.id } });
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
  await store.close();
}
