/**
 * `npm run import -- <file.csv|file.jsonl> [options]`: takes in a file of delinquent accounts of
 * any size, streaming it in batches through the intake service (one transaction per batch,
 * idempotent by (card account, first missed due date)), with a progress bar and a summary.
 *
 * JSONL (.jsonl, .ndjson): one JSON object a line, of the shape of IntakeRow (the GraphQL
 * OpenCaseInput): { account: { externalRef, cardLast4, product, creditLimit, currency, openedOn? },
 * debtor: { externalRef, fullName, nationalId, timeZone?, jurisdiction?, language?, contactPoints?,
 * addresses? }, dueDate, principal, interest, fees, priority?, statements?, transactions? } (card
 * usage, issue 18: statements { periodStart, periodEnd, statementBalance, minimumDue, amountPaid,
 * dueDate }, at most 12; transactions { postedOn, merchantCategory, merchantName?, amount }, at most
 * 200; a CSV file cannot carry them: send usage as JSONL).
 *
 * CSV (.csv, RFC 4180, UTF-8, a header line first, columns in any order, names case-insensitive;
 * amounts are whole minor units, dates YYYY-MM-DD; * = required):
 *   account_ref*, card_last4*, product*, credit_limit*, currency*, opened_on,
 *   debtor_ref*, full_name*, national_id*, time_zone, jurisdiction, language,
 *   mobile, home_phone, work_phone, email,
 *   home_address_line1, home_address_line2, home_city, home_region, home_postal_code, home_country,
 *   due_date*, principal*, interest*, fees*, priority
 * mobile, home_phone, work_phone and email become the debtor's contact points (in that order, the
 * first one primary); the home_* columns, when any is filled, the debtor's HOME address.
 *
 * A row that cannot be read (a malformed CSV record, a line that is not JSON) or is refused
 * (validation, a duplicate of an earlier row of the same batch, an account of another debtor…)
 * is rejected with its line number and reasons, and the others go on. Duplicates are detected
 * within a batch; a repeat in a later batch is simply UNCHANGED (or UPDATED), as a re-sent file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { ConfigError, loadConfig } from '../config.ts';
import { openStore } from '../db/store.ts';
import { applyMigrations, pendingMigrations } from '../db/migrations.ts';
import { loadSecrets } from '../lib/secrets.ts';
import { Pii } from '../lib/pii.ts';
import { systemClock } from '../lib/time.ts';
import { DomainError, type UserError } from '../lib/errors.ts';
import { AddressKind, CasePriority, ContactParty, ContactPointKind, Jurisdiction, Language } from '../generated/prisma/enums.ts';
import { intakeBatch, MAX_IMPORT_ROWS, type IntakeDeps, type IntakeOutcome, type IntakeRow } from '../modules/cases/intake.ts';
import { setRiskScores, MAX_RISK_SCORES } from '../modules/strategy/service.ts';
import { firstBadLine, readCsvRecords, readLines, textEncodingOf, type Line, type TextEncoding } from './csv.ts';

export type ImportFormat = 'csv' | 'jsonl';

/** The CSV columns: name, required. */
export const CSV_COLUMNS: readonly (readonly [string, boolean])[] = [
  ['account_ref', true],
  ['card_last4', true],
  ['product', true],
  ['credit_limit', true],
  ['currency', true],
  ['opened_on', false],
  ['debtor_ref', true],
  ['full_name', true],
  ['national_id', true],
  ['time_zone', false],
  ['jurisdiction', false],
  ['language', false],
  ['mobile', false],
  ['home_phone', false],
  ['work_phone', false],
  ['email', false],
  ['home_address_line1', false],
  ['home_address_line2', false],
  ['home_city', false],
  ['home_region', false],
  ['home_postal_code', false],
  ['home_country', false],
  ['due_date', true],
  ['principal', true],
  ['interest', true],
  ['fees', true],
  ['priority', false],
  // The account's risk score from the bank's model (src/modules/strategy, setRiskScores): all three or none.
  ['risk_score', false],
  ['risk_model', false],
  ['risk_scored_on', false],
];

// 2,000 rows a transaction: measured faster than 1,000 on PostgreSQL (bench/import.ts), memory still flat.
export const DEFAULT_BATCH_SIZE = 2000;

export interface ImportProgress {
  /** Records read and settled (sent or rejected). */
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** Bytes of the file read so far (ahead of `rows`: the reader buffers a chunk, the next batch is read). */
  bytesRead: number;
  /** Bytes of the file up to the last row settled: the progress. */
  bytesDone: number;
  /** The file's size; null for a stream of unknown length (stdin). */
  totalBytes: number | null;
  elapsedMs: number;
  batches: number;
  /** Batches rolled back on a conflict with a concurrent batch and sent again. */
  retried: number;
  /** Risk scores kept (new or already there) from the CSV's risk columns. */
  riskScores: number;
}

export interface ImportSummary extends ImportProgress {
  rowsPerSecond: number;
  /** The process's peak resident set size (bytes). */
  peakRssBytes: number;
  dryRun: boolean;
  /** Stopped early by the abort signal (Ctrl-C): the batches before it are in. */
  interrupted: boolean;
  format: ImportFormat;
  source: string;
}

export interface Rejection {
  /** The line the record starts on, from 1 (the CSV header is line 1). */
  line: number;
  errors: UserError[];
}

export interface ImportOptions {
  /** A path, or '-' for `input` (stdin). */
  file: string;
  /** Default: from the extension (.csv; .jsonl or .ndjson). */
  format?: ImportFormat;
  /** The bytes to read instead of opening `file` (stdin, tests). */
  input?: AsyncIterable<Buffer | string>;
  /** Rows per transaction: 1 to 10,000, default 2,000. */
  batchSize?: number;
  /**
   * Batches in the database at once (1 to 4, default 1). Above 1 (PostgreSQL: the server works on
   * one batch while the next is prepared and on two at once), a batch that collides with a
   * concurrent one (the same new debtor or account) is rolled back and sent again after it.
   */
  concurrency?: number;
  /** Validate and check against the database, write nothing. */
  dryRun?: boolean;
  /** The file's text encoding: UTF-8 (default, strict) or GB18030 (GBK, GB2312). */
  encoding?: TextEncoding;
  /** A JSONL file to write, one line per rejected row: { line, errors }. */
  reportFile?: string;
  /** Recorded with each case opened or refreshed; default `import:<file name>`. */
  source?: string;
  onProgress?: (p: ImportProgress) => void;
  onRejected?: (r: Rejection) => void;
  /** Stops after the batch in flight. */
  signal?: AbortSignal;
}

export function formatOf(file: string, explicit?: string): ImportFormat {
  const f = explicit?.toLowerCase();
  if (f === 'csv') return 'csv';
  if (f === 'jsonl' || f === 'ndjson') return 'jsonl';
  if (f !== undefined) throw new ConfigError(`--format must be csv or jsonl, not "${explicit}"`);
  if (file === '-') throw new ConfigError('reading stdin (-): say --format csv or --format jsonl');
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new ConfigError(`cannot tell the format of ${file} from its extension: .csv, .jsonl or .ndjson, or say --format`);
}

// ---------------------------------------------------------------- records → rows

/** One record of the file, ready for a batch or already refused. */
interface Item {
  line: number;
  /** CSV: the risk score columns, kept with the account's scores once its row is in. */
  riskScore?: { accountRef: string; score: number; model: string; scoredOn: string };
  /** Bytes of the file read up to this record (for progress), set when it is batched. */
  end?: number;
  row?: IntakeRow;
  errors?: UserError[];
  /** CSV: errors are reported by column; these are the columns of the row's contact points, in order. */
  contactColumns?: string[];
}

/** The CSV column of a field path of IntakeRow. */
function csvColumn(field: string, contactColumns: readonly string[]): string {
  const cp = /^debtor\.contactPoints\.(\d+)\./.exec(field);
  if (cp) return contactColumns[Number(cp[1])] ?? field;
  return CSV_FIELD_COLUMNS[field] ?? field;
}

const err = (field: string | null, message: string): UserError => ({ code: 'VALIDATION', field: field === null ? null : [field], message });

const enumValues = (e: Record<string, string>) => new Set(Object.values(e));
const JURISDICTIONS = enumValues(Jurisdiction);
const LANGUAGES = enumValues(Language);
const PRIORITIES = enumValues(CasePriority);
const CONTACT_KINDS = enumValues(ContactPointKind);
const PARTIES = enumValues(ContactParty);
const ADDRESS_KINDS = enumValues(AddressKind);

const CSV_FIELD_COLUMNS: Record<string, string> = {
  'account.externalRef': 'account_ref',
  'account.cardLast4': 'card_last4',
  'account.product': 'product',
  'account.creditLimit': 'credit_limit',
  'account.currency': 'currency',
  'account.openedOn': 'opened_on',
  'debtor.externalRef': 'debtor_ref',
  'debtor.fullName': 'full_name',
  'debtor.nationalId': 'national_id',
  'debtor.timeZone': 'time_zone',
  'debtor.jurisdiction': 'jurisdiction',
  'debtor.language': 'language',
  'debtor.addresses.0.line1': 'home_address_line1',
  'debtor.addresses.0.city': 'home_city',
  'debtor.addresses.0.region': 'home_region',
  dueDate: 'due_date',
  principal: 'principal',
  interest: 'interest',
  fees: 'fees',
  priority: 'priority',
};
const CONTACT_COLUMNS: readonly (readonly [string, ContactPointKind])[] = [
  ['mobile', 'MOBILE'],
  ['home_phone', 'HOME_PHONE'],
  ['work_phone', 'WORK_PHONE'],
  ['email', 'EMAIL'],
];

/** Whole minor units: digits only (a sign is let through for the validator to refuse). */
function csvAmount(v: string | undefined): bigint | number | undefined {
  const t = v?.trim() ?? '';
  if (t === '') return undefined;
  return /^-?\d{1,20}$/.test(t) ? BigInt(t) : Number.NaN;
}

/** The mapper of CSV records to rows for a header; a ConfigError when the header is not usable. */
export function csvMapper(header: string[]): (fields: string[], line: number) => Item {
  const names = header.map((h) => h.trim().toLowerCase());
  const known = new Map(CSV_COLUMNS);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new ConfigError(`unknown CSV column(s) ${unknown.map((u) => JSON.stringify(u)).join(', ')}; the columns are: ${CSV_COLUMNS.map(([n]) => n).join(', ')}`);
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ConfigError(`the CSV column ${dup} appears twice in the header`);
  const missing = CSV_COLUMNS.filter(([n, req]) => req && !names.includes(n)).map(([n]) => n);
  if (missing.length) throw new ConfigError(`the CSV header lacks the required column(s) ${missing.join(', ')}`);
  const at = (name: string): number => names.indexOf(name); // -1: the column is absent
  const idx = Object.fromEntries(CSV_COLUMNS.map(([n]) => [n, at(n)])) as Record<string, number>;
  const homeColumns = ['home_address_line1', 'home_address_line2', 'home_city', 'home_region', 'home_postal_code', 'home_country'].map((c) => idx[c]!);
  const contactIdx = CONTACT_COLUMNS.map(([column, kind]) => [idx[column]!, column, kind] as const);
  return (fields, line) => {
    const errors: UserError[] = [];
    const jurisdiction = csvEnum<Jurisdiction>(fields, idx.jurisdiction!, 'jurisdiction', JURISDICTIONS, errors);
    const language = csvEnum<Language>(fields, idx.language!, 'language', LANGUAGES, errors);
    const priority = csvEnum<CasePriority>(fields, idx.priority!, 'priority', PRIORITIES, errors);
    const risk = [csvOpt(fields, idx.risk_score!), csvOpt(fields, idx.risk_model!), csvOpt(fields, idx.risk_scored_on!)] as const;
    let riskScore: Item['riskScore'];
    if (risk.some((v) => v !== null)) {
      const score = Number(risk[0]);
      if (risk.some((v) => v === null)) errors.push(err('risk_score', 'risk_score, risk_model and risk_scored_on go together'));
      else if (!/^-?\d+(\.\d+)?$/.test(risk[0]!) || !Number.isFinite(score)) errors.push(err('risk_score', 'risk_score must be a number'));
      else if (!/^\d{4}-\d{2}-\d{2}$/.test(risk[2]!)) errors.push(err('risk_scored_on', 'risk_scored_on must be a date YYYY-MM-DD'));
      else riskScore = { accountRef: csvGet(fields, idx.account_ref!), score, model: risk[1]!, scoredOn: risk[2]! };
    }
    if (errors.length) return { line, errors };
    const contactColumns: string[] = [];
    const contactPoints: NonNullable<IntakeRow['debtor']['contactPoints']> = [];
    for (const [i, column, kind] of contactIdx) {
      const value = csvOpt(fields, i);
      if (value === null) continue;
      contactColumns.push(column);
      contactPoints.push({ kind, value });
    }
    const home = homeColumns.some((i) => csvOpt(fields, i) !== null);
    const row: IntakeRow = {
      account: {
        externalRef: csvGet(fields, idx.account_ref!),
        cardLast4: csvGet(fields, idx.card_last4!),
        product: csvGet(fields, idx.product!),
        creditLimit: csvAmount(fields[idx.credit_limit!]) as number,
        currency: csvGet(fields, idx.currency!),
        openedOn: csvOpt(fields, idx.opened_on!),
      },
      debtor: {
        externalRef: csvGet(fields, idx.debtor_ref!),
        fullName: csvGet(fields, idx.full_name!),
        nationalId: csvGet(fields, idx.national_id!),
        timeZone: csvOpt(fields, idx.time_zone!),
        jurisdiction,
        language,
        contactPoints,
        addresses: home
          ? [
              {
                kind: 'HOME',
                line1: csvGet(fields, idx.home_address_line1!),
                line2: csvOpt(fields, idx.home_address_line2!),
                city: csvGet(fields, idx.home_city!),
                region: csvGet(fields, idx.home_region!),
                postalCode: csvOpt(fields, idx.home_postal_code!),
                country: csvOpt(fields, idx.home_country!),
              },
            ]
          : [],
      },
      dueDate: csvGet(fields, idx.due_date!).trim(),
      principal: csvAmount(fields[idx.principal!]) as number,
      interest: csvAmount(fields[idx.interest!]) as number,
      fees: csvAmount(fields[idx.fees!]) as number,
      priority,
    };
    return { line, row, contactColumns, ...(riskScore ? { riskScore } : {}) };
  };
}

// Per-row helpers at module level: a closure made per row costs more than the work it does.
function csvGet(fields: string[], i: number): string {
  return i < 0 ? '' : (fields[i] ?? '');
}
function csvOpt(fields: string[], i: number): string | null {
  return i < 0 ? null : fields[i]?.trim() || null;
}
function csvEnum<T extends string>(fields: string[], i: number, name: string, allowed: Set<string>, errors: UserError[]): T | null {
  const v = csvOpt(fields, i)?.toUpperCase() ?? null;
  if (v !== null && !allowed.has(v)) errors.push(err(name, `${name} must be one of ${[...allowed].join(', ')}`));
  return v as T | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the intake validator takes for granted of a row (it is typed by GraphQL elsewhere): objects
 * where objects are expected, strings, enum values, booleans. A JSON line may hold anything.
 */
export function jsonRowErrors(v: unknown): UserError[] {
  if (!isObject(v)) return [err(null, 'a line must hold a JSON object (an account)')];
  const errors: UserError[] = [];
  const a = v.account;
  const d = v.debtor;
  if (!isObject(a)) errors.push(err('account', 'account must be an object'));
  else {
    jsonAmount(a.creditLimit, 'account.creditLimit', errors);
    jsonOptString(a.openedOn, 'account.openedOn', errors);
  }
  if (!isObject(d)) errors.push(err('debtor', 'debtor must be an object'));
  else {
    jsonOptString(d.timeZone, 'debtor.timeZone', errors);
    jsonEnum(d.jurisdiction, 'debtor.jurisdiction', JURISDICTIONS, false, errors);
    jsonEnum(d.language, 'debtor.language', LANGUAGES, false, errors);
    if (jsonList(d.contactPoints, 'debtor.contactPoints', errors)) {
      (d.contactPoints as unknown[]).forEach((cp, i) => {
        const at = `debtor.contactPoints.${i}`;
        if (!isObject(cp)) return errors.push(err(at, `${at} must be an object`));
        jsonEnum(cp.kind, `${at}.kind`, CONTACT_KINDS, true, errors);
        jsonEnum(cp.party, `${at}.party`, PARTIES, false, errors);
        jsonOptString(cp.relation, `${at}.relation`, errors);
        if (cp.primary !== undefined && cp.primary !== null && typeof cp.primary !== 'boolean') errors.push(err(`${at}.primary`, `${at}.primary must be true or false`));
      });
    }
    if (jsonList(d.addresses, 'debtor.addresses', errors)) {
      (d.addresses as unknown[]).forEach((ad, i) => {
        const at = `debtor.addresses.${i}`;
        if (!isObject(ad)) return errors.push(err(at, `${at} must be an object`));
        jsonEnum(ad.kind, `${at}.kind`, ADDRESS_KINDS, true, errors);
        jsonOptString(ad.line2, `${at}.line2`, errors);
        jsonOptString(ad.postalCode, `${at}.postalCode`, errors);
        jsonOptString(ad.country, `${at}.country`, errors);
      });
    }
  }
  jsonOptString(v.dueDate, 'dueDate', errors);
  jsonAmount(v.principal, 'principal', errors);
  jsonAmount(v.interest, 'interest', errors);
  jsonAmount(v.fees, 'fees', errors);
  jsonEnum(v.priority, 'priority', PRIORITIES, false, errors);
  // Card usage (issue 18): lists of objects, amounts as numbers or digit strings (the intake validates the rest).
  if (jsonList(v.statements, 'statements', errors)) {
    (v.statements as unknown[]).forEach((st, i) => {
      if (!isObject(st)) return errors.push(err(`statements.${i}`, `statements.${i} must be an object`));
      for (const f of ['statementBalance', 'minimumDue', 'amountPaid']) jsonAmount(st[f], `statements.${i}.${f}`, errors);
      for (const f of ['periodStart', 'periodEnd', 'dueDate']) jsonOptString(st[f], `statements.${i}.${f}`, errors);
    });
  }
  if (jsonList(v.transactions, 'transactions', errors)) {
    (v.transactions as unknown[]).forEach((tr, i) => {
      if (!isObject(tr)) return errors.push(err(`transactions.${i}`, `transactions.${i} must be an object`));
      jsonAmount(tr.amount, `transactions.${i}.amount`, errors);
      for (const f of ['postedOn', 'merchantCategory', 'merchantName']) jsonOptString(tr[f], `transactions.${i}.${f}`, errors);
    });
  }
  return errors;
}

function jsonOptString(value: unknown, field: string, errors: UserError[]): void {
  if (value !== undefined && value !== null && typeof value !== 'string') errors.push(err(field, `${field} must be a string`));
}
function jsonEnum(value: unknown, field: string, allowed: Set<string>, required: boolean, errors: UserError[]): void {
  if ((value === undefined || value === null) && !required) return;
  if (typeof value !== 'string' || !allowed.has(value)) errors.push(err(field, `${field} must be one of ${[...allowed].join(', ')}`));
}
/** A number (the validator checks it), or a string of digits (for amounts beyond 2^53). */
function jsonAmount(value: unknown, field: string, errors: UserError[]): void {
  if (value === undefined || value === null || typeof value === 'number') return;
  if (typeof value !== 'string' || !/^-?\d{1,20}$/.test(value)) errors.push(err(field, `${field} must be a whole number of minor units`));
}
/** Whether the value is a list to look into (absent is fine, anything else an error). */
function jsonList(value: unknown, field: string, errors: UserError[]): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return true;
  errors.push(err(field, `${field} must be a list`));
  return false;
}

async function* csvItems(lines: AsyncIterable<Line>): AsyncGenerator<Item> {
  const expect: { columns?: number } = {};
  let map: ((fields: string[], line: number) => Item) | undefined;
  for await (const rec of readCsvRecords(lines, expect)) {
    if (!map) {
      if ('error' in rec) throw new ConfigError(`the CSV header (line ${rec.line}) is malformed: ${rec.error}`);
      map = csvMapper(rec.fields);
      expect.columns = rec.fields.length;
      continue;
    }
    yield 'error' in rec ? { line: rec.line, errors: [err(null, `malformed CSV record: ${rec.error}`)] } : map(rec.fields, rec.line);
  }
}

async function* jsonlItems(lines: AsyncIterable<Line>): AsyncGenerator<Item> {
  for await (const l of lines) {
    if (l.tooLong) {
      yield { line: l.no, errors: [err(null, 'line too long')] };
      continue;
    }
    if (l.badEncoding) {
      yield { line: l.no, errors: [err(null, 'not valid text in the encoding of the file (UTF-8 unless --encoding says otherwise)')] };
      continue;
    }
    if (l.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (e) {
      yield { line: l.no, errors: [err(null, `invalid JSON: ${(e as Error).message}`)] };
      continue;
    }
    const errors = jsonRowErrors(value);
    yield errors.length ? { line: l.no, errors } : { line: l.no, row: value as IntakeRow };
  }
}

// ---------------------------------------------------------------- the import

function encodingRefusal(file: string, line: number, encoding: TextEncoding): string {
  return encoding === 'utf-8'
    ? `${file}: line ${line} is not valid UTF-8; nothing was imported. A file exported as GB18030, GBK or GB2312 (Chinese banks' systems) is read with --encoding gb18030.`
    : `${file}: line ${line} is not valid GB18030; nothing was imported. Check the encoding the file was exported in (UTF-8 is the default).`;
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Unique violation, deadlock, serialization failure: two batches at once wanted the same row. */
const CONFLICT_STATES = new Set(['23505', '40P01', '40001']);

/** The SQLSTATE of a database error that came through Prisma, if any. */
function sqlState(e: unknown): string | undefined {
  const meta = (e as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } }; code?: unknown } } | null)?.meta;
  const code = meta?.driverAdapterError?.cause?.originalCode ?? meta?.code;
  if (typeof code === 'string') return code;
  return /Code: `([0-9A-Z]{5})`/.exec(e instanceof Error ? e.message : '')?.[1];
}

/** First line of an error, short: it goes into a report, not a stack trace. */
function brief(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const lines = m.split('\n').map((s) => s.trim()).filter(Boolean);
  return (lines[lines.length - 1] ?? 'unknown error').slice(0, 300);
}

/**
 * The import, streaming: reads the file a chunk at a time, sends a batch to intake while the next
 * one is read (at most two batches in memory), and settles each row as CREATED, UPDATED,
 * UNCHANGED or REJECTED (with its line number and reasons). The core of `npm run import`.
 */
export async function importFile(deps: IntakeDeps, options: ImportOptions): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_IMPORT_ROWS) {
    throw new ConfigError(`the batch size is 1 to ${MAX_IMPORT_ROWS}, not ${batchSize}`);
  }
  const format = formatOf(options.file, options.format);
  const source = options.source ?? `import:${options.file === '-' ? 'stdin' : path.basename(options.file)}`;
  const dryRun = options.dryRun ?? false;
  const encoding = options.encoding ?? 'utf-8';
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4) throw new ConfigError(`concurrency is 1 to 4, not ${concurrency}`);
  let input = options.input;
  let totalBytes: number | null = null;
  if (!input) {
    if (options.file === '-') throw new ConfigError('reading stdin (-) needs an input stream');
    let stat: fs.Stats;
    try {
      stat = fs.statSync(options.file);
    } catch {
      throw new ConfigError(`No such file: ${options.file}`);
    }
    if (!stat.isFile()) throw new ConfigError(`Not a file: ${options.file}`);
    totalBytes = stat.size;
    // A file in another encoding is refused whole, before anything is written, naming its first
    // line that is not text in the encoding (stdin cannot be read twice: there, such lines are rejected one by one).
    const bad = await firstBadLine(fs.createReadStream(options.file, { highWaterMark: 256 * 1024 }), encoding);
    if (bad !== null) throw new ConfigError(encodingRefusal(options.file, bad, encoding));
    input = fs.createReadStream(options.file, { highWaterMark: 256 * 1024 });
  }

  const started = performance.now();
  const p: ImportProgress = { rows: 0, created: 0, updated: 0, unchanged: 0, rejected: 0, bytesRead: 0, bytesDone: 0, totalBytes, elapsedMs: 0, batches: 0, retried: 0, riskScores: 0 };
  let reportFd: number | undefined;
  if (options.reportFile) {
    try {
      reportFd = fs.openSync(options.reportFile, 'w');
    } catch (e) {
      throw new ConfigError(`cannot write the report ${options.reportFile}: ${(e as Error).message}`);
    }
  }
  const report = reportFd !== undefined ? fs.createWriteStream('', { fd: reportFd, encoding: 'utf8' }) : null;
  const reportError = report ? once(report, 'error').then(([e]) => { throw e as Error; }) : null;
  reportError?.catch(() => {}); // surfaced at the next write

  const reject = async (line: number, errors: UserError[]) => {
    p.rejected++;
    options.onRejected?.({ line, errors });
    if (report && !report.write(`${JSON.stringify({ line, errors })}\n`)) {
      await Promise.race([once(report, 'drain'), reportError]);
    }
  };

  /** One try of a batch; a conflict with a concurrent batch (see below) is tried again once the batches before it are in. */
  const attempt = async (rows: IntakeRow[], before: readonly Promise<unknown>[]): Promise<IntakeOutcome[]> => {
    for (let n = 1; ; n++) {
      try {
        return await intakeBatch(deps, null, rows, { source, dryRun });
      } catch (e) {
        if (n >= 4 || !CONFLICT_STATES.has(sqlState(e) ?? '')) throw e;
        p.retried++;
        await Promise.allSettled(before);
        before = [];
      }
    }
  };

  /** intakeBatch; when the database refuses a whole batch (a constraint, a value it will not take), halves isolate the row. */
  const send = async (rows: IntakeRow[], before: readonly Promise<unknown>[] = []): Promise<IntakeOutcome[]> => {
    try {
      return await attempt(rows, before);
    } catch (e) {
      try {
        await deps.prisma.$queryRawUnsafe('SELECT 1');
      } catch {
        throw e; // the database is gone: fatal
      }
      if (rows.length === 1) {
        return [{ index: 0, status: 'REJECTED', caseId: null, caseNumber: null, errors: [err(null, `the database refused the row: ${brief(e)}`)] }];
      }
      const mid = rows.length >> 1;
      const left = await send(rows.slice(0, mid));
      const right = await send(rows.slice(mid));
      const shift = (e: UserError): UserError => ({ ...e, message: e.message.replace(/\bas row (\d+)$/, (_, i: string) => `as row ${Number(i) + mid}`) });
      return [...left, ...right.map((o) => ({ ...o, index: o.index + mid, errors: o.errors.map(shift) }))];
    }
  };

  /**
   * The risk scores of a batch's rows that went in, through setRiskScores (per model and date, all
   * or nothing): a refused group (a different score for the same account, model and date) is
   * reported on each of its lines; the cases stay in.
   */
  const keepRiskScores = async (items: Item[]) => {
    const groups = new Map<string, Item[]>();
    for (const i of items) {
      const k = `${i.riskScore!.model}\n${i.riskScore!.scoredOn}`;
      groups.set(k, [...(groups.get(k) ?? []), i]);
    }
    for (const group of groups.values()) {
      for (let from = 0; from < group.length; from += MAX_RISK_SCORES) {
        let chunk = group.slice(from, from + MAX_RISK_SCORES);
        const { model, scoredOn } = chunk[0]!.riskScore!;
        // A refusal that names its row: that line is reported and the rest sent again; any other refuses them all.
        while (chunk.length) {
          try {
            const r = await setRiskScores(deps, null, { model, scoredOn, scores: chunk.map((i) => ({ accountRef: i.riskScore!.accountRef, score: i.riskScore!.score })) });
            p.riskScores += r.created + r.unchanged;
            break;
          } catch (e) {
            if (!(e instanceof DomainError)) throw e;
            const refusal = (i: Item) => reject(i.line, [{ code: e.code, field: ['risk_score'], message: `the case is in; its risk score was refused: ${e.message}` }]);
            const at = e.field?.[0] === 'scores' && /^\d+$/.test(e.field[1] ?? '') ? Number(e.field[1]) : -1;
            if (at < 0 || at >= chunk.length) {
              for (const i of chunk) await refusal(i);
              break;
            }
            await refusal(chunk[at]!);
            chunk = chunk.filter((_i, k) => k !== at);
          }
        }
      }
    }
  };

  /** A batch sent, settled (counted, reported) in file order once its outcomes are in. */
  interface InFlight {
    batch: Item[];
    sent: Item[];
    outcomes: Promise<IntakeOutcome[]>;
  }
  const inFlight: InFlight[] = [];

  const launch = (batch: Item[]) => {
    const sent = batch.filter((i) => i.row);
    const before = inFlight.map((f) => f.outcomes);
    const outcomes = sent.length ? send(sent.map((i) => i.row!), before) : Promise.resolve([]);
    outcomes.catch(() => {}); // rethrown when settled
    inFlight.push({ batch, sent, outcomes });
  };

  const settle = async () => {
    const { batch, sent, outcomes: pending } = inFlight.shift()!;
    const outcomes = await pending;
    if (concurrency > 1) {
      // A row whose case a concurrent batch changed between read and write (the same account and
      // due date in two batches at once): sent again now that the batches before it are in.
      const stale = outcomes.flatMap((o, k) => (o.errors[0]?.code === 'STALE_VERSION' ? [k] : []));
      if (stale.length) {
        const again = await send(stale.map((k) => sent[k]!.row!));
        stale.forEach((k, j) => (outcomes[k] = { ...again[j]!, index: k }));
      }
    }
    const byItem = new Map<Item, IntakeOutcome>();
    sent.forEach((item, k) => byItem.set(item, outcomes[k]!));
    for (const item of batch) {
      p.rows++;
      const o = byItem.get(item);
      if (!o) {
        await reject(item.line, item.errors ?? []);
        continue;
      }
      switch (o.status) {
        case 'CREATED':
          p.created++;
          break;
        case 'UPDATED':
          p.updated++;
          break;
        case 'UNCHANGED':
          p.unchanged++;
          break;
        case 'REJECTED': {
          const errors = o.errors.map((e) => ({
            ...e,
            field: e.field && item.contactColumns ? e.field.map((f) => csvColumn(f, item.contactColumns!)) : e.field,
            // "as row <index in the batch>" → the line in the file
            message: e.message.replace(/\bas row (\d+)$/, (_, i: string) => `as line ${sent[Number(i)]?.line ?? '?'}`),
          }));
          await reject(item.line, errors);
          break;
        }
      }
    }
    if (!dryRun) await keepRiskScores(batch.filter((i) => i.riskScore && byItem.get(i) && byItem.get(i)!.status !== 'REJECTED'));
    p.batches++;
    p.bytesDone = Math.max(p.bytesDone, batch[batch.length - 1]?.end ?? 0);
    p.elapsedMs = performance.now() - started;
    options.onProgress?.({ ...p });
  };

  let lastEnd = 0; // the end of the last line read: where the record just made ends, near enough
  const lines = (async function* (src: AsyncGenerator<Line>) {
    for await (const l of src) {
      lastEnd = l.end;
      yield l;
    }
  })(readLines(input, (n) => (p.bytesRead += n), encoding));
  const items = format === 'csv' ? csvItems(lines) : jsonlItems(lines);
  let interrupted = false;
  try {
    let batch: Item[] = [];
    const flush = async () => {
      // At most `concurrency` batches in the database, and one being read: memory stays flat.
      while (inFlight.length >= concurrency) await settle();
      launch(batch);
      batch = [];
    };
    for await (const item of items) {
      item.end = lastEnd;
      batch.push(item);
      if (batch.length >= batchSize) {
        await flush();
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
    }
    if (batch.length && !interrupted) await flush();
    while (inFlight.length) await settle();
    if (!interrupted && p.bytesDone < p.bytesRead) {
      p.bytesDone = p.bytesRead; // blank lines at the end
      options.onProgress?.({ ...p });
    }
  } finally {
    await Promise.allSettled(inFlight.map((f) => f.outcomes)); // never leave a transaction behind a closing store
    if (report) {
      report.end();
      await Promise.race([once(report, 'finish'), reportError]);
    }
    if (input !== options.input && 'destroy' in input) (input as fs.ReadStream).destroy();
  }
  p.elapsedMs = performance.now() - started;
  return {
    ...p,
    rowsPerSecond: p.elapsedMs > 0 ? p.rows / (p.elapsedMs / 1000) : 0,
    peakRssBytes: peakRss(),
    dryRun,
    interrupted,
    format,
    source,
  };
}

// ---------------------------------------------------------------- the command

/** Comma-separated items wrapped at `width` columns, each line indented. */
function wrap(items: readonly string[], width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (line && line.length + 1 + piece.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${piece}` : piece;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

const HELP = `Usage: npm run import -- <file.csv|file.jsonl|-> [options]

Takes in delinquent accounts from a file of any size, in batches (one transaction each),
idempotent by (card account, first missed due date): a row is CREATED, UPDATED (amounts
refreshed), UNCHANGED, or REJECTED with its line number and reasons; a bad row never stops
the good ones. The store is DATABASE_URL (PostgreSQL) or the embedded store in ARREARS_DATA_DIR;
pending migrations are applied first (not by a dry run, which refuses to run on a database that
lacks some).

Options:
  --batch-size N     rows per transaction, 1 to ${MAX_IMPORT_ROWS} (default ${DEFAULT_BATCH_SIZE})
  --dry-run          validate and check against the database, write nothing: each row is
                     reported as it would be (a repeat in a later batch counts as created twice)
  --report <file>    write one JSON line per rejected row: {"line":N,"errors":[…]}
  --concurrency N    batches in the database at once, 1 to 4 (default 2 on PostgreSQL,
                     1 on the embedded store, which has one connection)
  --format csv|jsonl the format (default: from the extension .csv, .jsonl, .ndjson; needed for -)
  --encoding E       the file's encoding: utf-8 (default, strict: a file in another encoding
                     is refused with the line at fault) or gb18030 (also reads GBK, GB2312)
  -h, --help         this text

JSONL: one object a line, the shape of the GraphQL OpenCaseInput (account, debtor, dueDate,
principal, interest, fees, priority).

CSV: RFC 4180, UTF-8, a header line, columns in any order (* = required); amounts in whole
minor units, dates YYYY-MM-DD:
${wrap(CSV_COLUMNS.map(([n, r]) => (r ? `${n}*` : n)), 86, '  ')}
mobile, home_phone, work_phone, email: the debtor's contact points; home_*: the HOME address.

Exit code 0 when the whole file was processed (rejected rows included), 1 on a fatal error.
`;

interface Args {
  file: string;
  batchSize: number;
  concurrency: number | undefined;
  dryRun: boolean;
  report: string | undefined;
  format: string | undefined;
  encoding: TextEncoding;
}

export function parseImportArgs(args: string[]): Args | 'help' {
  const out: Partial<Args> = { batchSize: DEFAULT_BATCH_SIZE, dryRun: false, encoding: 'utf-8' };
  const value = (i: number, name: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw new ConfigError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const take = () => inline ?? value(i++, name);
    switch (name) {
      case '-h':
      case '--help':
        return 'help';
      case '--dry-run':
        out.dryRun = true;
        break;
      case '--batch-size': {
        const raw = take();
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < 1 || n > MAX_IMPORT_ROWS) throw new ConfigError(`--batch-size is a whole number from 1 to ${MAX_IMPORT_ROWS}, not "${raw}"`);
        out.batchSize = n;
        break;
      }
      case '--report':
        out.report = take();
        break;
      case '--concurrency': {
        const raw = take();
        if (!/^[1-4]$/.test(raw)) throw new ConfigError(`--concurrency is 1 to 4, not "${raw}"`);
        out.concurrency = Number(raw);
        break;
      }
      case '--format':
        out.format = take();
        break;
      case '--encoding': {
        const raw = take();
        const encoding = textEncodingOf(raw);
        if (!encoding) throw new ConfigError(`--encoding is utf-8 or gb18030 (gbk and gb2312 are read as gb18030), not "${raw}"`);
        out.encoding = encoding;
        break;
      }
      default:
        if (name.startsWith('-') && name !== '-') throw new ConfigError(`unknown option ${name} (see --help)`);
        if (out.file !== undefined) throw new ConfigError(`one file at a time (got ${out.file} and ${name})`);
        out.file = name;
    }
  }
  if (out.file === undefined) throw new ConfigError('usage: npm run import -- <file.csv|file.jsonl> [--batch-size N] [--dry-run] [--report rejected.jsonl] (see --help)');
  return out as Args;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;

function counts(p: ImportProgress): string {
  return `created ${int(p.created)}, updated ${int(p.updated)}, unchanged ${int(p.unchanged)}, rejected ${int(p.rejected)}`;
}

/** A progress bar on a terminal, a plain line every few seconds otherwise. */
function progressReporter(out: NodeJS.WriteStream) {
  const tty = Boolean(out.isTTY);
  let last = 0;
  let shown = false;
  const render = (p: ImportProgress, final = false) => {
    const now = performance.now();
    if (!final && now - last < (tty ? 100 : 5000)) return;
    last = now;
    const rate = p.elapsedMs > 0 ? p.rows / (p.elapsedMs / 1000) : 0;
    const frac = p.totalBytes ? Math.min(1, p.bytesDone / p.totalBytes) : null;
    if (tty) {
      const width = 24;
      const bar = frac === null ? '' : `[${'█'.repeat(Math.round(frac * width)).padEnd(width, '░')}] ${(frac * 100).toFixed(0).padStart(3)}% `;
      out.write(`\r\x1b[2K${bar}${int(p.rows)} rows, ${int(rate)}/s | ${counts(p)}`);
      shown = true;
    } else {
      out.write(`import: ${int(p.rows)} rows${frac === null ? '' : ` (${(frac * 100).toFixed(0)}%)`}, ${int(rate)} rows/s, ${counts(p)}\n`);
    }
  };
  return {
    update: (p: ImportProgress) => render(p),
    /** Before printing something else on the same stream. */
    clear() {
      if (tty && shown) {
        out.write('\r\x1b[2K');
        shown = false;
        last = 0;
      }
    },
    done(p: ImportProgress | null) {
      if (p) render(p, true);
      if (tty && shown) out.write('\n');
      shown = false;
    },
  };
}

/** How many rejected rows are printed on stderr; the report file has them all. */
const PRINT_REJECTIONS = 100;

export async function runImportCommand(args: string[]): Promise<void> {
  const parsed = parseImportArgs(args);
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const format = formatOf(parsed.file, parsed.format);
  if (parsed.file !== '-' && !fs.existsSync(parsed.file)) throw new ConfigError(`No such file: ${parsed.file}`);
  const config = loadConfig();
  const store = await openStore(config, 'import');
  const progress = progressReporter(process.stderr);
  let lastProgress: ImportProgress | null = null;
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
    progress.clear();
    process.stderr.write('Stopping after the batch in flight (Ctrl-C again to quit now: that batch is rolled back)…\n');
  };
  process.on('SIGINT', onSigint);
  let printed = 0;
  try {
    if (parsed.dryRun) {
      // A dry run writes nothing, the schema included.
      const pending = await pendingMigrations(store.sql);
      if (pending.length) throw new ConfigError(`The database lacks ${pending.length} migration(s) (${pending.join(', ')}): run npm run migrate first, or import without --dry-run.`);
    } else {
      await applyMigrations(store.sql);
    }
    const pii = new Pii(loadSecrets(config).pii);
    const summary = await importFile(
      { prisma: store.prisma, clock: systemClock, pii },
      {
        file: parsed.file,
        format,
        ...(parsed.file === '-' ? { input: process.stdin } : {}),
        batchSize: parsed.batchSize,
        concurrency: store.kind === 'postgres' ? (parsed.concurrency ?? 2) : 1,
        dryRun: parsed.dryRun,
        encoding: parsed.encoding,
        ...(parsed.report ? { reportFile: parsed.report } : {}),
        signal: abort.signal,
        onProgress: (p) => {
          lastProgress = p;
          progress.update(p);
        },
        onRejected: (r) => {
          if (printed >= PRINT_REJECTIONS) return;
          printed++;
          progress.clear();
          const reasons = r.errors.map((e) => `${e.code}${e.field ? ` [${e.field.join(', ')}]` : ''} ${e.message}`).join('; ');
          process.stderr.write(`line ${r.line}: ${reasons}\n`);
        },
      },
    );
    progress.done(summary);
    if (summary.rejected > printed) {
      process.stderr.write(`… ${int(summary.rejected - printed)} more rejected row(s) not shown${parsed.report ? `: all are in ${parsed.report}` : ': --report <file> lists them all'}.\n`);
    }
    const secs = summary.elapsedMs / 1000;
    process.stdout.write(
      `${summary.dryRun ? 'Dry run (nothing written): ' : ''}${summary.interrupted ? 'Interrupted: ' : ''}` +
        `${int(summary.rows)} rows from ${parsed.file} (${summary.format}) in ${summary.batches} batch(es): ${counts(summary)}.\n` +
        `${secs.toFixed(1)} s, ${int(summary.rowsPerSecond)} rows/s, peak RSS ${mib(summary.peakRssBytes)}.` +
        `${summary.rejected && parsed.report ? ` Rejected rows: ${parsed.report}.` : ''}\n`,
    );
    if (summary.interrupted) process.exitCode = 130;
  } catch (e) {
    progress.done(null);
    const p = lastProgress as ImportProgress | null;
    if (p) process.stderr.write(`Stopped after ${int(p.rows)} rows (${counts(p)}); the batch in flight was rolled back.\n`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await store.close();
  }
}
