import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../support/store.ts';
import type { Store } from '../../src/db/store.ts';
import { Pii } from '../../src/lib/pii.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { ConfigError } from '../../src/config.ts';
import type { IntakeDeps } from '../../src/modules/cases/intake.ts';
import { CSV_COLUMNS, importFile, parseImportArgs, runImportCommand, type Rejection } from '../../src/cli/import.ts';
import { csvField, readCsvRecords, readLines } from '../../src/cli/csv.ts';
import iconv from 'iconv-lite';

let store: Store;
let deps: IntakeDeps;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-import-test-'));

beforeAll(async () => {
  store = await createTestStore();
  deps = { prisma: store.prisma, clock: new FixedClock('2026-11-28T04:00:00Z'), pii: new Pii(Pii.randomKeys()) };
});
afterAll(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const HEADER = CSV_COLUMNS.map(([c]) => c);

/** A CSV line for account n: every column, quoted where RFC 4180 wants it. */
function csvLine(n: number, over: Record<string, string> = {}): string {
  const v: Record<string, string> = {
    account_ref: `CSV-${n}`,
    card_last4: '4321',
    product: 'Gold',
    credit_limit: '5000000',
    currency: 'CNY',
    opened_on: '2020-01-01',
    debtor_ref: `CSV-CUS-${n}`,
    full_name: `李${n}`,
    national_id: `11010519850101${String(1000 + n).slice(-4)}`,
    mobile: `1391234${String(n).padStart(4, '0')}`,
    email: `d${n}@example.cn`,
    home_address_line1: `${n} 长安街`,
    home_city: '北京',
    home_region: '北京',
    due_date: '2026-10-15',
    principal: '800000',
    interest: '20000',
    fees: '5000',
    ...over,
  };
  return HEADER.map((c) => csvField(v[c] ?? '')).join(',');
}

function write(name: string, lines: string[], eol = '\n'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join(eol) + eol);
  return file;
}

async function run(file: string, options: { batchSize?: number; dryRun?: boolean; reportFile?: string; encoding?: 'utf-8' | 'gb18030' } = {}) {
  const rejected: Rejection[] = [];
  const summary = await importFile(deps, { file, batchSize: options.batchSize ?? 3, dryRun: options.dryRun ?? false, ...(options.encoding ? { encoding: options.encoding } : {}), ...(options.reportFile ? { reportFile: options.reportFile } : {}), onRejected: (r) => rejected.push(r) });
  return { summary, rejected, byLine: new Map(rejected.map((r) => [r.line, r.errors])) };
}

const counts = async () => ({
  cases: await store.prisma.case.count(),
  debtors: await store.prisma.debtor.count(),
  accounts: await store.prisma.cardAccount.count(),
  events: await store.prisma.caseEvent.count(),
  audits: await store.prisma.auditEvent.count(),
});

describe('CSV reader (RFC 4180)', () => {
  async function records(text: string, columns?: number) {
    const out = [];
    for await (const r of readCsvRecords(readLines([Buffer.from(text)]), columns === undefined ? {} : { columns })) out.push(r);
    return out;
  }

  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF, a BOM, and skips blank lines', async () => {
    const r = await records('\uFEFFa,b,c\r\n1,"x, ""y""",3\r\n\r\n2,"line one\r\nline two",\r\n');
    expect(r).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, "y"', '3'] },
      { line: 4, fields: ['2', 'line one\nline two', ''] },
    ]);
  });

  it('rejects an unclosed quote on its first line only and reads the lines after it again', async () => {
    const r = await records('a,b\n1,"open\n2,3\n4,"x, y"\n5,6\n', 2);
    expect(r).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: expect.stringMatching(/unbalanced quote/) },
      { line: 3, fields: ['2', '3'] },
      { line: 4, fields: ['4', 'x, y'] },
      { line: 5, fields: ['5', '6'] },
    ]);
  });

  it('reports a wrong number of fields, a stray quote and text after a closing quote', async () => {
    const r = await records('1,2\n1,2,3\nab"c,d\n"a"b,c\n', 2);
    expect(r.map((x) => ('error' in x ? x.error : 'ok'))).toEqual(['ok', 'expected 2 fields, found 3', expect.stringMatching(/double quote inside an unquoted field/), expect.stringMatching(/after the closing quote/)]);
  });

  it('splits lines across chunk boundaries, multi-byte characters included', async () => {
    const bytes = Buffer.from('甲,乙\n丙,"丁\n戊"\n');
    const chunks = [...bytes].map((b) => Buffer.from([b])); // one byte at a time
    const out = [];
    for await (const rec of readCsvRecords(readLines(chunks))) out.push(rec);
    expect(out).toEqual([{ line: 1, fields: ['甲', '乙'] }, { line: 2, fields: ['丙', '丁\n戊'] }]);
  });
});

describe('import of a CSV file', () => {
  const lines = [
    HEADER.join(','), // 1
    csvLine(1, { home_address_line1: '1号, 长安街\n3单元' }), // 2-3: a quoted comma and line break
    csvLine(2), // 4
    csvLine(2, { principal: '900000' }), // 5: the same account and due date in the same batch
    `CSV-X,"4321,Gold,5000000,CNY`, // 6: a quote never closed
    csvLine(3, { principal: '12.50' }), // 7: not a whole number of minor units
    csvLine(4), // 8
    'CSV-5,4321,Gold', // 9: too few columns
    csvLine(6, { home_address_line1: 'Room 5, Bldg 2' }), // 10: quoted, after the runaway quote of line 6
    csvLine(7), // 11
  ];

  it('creates the good rows and rejects each bad one with its line and reason, in batches', async () => {
    const file = write('accounts.csv', lines);
    const report = path.join(dir, 'rejected.jsonl');
    const before = await counts();
    const { summary, byLine } = await run(file, { reportFile: report });
    expect(summary).toMatchObject({ rows: 9, created: 5, updated: 0, unchanged: 0, rejected: 4, batches: 3, format: 'csv', source: 'import:accounts.csv' });
    expect(byLine.get(5)).toEqual([{ code: 'DUPLICATE', field: ['account_ref'], message: 'same account and due date as line 4' }]);
    expect(byLine.get(6)?.[0]).toMatchObject({ code: 'VALIDATION', field: null, message: expect.stringMatching(/malformed CSV record: unbalanced quote/) });
    expect(byLine.get(7)).toEqual([{ code: 'VALIDATION', field: ['principal'], message: expect.stringMatching(/whole number/) }]);
    expect(byLine.get(9)?.[0]?.message).toMatch(new RegExp(`expected ${HEADER.length} fields, found 3`));
    expect([...byLine.keys()]).toEqual([5, 6, 7, 9]);
    // The report file: one JSON line per rejected row.
    const reported = fs.readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rejection);
    expect(reported.map((r) => r.line)).toEqual([5, 6, 7, 9]);

    const after = await counts();
    expect(after.cases - before.cases).toBe(5);
    expect(after.accounts - before.accounts).toBe(5);
    expect(after.events - before.events).toBe(5);
    expect(after.audits - before.audits).toBe(5);
    const d1 = await store.prisma.debtor.findUniqueOrThrow({ where: { externalRef: 'CSV-CUS-1' }, include: { addresses: true, contactPoints: { orderBy: { kind: 'asc' } } } });
    expect(d1.addresses[0]?.line1).toBe('1号, 长安街\n3单元');
    expect(d1.contactPoints.map((c) => [c.kind, c.value, c.primary])).toEqual([['MOBILE', '13912340001', true], ['EMAIL', 'd1@example.cn', false]]);
    const c2 = await store.prisma.case.findFirstOrThrow({ where: { account: { externalRef: 'CSV-2' } } });
    expect(c2.overdueTotal).toBe(825_000n); // the first of the duplicates
    const audit = await store.prisma.auditEvent.findFirstOrThrow({ where: { caseId: c2.id } });
    expect(audit).toMatchObject({ action: 'case.open', actorId: null, data: { source: 'import:accounts.csv' } });
    const event = await store.prisma.caseEvent.findFirstOrThrow({ where: { caseId: c2.id } });
    expect(event).toMatchObject({ type: 'CASE_OPENED', actorLabel: 'system', data: { dueDate: '2026-10-15', principal: '800000', interest: '20000', fees: '5000', currency: 'CNY' } });
  });

  it('re-importing the same file creates nothing: the good rows are UNCHANGED', async () => {
    const before = await counts();
    const { summary } = await run(path.join(dir, 'accounts.csv'));
    expect(summary).toMatchObject({ rows: 9, created: 0, updated: 0, unchanged: 5, rejected: 4 });
    expect(await counts()).toEqual(before);
  });

  it('refreshes a changed amount (UPDATED, a new version, a timeline event) and leaves the others', async () => {
    const file = write('changed.csv', [HEADER.join(','), csvLine(1, { interest: '30000' }), csvLine(2), csvLine(4, { fees: '0' })], '\r\n');
    const before = await counts();
    const { summary } = await run(file);
    expect(summary).toMatchObject({ rows: 3, created: 0, updated: 2, unchanged: 1, rejected: 0 });
    const c1 = await store.prisma.case.findFirstOrThrow({ where: { account: { externalRef: 'CSV-1' } } });
    expect([c1.interest, c1.overdueTotal, c1.version]).toEqual([30_000n, 835_000n, 2]);
    const refreshed = await store.prisma.caseEvent.findFirstOrThrow({ where: { caseId: c1.id, type: 'AMOUNTS_REFRESHED' } });
    expect(refreshed.data).toEqual({ from: { principal: '800000', interest: '20000', fees: '5000' }, to: { principal: '800000', interest: '30000', fees: '5000' } });
    const after = await counts();
    expect([after.cases, after.events - before.events, after.audits - before.audits]).toEqual([before.cases, 2, 2]);
  });

  it('--dry-run validates and decides but writes nothing', async () => {
    const file = write('dry.csv', [HEADER.join(','), csvLine(20), csvLine(1, { interest: '1' }), csvLine(2), csvLine(21, { currency: 'XYZ' })]);
    const before = await counts();
    const { summary, byLine } = await run(file, { dryRun: true });
    expect(summary).toMatchObject({ rows: 4, created: 1, updated: 1, unchanged: 1, rejected: 1, dryRun: true });
    expect(byLine.get(5)?.[0]?.field).toEqual(['currency']);
    expect(await counts()).toEqual(before);
    expect(await store.prisma.cardAccount.count({ where: { externalRef: 'CSV-20' } })).toBe(0);
  });

  it('refuses a header with an unknown or a missing column before reading on', async () => {
    const unknown = write('unknown.csv', [`${HEADER.join(',')},shoe_size`, csvLine(30)]);
    await expect(run(unknown)).rejects.toThrow(/unknown CSV column.*shoe_size/);
    const missing = write('missing.csv', ['account_ref,card_last4', 'A,1234']);
    await expect(run(missing)).rejects.toThrow(/lacks the required column\(s\) product/);
  });
});

describe('import of a JSONL file', () => {
  const row = (n: number, over: Record<string, unknown> = {}) => ({
    account: { externalRef: `JSON-${n}`, cardLast4: '4321', product: 'Gold', creditLimit: 5_000_000, currency: 'CNY' },
    debtor: { externalRef: `JSON-CUS-${n}`, fullName: `王${n}`, nationalId: `11010519850101${String(2000 + n).slice(-4)}`, contactPoints: [{ kind: 'MOBILE', value: '13912345678' }] },
    dueDate: '2026-09-30',
    principal: 100_000,
    interest: 0,
    fees: 0,
    ...over,
  });

  it('creates the good lines, rejects a broken JSON line, a non-object, a bad enum and a value the database refuses, with their line numbers', async () => {
    const file = write('accounts.jsonl', [
      JSON.stringify(row(1)), // 1
      '{"account": {"externalRef": "JSON-2"', // 2: broken JSON
      JSON.stringify(row(3)), // 3
      '', // 4: blank, skipped
      '[1, 2]', // 5: not an object
      JSON.stringify(row(6, { debtor: { ...row(6).debtor, contactPoints: [{ kind: 'FAX', value: '1' }] } })), // 6
      JSON.stringify(row(7, { principal: '900000000000000' })), // 7: an amount as a string of digits
      JSON.stringify(row(8, { debtor: { ...row(8).debtor, fullName: 'A\u0000B' } })), // 8: a NUL the database refuses…
      JSON.stringify(row(9)), // 9: …in the same batch as a good row
    ]);
    const { summary, byLine } = await run(file, { batchSize: 2 });
    expect(summary).toMatchObject({ rows: 8, created: 4, rejected: 4, format: 'jsonl' });
    expect(byLine.get(8)?.[0]?.message).toMatch(/^the database refused the row: /);
    expect(byLine.get(2)?.[0]?.message).toMatch(/^invalid JSON/);
    expect(byLine.get(5)?.[0]?.message).toMatch(/JSON object/);
    expect(byLine.get(6)).toEqual([{ code: 'VALIDATION', field: ['debtor.contactPoints.0.kind'], message: expect.stringMatching(/one of MOBILE/) }]);
    expect(await store.prisma.case.count({ where: { account: { externalRef: { startsWith: 'JSON-' } } } })).toBe(4);
    expect(await store.prisma.debtor.count({ where: { externalRef: 'JSON-CUS-8' } })).toBe(0);
    const big = await store.prisma.case.findFirstOrThrow({ where: { account: { externalRef: 'JSON-7' } } });
    expect(big.principal).toBe(900_000_000_000_000n);

    const again = await run(file, { batchSize: 2 });
    expect(again.summary).toMatchObject({ created: 0, unchanged: 4, rejected: 4 });
  });

  it('rejects a row whose account belongs to another debtor, and one with the wrong currency', async () => {
    const file = write('conflict.jsonl', [
      JSON.stringify(row(1, { debtor: { ...row(1).debtor, externalRef: 'SOMEONE-ELSE' }, dueDate: '2026-08-01' })),
      JSON.stringify(row(3, { account: { ...row(3).account, currency: 'USD' }, dueDate: '2026-08-01' })),
    ]);
    const before = await counts();
    const { byLine } = await run(file);
    expect(byLine.get(1)?.[0]).toMatchObject({ field: ['debtor.externalRef'], message: 'the account belongs to another debtor' });
    expect(byLine.get(2)?.[0]).toMatchObject({ field: ['account.currency'], message: 'the account is in CNY' });
    expect(await counts()).toEqual(before);
  });
});

describe('two batches at once (PostgreSQL)', () => {
  it('sends a batch that collides with the one before it again: shared debtors, a repeated account', async () => {
    if (store.kind !== 'postgres') return; // the embedded store has one connection: the command sends one batch at a time
    const base = { cardLast4: '4321', product: 'Gold', creditLimit: 5_000_000, currency: 'CNY' };
    const debtor = (k: number) => ({ externalRef: `PAR-CUS-${k}`, fullName: `张${k}`, nationalId: `11010519900101${String(3000 + k).slice(-4)}` });
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      // Debtor k owns accounts 2k and 2k+1, which fall into neighbouring batches of 2 half of the time.
      lines.push(JSON.stringify({ account: { ...base, externalRef: `PAR-${i}` }, debtor: debtor((i + 1) >> 1), dueDate: '2026-10-01', principal: 1000 + i, interest: 0, fees: 0 }));
    }
    lines.push(JSON.stringify({ account: { ...base, externalRef: 'PAR-0' }, debtor: debtor(0), dueDate: '2026-10-01', principal: 5, interest: 0, fees: 0 })); // PAR-0 again, new amount
    const file = write('parallel.jsonl', lines);
    const summary = await importFile(deps, { file, batchSize: 2, concurrency: 2 });
    expect(summary).toMatchObject({ rows: 41, created: 40, updated: 1, rejected: 0 });
    expect(await store.prisma.debtor.count({ where: { externalRef: { startsWith: 'PAR-CUS-' } } })).toBe(21);
    expect((await store.prisma.case.findFirstOrThrow({ where: { account: { externalRef: 'PAR-0' } } })).principal).toBe(5n);
  });
});

describe('the command line', () => {
  it('parses its options', () => {
    expect(parseImportArgs(['a.csv', '--batch-size', '500', '--dry-run', '--report=r.jsonl'])).toEqual({ file: 'a.csv', batchSize: 500, dryRun: true, report: 'r.jsonl', encoding: 'utf-8' });
    expect(parseImportArgs(['a.csv', '--encoding', 'GBK'])).toMatchObject({ encoding: 'gb18030' });
    expect(() => parseImportArgs(['a.csv', '--encoding', 'latin1'])).toThrow(/--encoding is utf-8 or gb18030/);
    expect(parseImportArgs(['--help'])).toBe('help');
    expect(() => parseImportArgs(['a.csv', '--batch-size', '10001'])).toThrow(ConfigError);
    expect(() => parseImportArgs(['a.csv', '--bogus'])).toThrow(/unknown option/);
    expect(() => parseImportArgs([])).toThrow(/usage/);
  });

  it('fails with a clear error when the file is missing or its format unknown, before opening the store', async () => {
    await expect(runImportCommand([path.join(dir, 'nope.csv')])).rejects.toThrow(/No such file/);
    await expect(runImportCommand([path.join(dir, 'accounts.txt')])).rejects.toThrow(/cannot tell the format/);
    await expect(runImportCommand(['-'])).rejects.toThrow(/--format/);
  });
});

describe('text encodings (issue 11: a GBK file was taken as UTF-8, names stored as U+FFFD)', () => {
  const gbkFile = (name: string, lines: string[]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, iconv.encode(lines.join('\n') + '\n', 'gbk'));
    return file;
  };

  it('refuses a GBK file read as UTF-8, naming its first bad line, and writes nothing', async () => {
    const file = gbkFile('gbk.csv', [HEADER.join(','), csvLine(501), csvLine(502)]);
    const before = await counts();
    await expect(importFile(deps, { file, batchSize: 3 })).rejects.toThrow(/line 2 is not valid UTF-8; nothing was imported.*--encoding gb18030/);
    expect(await counts()).toEqual(before);
    expect(await store.prisma.debtor.count({ where: { fullName: { contains: '\uFFFD' } } })).toBe(0);
  });

  it('reads the same file with --encoding gb18030: names as written', async () => {
    const file = gbkFile('gbk2.csv', [HEADER.join(','), csvLine(511, { full_name: '张三丰' }), csvLine(512, { home_city: '上海' })]);
    const { summary, rejected } = await run(file, { encoding: 'gb18030' });
    expect(rejected).toEqual([]);
    expect(summary.created).toBe(2);
    expect((await store.prisma.debtor.findFirstOrThrow({ where: { externalRef: 'CSV-CUS-511' } })).fullName).toBe('张三丰');
    const a = await store.prisma.address.findFirstOrThrow({ where: { debtor: { externalRef: 'CSV-CUS-512' } } });
    expect(a.city).toBe('上海');
  });

  it('streamed (stdin): a line that is not UTF-8 is rejected with its number, the others are read; characters split across chunks survive', async () => {
    const good1 = Buffer.from('a,李四\n', 'utf8');
    const bad = Buffer.concat([Buffer.from('b,'), iconv.encode('王五', 'gbk'), Buffer.from('\n')]);
    const good2 = Buffer.from('c,长安街\n', 'utf8');
    const all = Buffer.concat([good1, bad, good2]);
    // One byte at a time: every multi-byte character is cut.
    const chunks = [...all].map((b) => Buffer.from([b]));
    const out = [];
    for await (const r of readCsvRecords(readLines(chunks))) out.push(r);
    expect(out).toEqual([
      { line: 1, fields: ['a', '李四'] },
      { line: 2, error: expect.stringMatching(/not valid text in the encoding/) },
      { line: 3, fields: ['c', '长安街'] },
    ]);
    const gb = [...iconv.encode('x,张三\ny,李四\n', 'gb18030')].map((b) => Buffer.from([b]));
    const lines = [];
    for await (const l of readLines(gb, undefined, 'gb18030')) lines.push(l.text);
    expect(lines).toEqual(['x,张三', 'y,李四']);
  });
});


describe('risk score columns (src/modules/strategy)', () => {
  it('keeps each imported account’s score with its model and date; a bad or conflicting score is reported on its line, the case stays in', async () => {
    const lines = [
      HEADER.join(','),
      csvLine(901, { risk_score: '412.5', risk_model: 'behaviour-v3', risk_scored_on: '2026-11-20' }), // 2
      csvLine(902, { risk_score: '700', risk_model: 'behaviour-v3', risk_scored_on: '2026-11-20' }), // 3
      csvLine(903, { risk_score: 'high', risk_model: 'behaviour-v3', risk_scored_on: '2026-11-20' }), // 4: not a number
      csvLine(904, { risk_score: '500' }), // 5: no model or date
      csvLine(905), // 6: no score at all
    ];
    const first = await run(write('scores.csv', lines), { batchSize: 10 });
    expect(first.summary).toMatchObject({ created: 3, rejected: 2, riskScores: 2 });
    expect(first.byLine.get(4)?.[0]).toMatchObject({ field: ['risk_score'], message: expect.stringMatching(/number/) });
    expect(first.byLine.get(5)?.[0]?.message).toMatch(/go together/);
    const scores = await store.prisma.riskScore.findMany({ where: { account: { externalRef: { in: ['CSV-901', 'CSV-902'] } } }, orderBy: { score: 'asc' } });
    expect(scores.map((s) => [s.score, s.model])).toEqual([[412.5, 'behaviour-v3'], [700, 'behaviour-v3']]);
    // The same file again: nothing new; a changed score for the same date is refused on its line, the case row itself unchanged.
    const again = await run(write('scores2.csv', [lines[0]!, lines[1]!, csvLine(902, { risk_score: '10', risk_model: 'behaviour-v3', risk_scored_on: '2026-11-20' })]), { batchSize: 10 });
    expect(again.summary, JSON.stringify(again)).toMatchObject({ unchanged: 2, riskScores: 1 });
    expect(again.byLine.get(3)?.[0]).toMatchObject({ code: 'DUPLICATE', field: ['risk_score'] });
    expect(await store.prisma.riskScore.count({ where: { account: { externalRef: { in: ['CSV-901', 'CSV-902'] } } } })).toBe(2);
  });
});
