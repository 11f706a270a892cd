/**
 * The demo data set (`npm run seed:demo`): two partner agencies, the users of API.md, and some
 * 240 overdue card cases across every bucket, stage and status, each with a believable history
 * (reminders, calls, visits, evidence, promises, plans, payments, holds).
 *
 * Deterministic: a seeded PRNG drives every choice and every date is relative to the clock, so
 * one clock gives the same data (only the national-ID ciphertexts differ, their IVs are random).
 * Idempotent: a second run finds the demo agencies and writes nothing. Everything is written in
 * one transaction, so a failure leaves nothing behind; the bulk rows go in set-wise (insertRows),
 * which takes a few seconds where Prisma's createMany took about ten.
 *
 * Amounts on a case are what is still owed: payments reduce fees, then interest, then principal.
 */
import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type {
  AllocationTarget,
  Bucket,
  CaseStage,
  CaseStatus,
  CasePriority,
  CloseReason,
  ContactChannel,
  ContactOutcome,
  ContactPointKind,
  DelinquencyReason,
  EvidenceKind,
  Jurisdiction,
  Language,
  PaymentChannel,
  PlanKind,
  PlanStatus,
  RecallReason,
  ReminderStatus,
  Role,
  VisitDecision,
  VisitDocumentKind,
  VisitMaterial,
  VisitOutcome,
  VisitStatus,
} from '../generated/prisma/enums.ts';
import { Pii } from '../lib/pii.ts';
import { formatMoney } from '../lib/money.ts';
import { formatCaseNumber } from '../lib/ids.ts';
import { BANK_TIME_ZONE, DAY_MS, type Clock, dateOnly, daysBetween, dueDateForDaysPastDue, localDate, localMinutes, parseDateOnly } from '../lib/time.ts';
import { zonedWallTimeToInstant } from '../modules/policy/engine.ts';
import { POLICY_PRESETS } from '../modules/policy/presets.ts';
import type { BlobStore } from '../modules/evidence/blob-store.ts';
import { accepts, sniff } from '../modules/evidence/sniff.ts';
import { pdfDocument, pngImage, wavRecording } from './files.ts';
import { readDossier } from '../modules/visitpack/dossier.ts';
import { documentTitle, renderVisitDocument } from '../modules/visitpack/documents.ts';
import { seedEconomics } from './economics.ts';

export interface SeedDemoDeps {
  pii: Pii;
  clock: Clock;
  /** Where the demo evidence's files go (the server's evidence store): every demo download works. */
  blobs: BlobStore;
  log?: (msg: string) => void;
}

export interface SeedDemoResult {
  /** false: the demo set was already there and nothing was written. */
  seeded: boolean;
  cases: number;
  users: number;
}

/** The agency codes that mark the demo set as present. */
export const DEMO_AGENCY_CODES = ['NORTH', 'SOUTH'] as const;

const PRNG_SEED = 0x5eed_a22e;
const MINUTE = 60_000;
const HOUR = 3_600_000;

export async function seedDemo(prisma: PrismaClient, deps: SeedDemoDeps): Promise<SeedDemoResult> {
  const log = deps.log ?? (() => {});
  const started = Date.now();
  const now = deps.clock.now();
  const result = await prisma.$transaction(
    async (tx) => {
      const present = await tx.agency.findFirst({
        where: { code: { in: [...DEMO_AGENCY_CODES] } },
        select: { id: true },
      });
      if (present) {
        return { seeded: false, cases: await tx.case.count(), users: await tx.user.count() };
      }
      // Users that exist already (e.g. a bootstrapped admin) are kept as they are and reused.
      const existing = await tx.user.findMany({
        where: { email: { in: STAFF.map((s) => s.email) } },
        select: { id: true, email: true },
      });
      const data = new DemoBuilder(now, deps.pii, new Map(existing.map((u) => [u.email, u.id]))).build();
      // The files first: a record is never without its bytes (a failure after leaves unreferenced,
      // content-addressed blobs that a second seed reuses).
      await storeEvidenceFiles(deps.blobs, data.files);
      await writeDemo(tx, data, now);
      await printDemoDocuments(tx, deps.blobs, data);
      return { seeded: true, cases: data.cases.length, users: STAFF.length };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  // Commission and legal records go through their services, after the set they build on.
  if (result.seeded) await seedEconomics(prisma, deps.clock);
  log(
    result.seeded
      ? `Demo data seeded: ${result.cases} cases, ${result.users} users in ${Date.now() - started} ms.`
      : 'Demo data already present: nothing written.',
  );
  return result;
}

// ------------------------------------------------------------------ writing

/** Through the evidence module's store, as an upload's bytes are: staged, hashed, moved under their key. */
async function storeEvidenceFiles(blobs: BlobStore, files: ReadonlyMap<string, Buffer>): Promise<void> {
  for (const [sha256, bytes] of files) {
    const staged = await blobs.put(
      (async function* () {
        yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      })(),
      { maxBytes: bytes.length },
    );
    if (staged.sha256 !== sha256) {
      await staged.discard();
      throw new Error(`demo evidence: the store hashed ${staged.sha256}, expected ${sha256}`);
    }
    await staged.commit();
  }
}

type Tx = Prisma.TransactionClient;

interface DemoRows {
  agencies: Prisma.AgencyCreateManyInput[];
  inspections: Prisma.AgencyInspectionCreateManyInput[];
  users: Prisma.UserCreateManyInput[];
  debtors: Prisma.DebtorCreateManyInput[];
  contactPoints: Prisma.ContactPointCreateManyInput[];
  addresses: Prisma.AddressCreateManyInput[];
  accounts: Prisma.CardAccountCreateManyInput[];
  cases: Prisma.CaseCreateManyInput[];
  placements: Prisma.PlacementCreateManyInput[];
  events: Prisma.CaseEventCreateManyInput[];
  buckets: Prisma.BucketHistoryCreateManyInput[];
  holds: Prisma.HoldCreateManyInput[];
  reminders: Prisma.ReminderCreateManyInput[];
  attempts: Prisma.ContactAttemptCreateManyInput[];
  consents: Prisma.VisitConsentCreateManyInput[];
  visits: Prisma.VisitCreateManyInput[];
  participants: Prisma.VisitParticipantCreateManyInput[];
  evidence: Prisma.EvidenceCreateManyInput[];
  custody: Prisma.EvidenceCustodyCreateManyInput[];
  promises: Prisma.PromiseToPayCreateManyInput[];
  plans: Prisma.RepaymentPlanCreateManyInput[];
  instalments: Prisma.InstalmentCreateManyInput[];
  payments: Prisma.PaymentCreateManyInput[];
  allocations: Prisma.PaymentAllocationCreateManyInput[];
  audit: Prisma.AuditEventCreateManyInput[];
  /** Visit dossiers to stamp with the case number once the database has given it. */
  dossiers: { caseId: string; dossier: JsonObject }[];
  /** The bytes of every evidence record, by SHA-256: written to the blob store with the rows. */
  files: Map<string, Buffer>;
  /** Documents printed for visits (issue 18): rendered once the case numbers are known. */
  prints: DemoPrint[];
}

/** One visit's printed pack: rendered by the visit pack's renderer, kept as evidence like any print. */
interface DemoPrint {
  visitId: string;
  caseId: string;
  agencyId?: string | null;
  at: Date;
  byId: string;
  byName: string;
  dossier: JsonObject;
  language: Language;
  jurisdiction: Jurisdiction;
  timeZone: string;
  collectors: { fullName: string; credentialNumber: string | null }[];
  kinds: VisitDocumentKind[];
}

/**
 * The demo's visits carry real printed documents: the pack's own renderer (src/modules/visitpack),
 * each PDF stored content-addressed and recorded as evidence of its visit with a VisitDocument, in
 * the era of the agency that held the case when it was printed.
 */
async function printDemoDocuments(tx: Tx, blobs: BlobStore, d: DemoRows): Promise<void> {
  const evidence: Prisma.EvidenceCreateManyInput[] = [];
  const custody: Prisma.EvidenceCustodyCreateManyInput[] = [];
  const documents: Prisma.VisitDocumentCreateManyInput[] = [];
  let n = 0;
  for (const job of d.prints) {
    const agencyId = job.agencyId ?? null;
    const dossier = readDossier(job.dossier, { agency: agencyId !== null, agencyId });
    for (const kind of job.kinds) {
      const pdf = await renderVisitDocument({
        kind,
        language: job.language,
        jurisdiction: job.jurisdiction,
        printedAt: job.at,
        printedOn: localDate(job.at, job.timeZone),
        printedBy: job.byName,
        dossier,
        nationalId: dossier.debtor.nationalIdMasked,
        collectors: job.collectors,
      });
      const sha256 = createHash('sha256').update(pdf).digest('hex');
      await storeEvidenceFiles(blobs, new Map([[sha256, pdf]]));
      const evidenceId = uuidv7At(job.at, ++n);
      const fileName = `${kind.toLowerCase().replace(/_/g, '-')}-${dossier.caseNumber}-${job.language === 'ZH_CN' ? 'zh-CN' : 'en'}.pdf`;
      evidence.push({ id: evidenceId, caseId: job.caseId, agencyId, visitId: job.visitId, kind: kind === 'DOSSIER' ? 'DOSSIER' : kind === 'NOTICE' ? 'NOTICE' : 'OVERDUE_STATEMENT', sha256, sizeBytes: pdf.length, contentType: 'application/pdf', fileName, description: `${documentTitle(kind, job.language)} (printed for the visit)`, capturedAt: job.at, uploadedById: job.byId, uploadedAt: job.at });
      custody.push({ id: uuidv7At(job.at, ++n), evidenceId, agencyId, action: 'UPLOADED', actorId: job.byId, at: job.at, detail: `${fileName} printed for the visit` });
      documents.push({ id: uuidv7At(job.at, ++n), visitId: job.visitId, caseId: job.caseId, agencyId, kind, language: job.language, jurisdiction: job.jurisdiction, evidenceId, sha256, printedById: job.byId, printedAt: job.at });
    }
  }
  await insertRows(tx, 'Evidence', evidence);
  await insertRows(tx, 'EvidenceCustody', custody);
  await insertRows(tx, 'VisitDocument', documents);
}

/** A UUIDv7 for `at` with a counter in its random part: repeatable demo ids. */
function uuidv7At(at: Date, n: number): string {
  const ms = at.getTime().toString(16).padStart(12, '0');
  const tail = n.toString(16).padStart(15, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${tail.slice(0, 3)}-8${tail.slice(3, 6)}-${tail.slice(6).padStart(12, 'd')}`;
}

const CHUNK = 1000;

/** A row value as json_populate_recordset reads it back into its column type. */
function columnJson(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  return v;
}

/**
 * Inserts rows set-wise: one statement per thousand rows, the rows as one JSON parameter read by
 * json_populate_recordset, in the given order. Prisma's createMany spends about half a
 * millisecond a row in the client on this data (some 8 s for the demo set); this takes a
 * fraction of that. The rows keep Prisma's CreateManyInput types; the columns are the model's
 * field names (the schema maps none), and a column a row leaves out takes its database default.
 */
async function insertRows(tx: Tx, table: Prisma.ModelName, rows: readonly object[]): Promise<void> {
  // Rows that set the same columns go together, so that omitted columns keep their defaults.
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const row of rows) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) if (v !== undefined) out[k] = columnJson(v);
    const key = Object.keys(out).join(',');
    const group = groups.get(key);
    if (group) group.push(out);
    else groups.set(key, [out]);
  }
  for (const [key, group] of groups) {
    const columns = key
      .split(',')
      .map((c) => `"${c}"`)
      .join(', ');
    for (let i = 0; i < group.length; i += CHUNK) {
      await tx.$executeRawUnsafe(
        `INSERT INTO "${table}" (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::"${table}", $1::json) WITH ORDINALITY AS r ORDER BY r.ordinality`,
        JSON.stringify(group.slice(i, i + CHUNK)),
      );
    }
  }
}

async function writeDemo(tx: Tx, d: DemoRows, now: Date): Promise<void> {
  for (const preset of Object.values(POLICY_PRESETS)) {
    // The presets only fill a missing policy: an admin's figures are never overwritten.
    await tx.contactPolicy.upsert({
      where: { jurisdiction: preset.jurisdiction },
      update: {},
      create: { ...preset, updatedAt: now },
    });
  }
  await tx.agency.createMany({ data: d.agencies });
  await tx.agencyInspection.createMany({ data: d.inspections });
  await tx.user.createMany({ data: d.users });
  await insertRows(tx, 'Debtor', d.debtors);
  await insertRows(tx, 'ContactPoint', d.contactPoints);
  await insertRows(tx, 'Address', d.addresses);
  await insertRows(tx, 'CardAccount', d.accounts);
  // In order of opening: the case numbers follow the cases' age.
  await insertRows(tx, 'Case', d.cases);
  const numbers = await tx.case.findMany({
    where: { id: { in: d.cases.map((c) => c.id!) } },
    select: { id: true, caseNo: true },
  });
  const numberOf = new Map(numbers.map((n) => [n.id, formatCaseNumber(n.caseNo)]));
  for (const { caseId, dossier } of d.dossiers) dossier.caseNumber = numberOf.get(caseId) ?? null;

  await insertRows(tx, 'Placement', d.placements);
  await insertRows(tx, 'CaseEvent', d.events);
  await insertRows(tx, 'BucketHistory', d.buckets);
  await insertRows(tx, 'Hold', d.holds);
  await insertRows(tx, 'Reminder', d.reminders);
  await insertRows(tx, 'ContactAttempt', d.attempts);
  await insertRows(tx, 'VisitConsent', d.consents);
  await insertRows(tx, 'Visit', d.visits);
  await insertRows(tx, 'VisitParticipant', d.participants);
  // Originals before the records that supersede them.
  await insertRows(tx, 'Evidence', d.evidence.filter((e) => !e.supersedesId));
  await insertRows(tx, 'Evidence', d.evidence.filter((e) => e.supersedesId));
  await insertRows(tx, 'EvidenceCustody', d.custody);
  await insertRows(tx, 'PromiseToPay', d.promises);
  await insertRows(tx, 'RepaymentPlan', d.plans);
  await insertRows(tx, 'Instalment', d.instalments);
  await insertRows(tx, 'Payment', d.payments);
  await insertRows(tx, 'PaymentAllocation', d.allocations);
  await insertRows(tx, 'AuditEvent', d.audit);
}

// ------------------------------------------------------------------ randomness and ids

type Json = string | number | boolean | null | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

/** mulberry32: a tiny seeded PRNG, enough to make demo data repeatable. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]; min when the range is empty. */
  int(min: number, max: number): number {
    if (max <= min) return min;
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [v, w] of entries) {
      r -= w;
      if (r < 0) return v;
    }
    return entries[entries.length - 1]![0];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(this.next() * 10));
    return s;
  }
}

/**
 * UUIDv7 ids stamped with the row's own (logical) time, so that ordering by id follows the story;
 * a counter keeps them unique, a separate PRNG fills the rest.
 */
class Uuid7 {
  private seq = 0;
  private readonly rng = new Rng(PRNG_SEED ^ 0x1d5);
  next(at: Date): string {
    const ts = Math.max(0, at.getTime()).toString(16).padStart(12, '0').slice(-12);
    const a = (0x7000 | this.rng.int(0, 0xfff)).toString(16);
    const b = ((0x80000000 | (this.seq++ & 0x3fffffff)) >>> 0).toString(16).padStart(8, '0');
    const c = this.rng.int(0, 0xffffffff).toString(16).padStart(8, '0');
    const hex = ts + a + b + c;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// ------------------------------------------------------------------ time

// The shared time helpers (src/lib/time.ts caches its formatters, the engine handles DST gaps).
const wallTime = (date: string, hour: number, minute: number, timeZone: string): Date => zonedWallTimeToInstant(date, hour * 60 + minute, timeZone);
const zoneDate = localDate;
const minutesOfDay = localMinutes;

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/** A @db.Date `months` after `first`, on the same day of the month (first days are at most the 28th). */
function addMonthsDate(first: Date, months: number): Date {
  return new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + months, Math.min(first.getUTCDate(), 28)));
}

function zhDate(date: string): string {
  const [y, m, d] = date.split('-');
  return `${y}年${m}月${d}日`;
}

function enDate(date: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long', day: 'numeric', year: 'numeric' }).format(
    parseDateOnly(date),
  );
}

// ------------------------------------------------------------------ the cast

type StaffKey =
  | 'admin'
  | 'supervisor'
  | 'collector'
  | 'collector2'
  | 'auditor'
  | 'northManager'
  | 'northAgent'
  | 'northAgent2'
  | 'southManager'
  | 'southAgent'
  | 'southAgent2';

interface StaffSeed {
  key: StaffKey;
  email: string;
  fullName: string;
  role: Role;
  agency?: 'NORTH' | 'SOUTH';
  /** Work credential: number, and expiry in days from today (negative: expired). */
  credential?: { number: string; expiresInDays: number };
}

/** API.md's eight users, plus three collectors so that every visit can name two. */
const STAFF: readonly StaffSeed[] = [
  { key: 'admin', email: 'admin@bank.example', fullName: '沈嘉禾', role: 'BANK_ADMIN' },
  { key: 'supervisor', email: 'supervisor@bank.example', fullName: '钱文静', role: 'BANK_SUPERVISOR' },
  {
    key: 'collector',
    email: 'collector@bank.example',
    fullName: '孙浩宇',
    role: 'BANK_COLLECTOR',
    credential: { number: 'EXB-CC-2025-0141', expiresInDays: 398 },
  },
  { key: 'auditor', email: 'auditor@bank.example', fullName: '韦思琪', role: 'AUDITOR' },
  {
    key: 'northManager',
    email: 'manager@north.example',
    fullName: '邓志刚',
    role: 'AGENCY_MANAGER',
    agency: 'NORTH',
    credential: { number: 'NR-2024-0003', expiresInDays: 301 },
  },
  {
    key: 'northAgent',
    email: 'agent@north.example',
    fullName: '彭海龙',
    role: 'AGENCY_COLLECTOR',
    agency: 'NORTH',
    credential: { number: 'NR-2025-0117', expiresInDays: 455 },
  },
  {
    key: 'southManager',
    email: 'manager@south.example',
    fullName: '潘丽华',
    role: 'AGENCY_MANAGER',
    agency: 'SOUTH',
    credential: { number: 'SR-2024-0008', expiresInDays: 337 },
  },
  {
    key: 'southAgent',
    email: 'agent@south.example',
    fullName: '袁振东',
    role: 'AGENCY_COLLECTOR',
    agency: 'SOUTH',
    credential: { number: 'SR-2025-0052', expiresInDays: 412 },
  },
  {
    key: 'collector2',
    email: 'collector2@bank.example',
    fullName: '蒋雪梅',
    role: 'BANK_COLLECTOR',
    credential: { number: 'EXB-CC-2025-0178', expiresInDays: 521 },
  },
  {
    key: 'northAgent2',
    email: 'agent2@north.example',
    fullName: '曹家明',
    role: 'AGENCY_COLLECTOR',
    agency: 'NORTH',
    credential: { number: 'NR-2025-0129', expiresInDays: 377 },
  },
  {
    // Expired three weeks ago: scheduling a visit with this collector is CREDENTIAL_INVALID.
    key: 'southAgent2',
    email: 'agent2@south.example',
    fullName: '邱少峰',
    role: 'AGENCY_COLLECTOR',
    agency: 'SOUTH',
    credential: { number: 'SR-2024-0031', expiresInDays: -21 },
  },
];

/** The demo users' e-mails: GraphiQL's sign-in box offers these and no other account (src/server/graphiql.ts). */
export const DEMO_USER_EMAILS: readonly string[] = STAFF.map((s) => s.email);

interface Staff {
  key: StaffKey;
  id: string;
  fullName: string;
  role: Role;
  agencyId: string | null;
  credentialNumber: string | null;
  credentialExpiresOn: Date | null;
}

const AGENCIES = [
  {
    code: 'NORTH' as const,
    name: 'North Recovery',
    licenseNumber: 'BJ-DCL-2024-0137',
    dataProcessingContractRef: 'DPA-EXB-NR-2025-001 (PIPL art. 21)',
    inspection: {
      daysAgo: 74,
      result: 'PASSED',
      findings: 'Sampled 40 calls and 6 visits: contact hours respected, visit consent recorded before every visit, recordings retained.',
    },
  },
  {
    code: 'SOUTH' as const,
    name: 'South Recovery',
    licenseNumber: 'GD-DCL-2023-0412',
    dataProcessingContractRef: 'DPA-EXB-SR-2025-002 (PIPL art. 21)',
    inspection: {
      daysAgo: 39,
      result: 'PASSED_WITH_FINDINGS',
      findings: 'One collector credential lapsed (renewal pending, removed from field work); case notes incomplete on 2 of 35 sampled cases.',
    },
  },
];

// ------------------------------------------------------------------ debtors: names and places

const SURNAMES: readonly [string, string][] = [
  ['王', 'wang'], ['李', 'li'], ['张', 'zhang'], ['刘', 'liu'], ['陈', 'chen'], ['杨', 'yang'], ['赵', 'zhao'],
  ['黄', 'huang'], ['周', 'zhou'], ['吴', 'wu'], ['徐', 'xu'], ['孙', 'sun'], ['胡', 'hu'], ['朱', 'zhu'],
  ['高', 'gao'], ['林', 'lin'], ['何', 'he'], ['郭', 'guo'], ['马', 'ma'], ['罗', 'luo'], ['梁', 'liang'],
  ['宋', 'song'], ['郑', 'zheng'], ['谢', 'xie'], ['韩', 'han'], ['唐', 'tang'], ['冯', 'feng'], ['于', 'yu'],
  ['董', 'dong'], ['萧', 'xiao'],
];

/** Given names: characters, pinyin, M/F (the ID number's 17th digit is odd for men). */
const GIVEN_NAMES: readonly [string, string, 'M' | 'F'][] = [
  ['伟', 'wei', 'M'], ['芳', 'fang', 'F'], ['娜', 'na', 'F'], ['秀英', 'xiuying', 'F'], ['敏', 'min', 'F'],
  ['静', 'jing', 'F'], ['丽', 'li', 'F'], ['强', 'qiang', 'M'], ['磊', 'lei', 'M'], ['军', 'jun', 'M'],
  ['洋', 'yang', 'M'], ['勇', 'yong', 'M'], ['艳', 'yan', 'F'], ['杰', 'jie', 'M'], ['娟', 'juan', 'F'],
  ['涛', 'tao', 'M'], ['明', 'ming', 'M'], ['超', 'chao', 'M'], ['秀兰', 'xiulan', 'F'], ['霞', 'xia', 'F'],
  ['平', 'ping', 'M'], ['刚', 'gang', 'M'], ['桂英', 'guiying', 'F'], ['建华', 'jianhua', 'M'],
  ['志强', 'zhiqiang', 'M'], ['晓东', 'xiaodong', 'M'], ['婷婷', 'tingting', 'F'], ['子涵', 'zihan', 'F'],
  ['浩然', 'haoran', 'M'], ['欣怡', 'xinyi', 'F'], ['宇航', 'yuhang', 'M'], ['雨桐', 'yutong', 'F'],
  ['俊杰', 'junjie', 'M'], ['思远', 'siyuan', 'M'], ['佳琪', 'jiaqi', 'F'], ['文博', 'wenbo', 'M'],
  ['梦瑶', 'mengyao', 'F'], ['立伟', 'liwei', 'M'], ['海燕', 'haiyan', 'F'], ['国庆', 'guoqing', 'M'],
];

const US_FIRST: readonly [string, 'M' | 'F'][] = [
  ['James', 'M'], ['Mary', 'F'], ['Michael', 'M'], ['Jennifer', 'F'], ['David', 'M'], ['Linda', 'F'],
  ['Robert', 'M'], ['Patricia', 'F'], ['Daniel', 'M'], ['Susan', 'F'], ['Kevin', 'M'], ['Laura', 'F'],
];
const US_LAST = ['Turner', 'Brooks', 'Foster', 'Hayes', 'Bennett', 'Coleman', 'Reed', 'Sullivan', 'Parker', 'Morgan'];

interface District {
  name: string;
  postalCode: string;
  /** Administrative division code: the first six digits of a resident ID registered there. */
  divisionCode: string;
}

interface CnCity {
  city: string;
  region: string;
  areaCode: string;
  districts: District[];
  streets: string[];
}

const CN_CITIES: readonly CnCity[] = [
  {
    city: '北京市', region: '北京市', areaCode: '10',
    districts: [
      { name: '朝阳区', postalCode: '100020', divisionCode: '110105' },
      { name: '海淀区', postalCode: '100080', divisionCode: '110108' },
      { name: '东城区', postalCode: '100010', divisionCode: '110101' },
    ],
    streets: ['建国路', '朝阳北路', '学院路', '中关村大街', '东四十条'],
  },
  {
    city: '上海市', region: '上海市', areaCode: '21',
    districts: [
      { name: '浦东新区', postalCode: '200120', divisionCode: '310115' },
      { name: '徐汇区', postalCode: '200030', divisionCode: '310104' },
      { name: '静安区', postalCode: '200040', divisionCode: '310106' },
    ],
    streets: ['张杨路', '世纪大道', '漕溪北路', '天钥桥路', '南京西路'],
  },
  {
    city: '广州市', region: '广东省', areaCode: '20',
    districts: [
      { name: '天河区', postalCode: '510620', divisionCode: '440106' },
      { name: '越秀区', postalCode: '510030', divisionCode: '440104' },
      { name: '海珠区', postalCode: '510220', divisionCode: '440105' },
    ],
    streets: ['天河路', '体育西路', '中山五路', '江南大道中', '黄埔大道西'],
  },
  {
    city: '深圳市', region: '广东省', areaCode: '755',
    districts: [
      { name: '南山区', postalCode: '518052', divisionCode: '440305' },
      { name: '福田区', postalCode: '518026', divisionCode: '440304' },
      { name: '罗湖区', postalCode: '518001', divisionCode: '440303' },
    ],
    streets: ['科技园路', '深南大道', '红荔路', '东门中路', '南海大道'],
  },
  {
    city: '成都市', region: '四川省', areaCode: '28',
    districts: [
      { name: '武侯区', postalCode: '610041', divisionCode: '510107' },
      { name: '锦江区', postalCode: '610021', divisionCode: '510104' },
      { name: '青羊区', postalCode: '610015', divisionCode: '510105' },
    ],
    streets: ['人民南路', '玉林路', '蜀都大道', '红星路', '光华大道'],
  },
  {
    city: '杭州市', region: '浙江省', areaCode: '571',
    districts: [
      { name: '西湖区', postalCode: '310012', divisionCode: '330106' },
      { name: '上城区', postalCode: '310002', divisionCode: '330102' },
      { name: '滨江区', postalCode: '310051', divisionCode: '330108' },
    ],
    streets: ['文三路', '天目山路', '延安路', '江南大道', '教工路'],
  },
  {
    city: '武汉市', region: '湖北省', areaCode: '27',
    districts: [
      { name: '武昌区', postalCode: '430061', divisionCode: '420106' },
      { name: '江汉区', postalCode: '430022', divisionCode: '420103' },
      { name: '洪山区', postalCode: '430070', divisionCode: '420111' },
    ],
    streets: ['中南路', '解放大道', '珞喻路', '武珞路', '友谊大道'],
  },
  {
    city: '西安市', region: '陕西省', areaCode: '29',
    districts: [
      { name: '雁塔区', postalCode: '710061', divisionCode: '610113' },
      { name: '碑林区', postalCode: '710001', divisionCode: '610103' },
      { name: '未央区', postalCode: '710016', divisionCode: '610112' },
    ],
    streets: ['小寨东路', '长安北路', '凤城八路', '东大街', '科技路'],
  },
  {
    city: '南京市', region: '江苏省', areaCode: '25',
    districts: [
      { name: '鼓楼区', postalCode: '210008', divisionCode: '320106' },
      { name: '玄武区', postalCode: '210018', divisionCode: '320102' },
      { name: '建邺区', postalCode: '210019', divisionCode: '320105' },
    ],
    streets: ['中山北路', '北京东路', '江东中路', '汉中路', '珠江路'],
  },
];

/** Places of birth for IDs issued away from where the debtor lives now. */
const BIRTH_DIVISIONS = ['430102', '410105', '370102', '350203', '500103', '120101', '210102', '360102', '340104', '450103'];

const COMPOUNDS = ['阳光花园', '锦绣苑', '翠湖天地', '金色家园', '华府名邸', '绿地新都会', '梧桐雅居', '御景湾', '星河丹堤', '滨江公寓'];
const TOWERS = ['国际金融中心', '时代广场', '科技园A座', '财富大厦', '环球贸易中心', '创业大厦'];

interface UsCity {
  city: string;
  region: string;
  timeZone: string;
  areaCode: string;
  zips: string[];
}

const US_CITIES: readonly UsCity[] = [
  { city: 'New York', region: 'NY', timeZone: 'America/New_York', areaCode: '212', zips: ['10011', '10025', '10003'] },
  { city: 'Brooklyn', region: 'NY', timeZone: 'America/New_York', areaCode: '718', zips: ['11201', '11215'] },
  { city: 'Boston', region: 'MA', timeZone: 'America/New_York', areaCode: '617', zips: ['02116', '02130'] },
  { city: 'Chicago', region: 'IL', timeZone: 'America/Chicago', areaCode: '312', zips: ['60614', '60657', '60605'] },
  { city: 'Houston', region: 'TX', timeZone: 'America/Chicago', areaCode: '713', zips: ['77002', '77006'] },
];
const US_STREETS = ['Maple Avenue', 'Oak Street', 'Cedar Lane', 'Lincoln Boulevard', 'Park Place', 'Willow Drive', 'Hudson Street'];

const MOBILE_PREFIXES = ['138', '139', '135', '136', '137', '150', '151', '152', '158', '159', '182', '186', '187', '188', '189', '177', '199'];

const CN_PRODUCTS: readonly [string, number, number][] = [
  // product, credit limit range in yuan
  ['Classic', 10_000, 30_000],
  ['Gold Cashback', 30_000, 80_000],
  ['Platinum Rewards', 80_000, 200_000],
  ['Travel Signature', 50_000, 150_000],
  ['Young Professional', 8_000, 25_000],
];
const US_PRODUCTS: readonly [string, number, number][] = [
  ['Platinum Rewards', 8_000, 25_000],
  ['Everyday Cash', 3_000, 10_000],
];

/** GB 11643 check digit of the first 17 digits of a resident ID. */
function idCheckDigit(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i]!;
  return '10X98765432'[sum % 11]!;
}

// ------------------------------------------------------------------ case specifications

type Scenario =
  | 'NEW'
  | 'PLAIN'
  | 'DISPUTE_HOLD'
  | 'HARDSHIP_RELEASED'
  | 'REJECTED_PLAN'
  | 'CEASE'
  | 'PROPOSED_SETTLEMENT'
  | 'PROMISE_CALL'
  | 'PLAN_ACTIVE'
  | 'DEFERRAL_ACTIVE'
  | 'BROKEN_PROMISE_CALL'
  | 'BROKEN_PLAN'
  | 'VISIT'
  | 'VISIT_PROMISE'
  | 'VISIT_PLAN'
  | 'VISIT_PROMISE_BROKEN'
  | 'RESOLVED_DIRECT'
  | 'RESOLVED_PROMISE'
  | 'RESOLVED_PLAN'
  | 'RESOLVED_CREDIT'
  | 'CLOSED_SETTLED'
  | 'CLOSED_WRITTEN_OFF'
  | 'CLOSED_RETURNED'
  | 'CLOSED_DECEASED'
  | 'CLOSED_BANKRUPTCY';

interface VisitSpec {
  status: VisitStatus;
  outcome?: VisitOutcome;
  decision?: VisitDecision;
}

interface Spec {
  stage: CaseStage;
  status: CaseStatus;
  scenario: Scenario;
  dpd: readonly [number, number];
  us?: boolean;
  visit?: VisitSpec;
}

function caseSpecs(): Spec[] {
  const out: Spec[] = [];
  const add = (n: number, s: Spec) => {
    for (let i = 0; i < n; i++) out.push(s);
  };
  const E = 'EARLY_REMINDER', F = 'FIELD_VISIT', L = 'LEGAL';
  // Early reminder: 80.
  add(4, { stage: E, status: 'OPEN', scenario: 'NEW', dpd: [1, 2] });
  add(1, { stage: E, status: 'OPEN', scenario: 'DISPUTE_HOLD', dpd: [25, 50] });
  add(1, { stage: E, status: 'OPEN', scenario: 'HARDSHIP_RELEASED', dpd: [75, 90] });
  add(1, { stage: E, status: 'OPEN', scenario: 'REJECTED_PLAN', dpd: [30, 60] });
  add(1, { stage: E, status: 'OPEN', scenario: 'CEASE', dpd: [25, 45], us: true });
  add(4, { stage: E, status: 'OPEN', scenario: 'PLAIN', dpd: [5, 85], us: true });
  add(20, { stage: E, status: 'OPEN', scenario: 'PLAIN', dpd: [3, 30] });
  add(12, { stage: E, status: 'OPEN', scenario: 'PLAIN', dpd: [31, 60] });
  add(6, { stage: E, status: 'OPEN', scenario: 'PLAIN', dpd: [61, 90] });
  add(2, { stage: E, status: 'PROMISED', scenario: 'PROMISE_CALL', dpd: [12, 60], us: true });
  add(6, { stage: E, status: 'PROMISED', scenario: 'PROMISE_CALL', dpd: [8, 30] });
  add(2, { stage: E, status: 'PROMISED', scenario: 'PROMISE_CALL', dpd: [31, 90] });
  add(5, { stage: E, status: 'PROMISED', scenario: 'PLAN_ACTIVE', dpd: [45, 90] });
  add(3, { stage: E, status: 'PROMISED', scenario: 'DEFERRAL_ACTIVE', dpd: [25, 90] });
  add(5, { stage: E, status: 'BROKEN_PROMISE', scenario: 'BROKEN_PROMISE_CALL', dpd: [18, 30] });
  add(3, { stage: E, status: 'BROKEN_PROMISE', scenario: 'BROKEN_PROMISE_CALL', dpd: [31, 60] });
  add(4, { stage: E, status: 'BROKEN_PROMISE', scenario: 'BROKEN_PLAN', dpd: [70, 90] });
  // Field visit: 60.
  const fv = [61, 260] as const;
  add(4, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'PREPARING' } });
  add(5, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'SCHEDULED' } });
  add(2, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'IN_PROGRESS' } });
  add(1, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'COMPLETED', outcome: 'NOT_AT_HOME' } });
  add(1, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'COMPLETED', outcome: 'REFUSED' } });
  add(1, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'COMPLETED', outcome: 'CONSENT_WITHDRAWN' } });
  add(1, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'REPORTED', outcome: 'PLAN_AGREED' } });
  add(1, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'REPORTED', outcome: 'REFUSED' } });
  add(1, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'REPORTED', outcome: 'NOT_AT_HOME' } });
  add(2, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'DECIDED', outcome: 'REFUSED', decision: 'CONTINUE' } });
  add(1, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'DECIDED', outcome: 'NOT_AT_HOME', decision: 'CONTINUE' } });
  add(3, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'DECIDED', outcome: 'REFUSED', decision: 'GRACE_PERIOD' } });
  add(3, { stage: F, status: 'OPEN', scenario: 'VISIT', dpd: fv, visit: { status: 'CANCELLED' } });
  add(4, { stage: F, status: 'OPEN', scenario: 'PLAIN', dpd: fv });
  add(3, { stage: F, status: 'PROMISED', scenario: 'VISIT_PROMISE', dpd: fv, visit: { status: 'DECIDED', outcome: 'PROMISE_TO_PAY', decision: 'CONTINUE' } });
  add(2, { stage: F, status: 'PROMISED', scenario: 'VISIT_PROMISE', dpd: fv, visit: { status: 'REPORTED', outcome: 'PROMISE_TO_PAY' } });
  add(1, { stage: F, status: 'PROMISED', scenario: 'VISIT_PROMISE', dpd: fv, visit: { status: 'COMPLETED', outcome: 'PROMISE_TO_PAY' } });
  add(5, { stage: F, status: 'PROMISED', scenario: 'VISIT_PLAN', dpd: fv, visit: { status: 'DECIDED', outcome: 'PLAN_AGREED', decision: 'CONTINUE' } });
  add(7, { stage: F, status: 'PROMISED', scenario: 'PROMISE_CALL', dpd: fv });
  add(5, { stage: F, status: 'BROKEN_PROMISE', scenario: 'VISIT_PROMISE_BROKEN', dpd: [90, 260], visit: { status: 'DECIDED', outcome: 'PROMISE_TO_PAY', decision: 'CONTINUE' } });
  add(4, { stage: F, status: 'BROKEN_PROMISE', scenario: 'BROKEN_PROMISE_CALL', dpd: fv });
  add(3, { stage: F, status: 'BROKEN_PROMISE', scenario: 'BROKEN_PLAN', dpd: [120, 260] });
  // Legal: 35. A visit decided "escalate to legal" precedes the stage change (CN debtors).
  const lg = [140, 400] as const;
  const escalation: VisitSpec = { status: 'DECIDED', outcome: 'REFUSED', decision: 'ESCALATE_TO_LEGAL' };
  add(19, { stage: L, status: 'OPEN', scenario: 'PLAIN', dpd: lg, visit: escalation });
  add(1, { stage: L, status: 'OPEN', scenario: 'PROPOSED_SETTLEMENT', dpd: [200, 400], visit: escalation });
  add(2, { stage: L, status: 'OPEN', scenario: 'PLAIN', dpd: lg, us: true });
  add(4, { stage: L, status: 'PROMISED', scenario: 'PROMISE_CALL', dpd: lg, visit: escalation });
  add(3, { stage: L, status: 'PROMISED', scenario: 'PLAN_ACTIVE', dpd: [200, 400], visit: escalation });
  add(3, { stage: L, status: 'BROKEN_PROMISE', scenario: 'BROKEN_PROMISE_CALL', dpd: [180, 400], visit: escalation });
  add(3, { stage: L, status: 'BROKEN_PROMISE', scenario: 'BROKEN_PLAN', dpd: [250, 400], visit: escalation });
  // Resolved: 35.
  add(16, { stage: 'RESOLVED', status: 'PAID', scenario: 'RESOLVED_DIRECT', dpd: [10, 400] });
  add(2, { stage: 'RESOLVED', status: 'PAID', scenario: 'RESOLVED_DIRECT', dpd: [15, 200], us: true });
  add(10, { stage: 'RESOLVED', status: 'PAID', scenario: 'RESOLVED_PROMISE', dpd: [12, 400] });
  add(6, { stage: 'RESOLVED', status: 'PAID', scenario: 'RESOLVED_PLAN', dpd: [140, 400] });
  add(1, { stage: 'RESOLVED', status: 'PAID', scenario: 'RESOLVED_CREDIT', dpd: [20, 200] });
  // Closed: 30.
  add(7, { stage: 'CLOSED', status: 'PAID', scenario: 'CLOSED_SETTLED', dpd: [60, 400] });
  add(1, { stage: 'CLOSED', status: 'PAID', scenario: 'CLOSED_SETTLED', dpd: [60, 300], us: true });
  add(9, { stage: 'CLOSED', status: 'WRITTEN_OFF', scenario: 'CLOSED_WRITTEN_OFF', dpd: [210, 400] });
  add(1, { stage: 'CLOSED', status: 'WRITTEN_OFF', scenario: 'CLOSED_WRITTEN_OFF', dpd: [210, 400], us: true });
  add(5, { stage: 'CLOSED', status: 'OPEN', scenario: 'CLOSED_RETURNED', dpd: [40, 300] });
  add(4, { stage: 'CLOSED', status: 'OPEN', scenario: 'CLOSED_DECEASED', dpd: [45, 400] });
  add(3, { stage: 'CLOSED', status: 'OPEN', scenario: 'CLOSED_BANKRUPTCY', dpd: [120, 400] });
  return out;
}

// ------------------------------------------------------------------ the builder

interface ContactPointInfo {
  id: string;
  kind: ContactPointKind;
  value: string;
  /** Day from which the point is marked do-not-contact. */
  dncDay?: number;
  /** Day a call reached someone else on this number. */
  wrongDay?: number;
  row: Prisma.ContactPointCreateManyInput;
}

interface Period {
  from: Date;
  to: Date | null;
  agencyCode: 'NORTH' | 'SOUTH' | null;
  collector: Staff | null;
}

interface PendingReminder {
  row: Prisma.ReminderCreateManyInput;
  template: 'overdue' | 'promise_due' | 'instalment_due';
  /** The amount the message states, when it is not the balance at the time. */
  amount?: bigint;
  dueDate?: string;
}

/** One case in the making. */
interface C {
  i: number;
  spec: Spec;
  id: string;
  ref: string;
  debtorId: string;
  accountId: string;
  fullName: string;
  tz: string;
  lang: Language;
  jurisdiction: Jurisdiction;
  currency: string;
  maskedId: string;
  last4: string;
  product: string;
  creditLimit: bigint;
  mobile: ContactPointInfo;
  home?: ContactPointInfo;
  work?: ContactPointInfo;
  email?: ContactPointInfo;
  homeAddress: Prisma.AddressCreateManyInput;
  dueDate: Date;
  dueStr: string;
  dpd: number;
  /** The debtor-local day number of today (the due date is day 0). */
  today: number;
  /** The last day whose contact hours are wholly past. */
  last: number;
  openedAt: Date;
  original: { principal: bigint; interest: bigint; fees: bigint };
  principal: bigint;
  interest: bigint;
  fees: bigint;
  credit: bigint;
  stage: CaseStage;
  status: CaseStatus;
  version: number;
  closedAt: Date | null;
  closeReason: CloseReason | null;
  periods: Period[];
  /** Placement wanted for the case: the agency, and who within it (null: unassigned). */
  placement: { agency: 'NORTH' | 'SOUTH' | null; collector: Staff | null; recalledFrom?: 'NORTH' | 'SOUTH' };
  assignDay: number | null;
  /** No contact after this day (cease, dispute, end of the case). */
  contactStop: number;
  quiet: [number, number][];
  busy: Set<number>;
  events: Prisma.CaseEventCreateManyInput[];
  payments: { at: Date; amount: bigint }[];
  reminders: PendingReminder[];
  reminderSeq: number;
  /** Channel and day of each automatic reminder already written. */
  reminderDays: Set<string>;
  paymentSeq: number;
  evidenceSeq: number;
}

class DemoBuilder {
  private readonly rng = new Rng(PRNG_SEED);
  private readonly ids = new Uuid7();
  private readonly rows: DemoRows = {
    agencies: [], inspections: [], users: [], debtors: [], contactPoints: [], addresses: [], accounts: [], cases: [],
    placements: [], events: [], buckets: [], holds: [], reminders: [], attempts: [], consents: [], visits: [],
    participants: [], evidence: [], custody: [], promises: [], plans: [], instalments: [], payments: [], allocations: [],
    audit: [], dossiers: [], files: new Map(), prints: [],
  };
  private readonly staff = new Map<StaffKey, Staff>();
  private readonly agencyIds = new Map<'NORTH' | 'SOUTH', string>();
  private readonly todayBank: Date;
  private readonly usedNames = new Set<string>();
  private readonly usedIds = new Set<string>();
  private failedReminderDone = 0;
  private blockedReminderDone = false;
  private supersessionDone = false;

  constructor(
    private readonly now: Date,
    private readonly pii: Pii,
    private readonly existingUsers: Map<string, string>,
  ) {
    this.todayBank = parseDateOnly(localDate(now, BANK_TIME_ZONE));
  }

  build(): DemoRows {
    this.buildOrganisation();
    const specs = caseSpecs();
    this.rng.shuffle(specs);
    const drawn = specs.map((spec) => ({ spec, dpd: this.rng.int(spec.dpd[0], spec.dpd[1]) }));
    // Oldest first: case numbers then follow the order in which the cases opened.
    drawn.sort((a, b) => b.dpd - a.dpd);
    const cases = drawn.map(({ spec, dpd }, i) => this.newCase(i, spec, dpd));
    for (const c of cases) this.tell(c);
    this.audit(cases);
    this.stampAgencyEras(cases);
    return this.rows;
  }

  /** Each record keeps the agency that held its case when it was made: an agency never sees another's era. */
  private stampAgencyEras(cases: C[]): void {
    const byId = new Map(cases.map((c) => [c.id, c]));
    const stamp = (rows: readonly object[], when: (r: any) => Date) => {
      for (const r of rows as any[]) {
        const c = byId.get(r.caseId);
        if (c) r.agencyId = this.agencyIdAt(c, new Date(when(r)));
      }
    };
    stamp(this.rows.holds, (r) => r.startsAt);
    stamp(this.rows.reminders, (r) => r.createdAt ?? r.scheduledAt);
    stamp(this.rows.attempts, (r) => r.attemptedAt);
    stamp(this.rows.consents, (r) => r.recordedAt);
    stamp(this.rows.visits, (r) => r.createdAt);
    stamp(this.rows.evidence, (r) => r.uploadedAt);
    stamp(this.rows.prints, (r) => r.at);
    stamp(this.rows.promises, (r) => r.createdAt);
    stamp(this.rows.plans, (r) => r.proposedAt);
    stamp(this.rows.payments, (r) => r.receivedAt);
    // Derived records: their case through what they hang off; instalments and allocation lines are of their plan's and payment's era.
    const caseOf = (rows: readonly object[]) => new Map((rows as any[]).map((r) => [r.id as string, r]));
    const visits = caseOf(this.rows.visits);
    const evidence = caseOf(this.rows.evidence);
    const plans = caseOf(this.rows.plans);
    const payments = caseOf(this.rows.payments);
    for (const r of this.rows.participants as any[]) {
      const c = byId.get(visits.get(r.visitId)?.caseId);
      if (c) r.agencyId = this.agencyIdAt(c, new Date(r.credentialShownAt ?? visits.get(r.visitId).windowStart ?? visits.get(r.visitId).createdAt));
    }
    for (const r of this.rows.custody as any[]) {
      const c = byId.get(evidence.get(r.evidenceId)?.caseId);
      if (c) r.agencyId = this.agencyIdAt(c, new Date(r.at));
    }
    for (const r of this.rows.instalments as any[]) r.agencyId = plans.get(r.planId)?.agencyId ?? null;
    for (const r of this.rows.allocations as any[]) r.agencyId = payments.get(r.paymentId)?.agencyId ?? null;
    for (const c of this.rows.cases as any[]) c.attentionRank = c.status === 'BROKEN_PROMISE' ? 0 : 1;
  }

  // ---------------------------------------------------------------- organisation

  private staffOf(key: StaffKey): Staff {
    const s = this.staff.get(key);
    if (!s) throw new Error(`no staff ${key}`);
    return s;
  }

  private buildOrganisation(): void {
    const orgSince = new Date(this.now.getTime() - 730 * DAY_MS);
    for (const a of AGENCIES) {
      const id = this.ids.next(orgSince);
      this.agencyIds.set(a.code, id);
      this.rows.agencies.push({
        id,
        code: a.code,
        name: a.name,
        licenseNumber: a.licenseNumber,
        status: 'ACTIVE',
        dataProcessingContractRef: a.dataProcessingContractRef,
        createdAt: orgSince,
        updatedAt: orgSince,
      });
      const inspectedOn = addDays(this.todayBank, -a.inspection.daysAgo);
      this.rows.inspections.push({
        id: this.ids.next(inspectedOn),
        agencyId: id,
        inspectedOn,
        inspector: '钱文静 (Example Bank collections compliance)',
        result: a.inspection.result,
        findings: a.inspection.findings,
        createdAt: addDays(inspectedOn, 2),
      });
    }
    for (const s of STAFF) {
      const agencyId = s.agency ? this.agencyIds.get(s.agency)! : null;
      const credentialExpiresOn = s.credential ? addDays(this.todayBank, s.credential.expiresInDays) : null;
      const existing = this.existingUsers.get(s.email);
      const id = existing ?? this.ids.next(orgSince);
      this.staff.set(s.key, {
        key: s.key,
        id,
        fullName: s.fullName,
        role: s.role,
        agencyId,
        credentialNumber: s.credential?.number ?? null,
        credentialExpiresOn,
      });
      if (existing) continue;
      this.rows.users.push({
        id,
        email: s.email,
        fullName: s.fullName,
        role: s.role,
        agencyId,
        credentialNumber: s.credential?.number ?? null,
        credentialExpiresOn,
        active: true,
        createdAt: orgSince,
        updatedAt: orgSince,
      });
    }
  }

  // ---------------------------------------------------------------- a debtor and a case

  private newCase(i: number, spec: Spec, dpd: number): C {
    const r = this.rng;
    const us = spec.us === true;
    const ref = `CUST-${String(i + 1).padStart(6, '0')}`;
    const dueDate = dueDateForDaysPastDue(dpd, this.now);
    const dueStr = dateOnly(dueDate);
    const openedDay1 = dateOnly(addDays(dueDate, 1));

    let fullName: string, gender: 'M' | 'F', pinyin: [string, string];
    do {
      if (us) {
        const [first, g] = r.pick(US_FIRST);
        const lastName = r.pick(US_LAST);
        fullName = `${first} ${lastName}`;
        gender = g;
        pinyin = [first.toLowerCase(), lastName.toLowerCase()];
      } else {
        const [sn, spy] = r.pick(SURNAMES);
        const [gn, gpy, g] = r.pick(GIVEN_NAMES);
        fullName = sn + gn;
        gender = g;
        pinyin = [gpy, spy];
      }
    } while (this.usedNames.has(fullName));
    this.usedNames.add(fullName);

    const cnCity = r.pick(CN_CITIES);
    const district = r.pick(cnCity.districts);
    const usCity = r.pick(US_CITIES);
    const tz = us ? usCity.timeZone : 'Asia/Shanghai';
    const openedAt = this.openingTime(openedDay1, tz);
    const debtorId = this.ids.next(openedAt);
    const accountId = this.ids.next(openedAt);
    const id = this.ids.next(openedAt);

    // A resident ID number: division code, birth date, sequence (odd for men), check digit.
    let nationalId: string;
    do {
      const division = r.chance(0.7) ? district.divisionCode : r.pick(BIRTH_DIVISIONS);
      const birthYear = r.int(1965, 2001);
      const birth = `${birthYear}${String(r.int(1, 12)).padStart(2, '0')}${String(r.int(1, 28)).padStart(2, '0')}`;
      const seq = r.int(0, 49) * 10 + r.int(0, 4) * 2 + (gender === 'M' ? 1 : 0);
      const first17 = division + birth + String(seq).padStart(3, '0');
      nationalId = first17 + idCheckDigit(first17);
    } while (this.usedIds.has(nationalId));
    this.usedIds.add(nationalId);
    const sealed = this.pii.sealNationalId(nationalId);

    this.rows.debtors.push({
      id: debtorId,
      externalRef: ref,
      fullName,
      ...sealed,
      timeZone: tz,
      jurisdiction: us ? 'US' : 'CN',
      language: us ? 'EN' : 'ZH_CN',
      ceaseContact: false,
      createdAt: openedAt,
      updatedAt: openedAt,
    });

    // Contact points.
    const cp = (kind: ContactPointKind, value: string, extra: Partial<Prisma.ContactPointCreateManyInput> = {}): ContactPointInfo => {
      const row: Prisma.ContactPointCreateManyInput = {
        id: this.ids.next(openedAt),
        debtorId,
        kind,
        party: 'DEBTOR',
        value,
        primary: false,
        doNotContact: false,
        createdAt: openedAt,
        ...extra,
      };
      this.rows.contactPoints.push(row);
      return { id: row.id!, kind, value, row };
    };
    const cnLandline = () => `+86${cnCity.areaCode}${r.int(5, 8)}${r.digits(7)}`;
    const usPhone = () => `+1${usCity.areaCode}55501${r.digits(2)}`;
    const mobile = cp('MOBILE', us ? usPhone() : `+86${r.pick(MOBILE_PREFIXES)}${r.digits(8)}`, { primary: true });
    const home = us ? (r.chance(0.4) ? cp('HOME_PHONE', usPhone()) : undefined) : r.chance(0.5) ? cp('HOME_PHONE', cnLandline()) : undefined;
    const work = r.chance(0.35) ? cp('WORK_PHONE', us ? usPhone() : cnLandline()) : undefined;
    const emailDomain = r.pick(['example.com', 'example.net', 'example.org']);
    const email =
      us || r.chance(0.4) ? cp('EMAIL', `${pinyin[0]}.${pinyin[1]}${r.int(1, 99)}@${emailDomain}`) : undefined;
    // Emergency contacts: a third party, never told of the debt, never contacted by the seed.
    if (!us && i % 90 === 13) {
      const relation = r.pick(['spouse', 'sibling', 'parent', 'colleague']);
      cp('MOBILE', `+86${r.pick(MOBILE_PREFIXES)}${r.digits(8)}`, { party: 'THIRD_PARTY', relation });
    }

    // Addresses.
    let homeAddress: Prisma.AddressCreateManyInput;
    if (us) {
      homeAddress = {
        id: this.ids.next(openedAt),
        debtorId,
        kind: 'HOME',
        line1: `${r.int(12, 4890)} ${r.pick(US_STREETS)}`,
        line2: r.chance(0.5) ? `Apt ${r.int(1, 24)}${r.pick(['A', 'B', 'C', 'D'])}` : null,
        city: usCity.city,
        region: usCity.region,
        postalCode: r.pick(usCity.zips),
        country: 'US',
        createdAt: openedAt,
      };
    } else {
      homeAddress = {
        id: this.ids.next(openedAt),
        debtorId,
        kind: 'HOME',
        line1: `${district.name}${r.pick(cnCity.streets)}${r.int(1, 899)}号${r.pick(COMPOUNDS)}${r.int(1, 30)}栋${r.int(1, 4)}单元${r.int(2, 32)}0${r.int(1, 6)}室`,
        line2: null,
        city: cnCity.city,
        region: cnCity.region,
        postalCode: district.postalCode,
        country: 'CN',
        createdAt: openedAt,
      };
    }
    this.rows.addresses.push(homeAddress);
    if (!us && r.chance(0.4)) {
      const wd = r.pick(cnCity.districts);
      this.rows.addresses.push({
        id: this.ids.next(openedAt),
        debtorId,
        kind: 'WORK',
        line1: `${wd.name}${r.pick(cnCity.streets)}${r.int(1, 899)}号${r.pick(TOWERS)}${r.int(3, 38)}层`,
        city: cnCity.city,
        region: cnCity.region,
        postalCode: wd.postalCode,
        country: 'CN',
        createdAt: openedAt,
      });
    }
    if (r.chance(0.1)) {
      this.rows.addresses.push({
        ...homeAddress,
        id: this.ids.next(openedAt),
        kind: 'MAILING',
        line1: us ? `PO Box ${r.int(100, 9999)}` : `${district.name}${r.pick(cnCity.streets)}邮政支局 信箱${r.int(100, 999)}号`,
        line2: null,
      });
    }

    // Card account and the overdue amounts (minor units).
    const [product, limLo, limHi] = r.pick(us ? US_PRODUCTS : CN_PRODUCTS);
    const creditLimit = BigInt(r.int(limLo / 1000, limHi / 1000) * 1000) * 100n;
    const principal = BigInt(r.int(Math.floor(Number(creditLimit) / 12), Number(creditLimit)));
    const days = BigInt(Math.min(dpd, 360));
    // CN: 0.05% a day; US: 24% a year.
    const interest = us ? (principal * 24n * days) / 36500n : (principal * 5n * days) / 10000n;
    const months = BigInt(Math.min(6, Math.ceil(dpd / 30)));
    const fees = us ? 3200n * months : BigInt(Math.max(1000, Math.round(Number(principal) / 200))) * months / 2n + 500n;
    const last4 = r.digits(4);
    this.rows.accounts.push({
      id: accountId,
      externalRef: `ACCT-${8_810_000_000 + i * 1237 + r.int(0, 999)}`,
      debtorId,
      cardLast4: last4,
      product,
      creditLimit,
      currency: us ? 'USD' : 'CNY',
      openedOn: parseDateOnly(`${r.int(2014, 2023)}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`),
      createdAt: openedAt,
    });

    const today = daysBetween(dueStr, localDate(this.now, tz));
    const c: C = {
      i, spec, id, ref, debtorId, accountId, fullName, tz,
      lang: us ? 'EN' : 'ZH_CN',
      jurisdiction: us ? 'US' : 'CN',
      currency: us ? 'USD' : 'CNY',
      maskedId: sealed.nationalIdMasked,
      last4, product, creditLimit, mobile, home, work, email, homeAddress,
      dueDate, dueStr, dpd, today, last: today, openedAt,
      original: { principal, interest, fees },
      principal, interest, fees, credit: 0n,
      stage: 'EARLY_REMINDER', status: 'OPEN', version: 1, closedAt: null, closeReason: null,
      periods: [], placement: { agency: null, collector: null }, assignDay: null,
      contactStop: Number.POSITIVE_INFINITY, quiet: [], busy: new Set(), events: [], payments: [],
      reminders: [], reminderSeq: 0, reminderDays: new Set(), paymentSeq: 0, evidenceSeq: 0,
    };
    c.last = this.at(c, today, 21, 0) < this.now ? today : today - 1;

    // Do-not-contact on one of the debtor's other points, from some day on.
    if (i % 37 === 5 || i % 41 === 7) {
      const target = work ?? home ?? email;
      if (target) {
        target.dncDay = r.int(2, Math.max(2, c.last - 1));
        const at = this.rt(c, target.dncDay);
        target.row.doNotContact = true;
        target.row.doNotContactAt = at;
        target.row.doNotContactReason =
          target.kind === 'WORK_PHONE'
            ? 'Debtor asked not to be called at work (employer does not allow personal calls).'
            : target.kind === 'EMAIL'
              ? 'Debtor withdrew consent to e-mail (PIPL art. 15).'
              : 'Debtor asked not to be called on the home line.';
      }
    }
    return c;
  }

  /** Day 1 at 09:00 local, or a little before now when the case opened today. */
  private openingTime(day1: string, tz: string): Date {
    const nine = wallTime(day1, 9, 0, tz);
    return nine < this.now ? nine : new Date(this.now.getTime() - 20 * MINUTE);
  }

  // ---------------------------------------------------------------- time helpers for a case

  private dayStr(c: C, day: number): string {
    return dateOnly(addDays(c.dueDate, day));
  }
  private dayDate(c: C, day: number): Date {
    return addDays(c.dueDate, day);
  }
  /** The debtor-local day number of an instant. */
  private dayOf(c: C, at: Date): number {
    return daysBetween(c.dueStr, zoneDate(at, c.tz));
  }
  private at(c: C, day: number, hour: number, minute = 0): Date {
    return wallTime(this.dayStr(c, day), hour, minute, c.tz);
  }
  /** A random time in business hours on a day. */
  private rt(c: C, day: number, fromHour = 9, toHour = 19): Date {
    return this.at(c, day, this.rng.int(fromHour, toHour), this.rng.int(0, 59));
  }
  private plus(at: Date, minutes: number): Date {
    return new Date(at.getTime() + minutes * MINUTE);
  }
  private canContact(c: C, day: number): boolean {
    if (day > c.contactStop) return false;
    return !c.quiet.some(([a, b]) => day >= a && day <= b);
  }

  // ---------------------------------------------------------------- money helpers

  private balance(c: C): bigint {
    return c.principal + c.interest + c.fees;
  }
  private readonly moneyText = new Map<string, string>();
  private money(c: C, amount: bigint): string {
    const key = `${c.currency}${c.lang}${amount}`;
    let text = this.moneyText.get(key);
    if (text === undefined) {
      text = formatMoney({ minorUnits: amount, currency: c.currency }, c.lang === 'ZH_CN' ? 'zh-CN' : 'en-US');
      this.moneyText.set(key, text);
    }
    return text;
  }
  private moneyJson(c: C, amount: bigint): JsonObject {
    return { minorUnits: Number(amount), currency: c.currency, formatted: this.money(c, amount) };
  }
  /** Takes a payment off the balance: fees, then interest, then principal; returns what is left over. */
  private reduce(c: C, amount: bigint): bigint {
    let rest = amount;
    const take = (owed: bigint) => {
      const t = rest < owed ? rest : owed;
      rest -= t;
      return owed - t;
    };
    c.fees = take(c.fees);
    c.interest = take(c.interest);
    c.principal = take(c.principal);
    return rest;
  }
  /** A round amount (whole yuan/dollars) of a share of the balance. */
  private share(c: C, pctLo: number, pctHi: number): bigint {
    const pct = BigInt(this.rng.int(pctLo, pctHi));
    const v = (this.balance(c) * pct) / 100n;
    const rounded = (v / 100n) * 100n;
    return rounded > 0n ? rounded : v;
  }

  // ---------------------------------------------------------------- placements and actors

  private periodAt(c: C, at: Date): Period | undefined {
    return c.periods.find((p) => p.from <= at && (p.to === null || at < p.to));
  }
  private agencyIdAt(c: C, at: Date): string | null {
    const p = this.periodAt(c, at);
    return p?.agencyCode ? this.agencyIds.get(p.agencyCode)! : null;
  }
  /** Who works the case at a time: its collector, else the agency's manager; null when nobody. */
  private workerAt(c: C, at: Date): Staff | null {
    const p = this.periodAt(c, at);
    if (!p) return null;
    if (p.collector) return p.collector;
    if (p.agencyCode === 'NORTH') return this.staffOf('northManager');
    if (p.agencyCode === 'SOUTH') return this.staffOf('southManager');
    return null;
  }
  /** The worker, or someone who may act for the holder of the case. */
  private actorAt(c: C, at: Date): Staff {
    return this.workerAt(c, at) ?? this.staffOf('supervisor');
  }
  /** The two collectors of a visit: the case's worker and a colleague with a valid credential. */
  private visitTeam(c: C, at: Date): [Staff, Staff] {
    const p = this.periodAt(c, at);
    if (p?.agencyCode === 'NORTH') {
      const lead = p.collector?.key === 'northAgent2' ? this.staffOf('northAgent2') : this.staffOf('northAgent');
      return [lead, lead.key === 'northAgent' ? this.staffOf('northAgent2') : this.staffOf('northAgent')];
    }
    if (p?.agencyCode === 'SOUTH') return [this.staffOf('southAgent'), this.staffOf('southManager')];
    const lead = p?.collector?.key === 'collector2' ? this.staffOf('collector2') : this.staffOf('collector');
    return [lead, lead.key === 'collector' ? this.staffOf('collector2') : this.staffOf('collector')];
  }

  // ---------------------------------------------------------------- the timeline

  private event(
    c: C,
    type: string,
    at: Date,
    actor: Staff | null,
    summary: string,
    data: JsonObject = {},
  ): void {
    c.events.push({
      id: this.ids.next(at),
      caseId: c.id,
      type,
      actorId: actor?.id ?? null,
      actorLabel: actor?.fullName ?? 'system',
      agencyId: this.agencyIdAt(c, at),
      occurredAt: at,
      summary,
      data,
    });
  }

  private changeStage(c: C, to: CaseStage, at: Date, actor: Staff | null, reason: string): void {
    const from = c.stage;
    c.stage = to;
    c.version++;
    this.event(c, 'STAGE_CHANGED', at, actor, `Stage ${from} → ${to}: ${reason}`, { from, to, reason });
  }

  private changeStatus(c: C, to: CaseStatus): void {
    c.status = to;
    c.version++;
  }

  // ---------------------------------------------------------------- the story of one case

  private tell(c: C): void {
    const s = c.spec;
    this.event(
      c,
      'CASE_OPENED',
      c.openedAt,
      null,
      `Case opened: card ending ${c.last4} (${c.product}) overdue ${this.money(c, this.balance(c))}.`,
      {
        principal: this.moneyJson(c, c.principal),
        interest: this.moneyJson(c, c.interest),
        fees: this.moneyJson(c, c.fees),
        dueDate: c.dueStr,
      },
    );
    this.decidePlacement(c);
    this.place(c);
    // The first reminder: the system's SMS on the first day overdue, in contact hours (scheduled
    // for 09:05 when the case opened earlier today).
    const nineOFive = this.at(c, 1, 9, 5);
    this.reminder(c, 'SMS', c.openedAt < nineOFive ? nineOFive : this.plus(c.openedAt, 5), 'overdue');

    switch (s.scenario) {
      case 'NEW':
        break;
      case 'PLAIN':
        this.storyPlain(c);
        break;
      case 'DISPUTE_HOLD':
        this.storyDisputeHold(c);
        break;
      case 'HARDSHIP_RELEASED':
        this.storyHardship(c);
        break;
      case 'REJECTED_PLAN':
        this.storyRejectedPlan(c);
        break;
      case 'CEASE':
        this.storyCease(c);
        break;
      case 'PROPOSED_SETTLEMENT':
        this.storyProposedSettlement(c);
        break;
      case 'PROMISE_CALL':
        this.storyPromiseCall(c);
        break;
      case 'PLAN_ACTIVE':
        this.storyPlanActive(c);
        break;
      case 'DEFERRAL_ACTIVE':
        this.storyDeferral(c);
        break;
      case 'BROKEN_PROMISE_CALL':
        this.storyBrokenPromise(c);
        break;
      case 'BROKEN_PLAN':
        this.storyBrokenPlan(c);
        break;
      case 'VISIT':
      case 'VISIT_PROMISE':
      case 'VISIT_PLAN':
      case 'VISIT_PROMISE_BROKEN':
        this.storyFieldVisit(c);
        break;
      case 'RESOLVED_DIRECT':
      case 'RESOLVED_CREDIT':
        this.storyResolvedDirect(c);
        break;
      case 'RESOLVED_PROMISE':
        this.storyResolvedPromise(c);
        break;
      case 'RESOLVED_PLAN':
        this.storyResolvedPlan(c);
        break;
      case 'CLOSED_SETTLED':
        this.storySettled(c);
        break;
      case 'CLOSED_WRITTEN_OFF':
      case 'CLOSED_RETURNED':
      case 'CLOSED_DECEASED':
      case 'CLOSED_BANKRUPTCY':
        this.storyClosed(c);
        break;
    }
    if (c.stage !== s.stage || c.status !== s.status) {
      throw new Error(`demo case ${c.ref}: story ended at ${c.stage}/${c.status}, wanted ${s.stage}/${s.status}`);
    }
    this.finish(c);
  }

  // ---------------------------------------------------------------- placement

  private decidePlacement(c: C): void {
    const r = this.rng;
    const s = c.spec;
    if (s.scenario === 'NEW' || c.last < 1) {
      c.placement = { agency: null, collector: null };
      return;
    }
    const slot = s.scenario === 'CLOSED_RETURNED' ? 1 + (c.i % 2) : s.us ? 0 : c.i % 3;
    if (slot === 0) {
      const unassignedOk = (s.scenario === 'PLAIN' && s.stage === 'EARLY_REMINDER') || s.scenario === 'RESOLVED_DIRECT';
      const collector =
        unassignedOk && r.chance(0.4) ? null : r.chance(0.65) ? this.staffOf('collector') : this.staffOf('collector2');
      c.placement = { agency: null, collector };
      return;
    }
    const agency = slot === 1 ? 'NORTH' : 'SOUTH';
    const roll = r.next();
    const collector =
      roll < 0.5
        ? this.staffOf(agency === 'NORTH' ? 'northAgent' : 'southAgent')
        : roll < 0.7
          ? this.staffOf(agency === 'NORTH' ? 'northAgent2' : 'southAgent2')
          : null;
    c.placement = { agency, collector };
    // A few open cases came from the other agency, recalled earlier.
    const open = s.stage !== 'RESOLVED' && s.stage !== 'CLOSED';
    if (open && !s.us && c.dpd >= 80 && c.i % 11 === 4) {
      c.placement.recalledFrom = agency === 'NORTH' ? 'SOUTH' : 'NORTH';
    }
  }

  private placementEnd(from: Date): Date {
    const byTerm = addDays(from, 365);
    const soonest = addDays(this.now, this.rng.int(45, 200));
    return byTerm > soonest ? byTerm : soonest;
  }

  private place(c: C): void {
    const r = this.rng;
    const { agency, collector, recalledFrom } = c.placement;
    if (!agency && !collector) return;
    const supervisor = this.staffOf('supervisor');
    const day = Math.min(r.int(1, 4), c.last);
    c.assignDay = day;
    let from = day === 1 ? this.plus(c.openedAt, r.int(25, 55)) : this.rt(c, day, 9, 11);

    if (recalledFrom) {
      // Early, before any field work: the visits of a case belong to its current agency.
      const recallDay = r.int(Math.min(20, c.last - 40), Math.min(40, c.last - 40));
      const recallAt = this.rt(c, recallDay, 10, 16);
      const prevCollector = this.staffOf(recalledFrom === 'NORTH' ? 'northAgent' : 'southAgent');
      const reason = r.pick<RecallReason>(['PERFORMANCE', 'COMPLAINT', 'END_OF_PLACEMENT', 'AGENCY_REQUEST']);
      const note =
        reason === 'PERFORMANCE'
          ? 'No contact made in 30 days of placement.'
          : reason === 'COMPLAINT'
            ? 'Debtor complained about call frequency; moved to another agency pending review.'
            : reason === 'AGENCY_REQUEST'
              ? 'Agency asked to return the case (debtor moved out of its region).'
              : 'Placement term ended.';
      c.periods.push({ from, to: recallAt, agencyCode: recalledFrom, collector: prevCollector });
      this.rows.placements.push({
        id: this.ids.next(from),
        caseId: c.id,
        kind: 'AGENCY',
        agencyId: this.agencyIds.get(recalledFrom)!,
        collectorId: prevCollector.id,
        startsAt: from,
        endsAt: addDays(from, 90),
        endedAt: recallAt,
        recallReason: reason,
        recallNote: note,
        assignedById: supervisor.id,
        endedById: supervisor.id,
        createdAt: from,
      });
      this.event(c, 'CASE_ASSIGNED', from, supervisor, `Placed with ${agencyName(recalledFrom)}.`, {
        agency: recalledFrom,
      });
      this.event(c, 'CASE_ASSIGNED', this.plus(from, 60), this.staffOf(recalledFrom === 'NORTH' ? 'northManager' : 'southManager'), `Assigned within ${agencyName(recalledFrom)} to ${prevCollector.fullName}.`, {
        agency: recalledFrom,
        collector: prevCollector.fullName,
      });
      this.event(c, 'CASE_RECALLED', this.plus(recallAt, -1), supervisor, `Recalled from ${agencyName(recalledFrom)} (${reason}): ${note}`, {
        agency: recalledFrom,
        reason,
      });
      c.version += 3;
      from = this.plus(recallAt, 10);
    }

    const endsAt = this.placementEnd(from);
    c.periods.push({ from, to: null, agencyCode: agency, collector });
    this.rows.placements.push({
      id: this.ids.next(from),
      caseId: c.id,
      kind: agency ? 'AGENCY' : 'BANK',
      agencyId: agency ? this.agencyIds.get(agency)! : null,
      collectorId: collector?.id ?? null,
      startsAt: from,
      endsAt,
      endedAt: null,
      assignedById: supervisor.id,
      createdAt: from,
    });
    c.version++;
    if (agency) {
      this.event(c, 'CASE_ASSIGNED', from, supervisor, `Placed with ${agencyName(agency)} until ${dateOnly(endsAt)}.`, {
        agency,
      });
      if (collector) {
        const manager = this.staffOf(agency === 'NORTH' ? 'northManager' : 'southManager');
        this.event(c, 'CASE_ASSIGNED', this.plus(from, r.int(20, 90)), manager, `Assigned within ${agencyName(agency)} to ${collector.fullName}.`, {
          agency,
          collector: collector.fullName,
        });
        c.version++;
      }
    } else if (collector) {
      this.event(c, 'CASE_ASSIGNED', from, supervisor, `Assigned to ${collector.fullName} (bank collections).`, {
        collector: collector.fullName,
      });
    }
  }

  // ---------------------------------------------------------------- reminders and calls

  private reminder(
    c: C,
    channel: ContactChannel,
    at: Date,
    template: PendingReminder['template'],
    opts: { point?: ContactPointInfo; status?: ReminderStatus; amount?: bigint; dueDate?: string } = {},
  ): void {
    const point = opts.point ?? (channel === 'EMAIL' ? c.email : c.mobile);
    if (!point) return;
    const future = at > this.now;
    let status: ReminderStatus = opts.status ?? (future ? 'SCHEDULED' : 'DELIVERED');
    if (!future && !opts.status) {
      if (this.failedReminderDone < 2 && c.i % 37 === 11) {
        status = 'FAILED';
        this.failedReminderDone++;
      } else if (this.rng.chance(0.06)) status = 'SENT';
    }
    const n = ++c.reminderSeq;
    // The keys of the default templates (src/modules/contact/templates.ts).
    const templateKey = template === 'overdue' ? 'overdue-notice' : 'overdue-followup';
    const idempotencyKey = `demo:${c.ref}:${channel.toLowerCase()}:${n}`;
    const requestHash = sha256(
      JSON.stringify({ case: c.ref, contactPointId: point.id, channel, templateKey, scheduledAt: at.toISOString() }),
    );
    const sentAt = status === 'SENT' || status === 'DELIVERED' ? new Date(at.getTime() + 2_000) : null;
    const row: Prisma.ReminderCreateManyInput = {
      id: this.ids.next(at),
      caseId: c.id,
      contactPointId: point.id,
      channel,
      templateKey,
      language: c.lang,
      scheduledAt: at,
      status,
      idempotencyKey,
      requestHash,
      automatic: template === 'overdue',
      attempts: status === 'SCHEDULED' || status === 'CANCELLED' ? 0 : status === 'FAILED' ? 3 : 1,
      nextAttemptAt: status === 'FAILED' ? new Date(at.getTime() + 35 * MINUTE) : at,
      lastError: status === 'FAILED' ? 'Provider timeout after 3 attempts (gateway did not answer within 10 s).' : null,
      blockedRule: status === 'BLOCKED' ? 'DO_NOT_CONTACT' : null,
      providerMessageId: sentAt ? `db-${sha256(idempotencyKey).slice(0, 16)}` : null,
      sentAt,
      deliveredAt: status === 'DELIVERED' ? new Date(at.getTime() + 9_000) : null,
      // Written when the dunning job or the collector scheduled it: before it is due, never after now.
      createdAt: future ? new Date(this.now.getTime() - this.rng.int(5, 600) * MINUTE) : this.plus(at, -5),
    };
    c.reminders.push({ row, template, amount: opts.amount, dueDate: opts.dueDate });
    if (status === 'SCHEDULED' || status === 'CANCELLED') return;
    const attemptAt = sentAt ?? at;
    const outcome: ContactOutcome | null =
      status === 'DELIVERED' ? 'DELIVERED' : status === 'SENT' ? 'SENT' : status === 'FAILED' ? 'FAILED' : null;
    this.rows.attempts.push({
      id: this.ids.next(attemptAt),
      caseId: c.id,
      debtorId: c.debtorId,
      contactPointId: point.id,
      channel,
      direction: 'OUTBOUND',
      attemptedAt: attemptAt,
      status: status === 'BLOCKED' ? 'BLOCKED' : 'COMPLETED',
      outcome,
      connected: false,
      rule: status === 'BLOCKED' ? 'DO_NOT_CONTACT' : null,
      notes: status === 'BLOCKED' ? 'Refused by the contact policy: the address is marked do-not-contact.' : '',
      reminderId: row.id!,
      createdAt: attemptAt,
    });
    const what = channel === 'SMS' ? 'SMS reminder' : channel === 'EMAIL' ? 'E-mail reminder' : 'Reminder';
    const summary =
      status === 'DELIVERED'
        ? `${what} delivered to ${pointLabel(point)}.`
        : status === 'SENT'
          ? `${what} sent to ${pointLabel(point)}.`
          : status === 'FAILED'
            ? `${what} to ${pointLabel(point)} failed after 3 attempts.`
            : `${what} to ${pointLabel(point)} blocked: do-not-contact.`;
    this.event(
      c,
      status === 'FAILED' ? 'REMINDER_FAILED' : status === 'BLOCKED' ? 'REMINDER_BLOCKED' : 'REMINDER_SENT',
      attemptAt,
      null,
      summary,
      { channel, reminder: idempotencyKey },
    );
  }

  /** The automatic reminders of the case's buckets up to a day: SMS on entering each bucket, e-mail early on. */
  private routineReminders(c: C, untilDay: number): void {
    const smsDays = [15, 31, 61, 91, 181, 361];
    const until = Math.min(untilDay, c.last);
    const fresh = (channel: ContactChannel, d: number) => {
      const key = `${channel}:${d}`;
      if (c.reminderDays.has(key)) return false;
      c.reminderDays.add(key);
      return true;
    };
    for (const d of smsDays) {
      if (d > until || !this.canContact(c, d) || !fresh('SMS', d)) continue;
      this.reminder(c, 'SMS', this.at(c, d, 9, this.rng.int(0, 50)), 'overdue');
    }
    if (c.email) {
      for (const d of [3, 35]) {
        if (d > until || !this.canContact(c, d) || !fresh('EMAIL', d)) continue;
        const dnc = c.email.dncDay !== undefined && d >= c.email.dncDay;
        if (dnc) {
          if (this.blockedReminderDone) continue;
          this.blockedReminderDone = true;
          this.reminder(c, 'EMAIL', this.at(c, d, 10, this.rng.int(0, 50)), 'overdue', { status: 'BLOCKED' });
        } else {
          this.reminder(c, 'EMAIL', this.at(c, d, 10, this.rng.int(0, 50)), 'overdue');
        }
      }
    }
  }

  /** The next automatic SMS, scheduled for tomorrow morning. */
  private scheduleNext(c: C): void {
    if (c.contactStop < Number.POSITIVE_INFINITY || !this.canContact(c, c.today + 1)) return;
    this.reminder(c, 'SMS', this.at(c, c.today + 1, 9, this.rng.int(0, 59)), 'overdue');
  }

  private callPoint(c: C, day: number): ContactPointInfo {
    const usable = [c.home, c.work].filter(
      (p): p is ContactPointInfo =>
        p !== undefined && (p.dncDay === undefined || day < p.dncDay) && (p.wrongDay === undefined || day <= p.wrongDay),
    );
    return usable.length > 0 && this.rng.chance(0.25) ? this.rng.pick(usable) : c.mobile;
  }

  /** One call. Connected outcomes are conversations with the debtor. */
  private call(
    c: C,
    at: Date,
    outcome: ContactOutcome,
    notes: string,
    point: ContactPointInfo = c.mobile,
    actor: Staff | null = null,
  ): string {
    const who = actor ?? this.actorAt(c, at);
    const connected = CONNECTED.has(outcome);
    const id = this.ids.next(at);
    this.rows.attempts.push({
      id,
      caseId: c.id,
      debtorId: c.debtorId,
      contactPointId: point.id,
      channel: 'CALL',
      direction: 'OUTBOUND',
      attemptedAt: at,
      status: 'COMPLETED',
      outcome,
      connected,
      notes,
      actorId: who.id,
      createdAt: this.plus(at, 3),
    });
    this.event(c, 'CONTACT_ATTEMPTED', this.plus(at, 3), who, `Call to ${pointLabel(point)}: ${OUTCOME_TEXT[outcome]}.${notes ? ` ${notes}` : ''}`, {
      channel: 'CALL',
      outcome,
      connected,
    });
    if (outcome === 'WRONG_NUMBER' && point.row.wrongNumberAt == null) point.row.wrongNumberAt = at;
    return id;
  }

  /** Routine calls on free days between two days. */
  private routineCalls(c: C, n: number, fromDay: number, toDay: number): void {
    if (n <= 0 || c.assignDay === null) return;
    let lo = Math.max(fromDay, c.assignDay + 1);
    let hi = Math.min(toDay, c.last);
    if (c.jurisdiction === 'US') {
      // Keep a week from the scripted conversations before and after (Regulation F 1006.14(b)(2)).
      if (fromDay > 2) lo += 7;
      hi -= 7;
    }
    const candidates: number[] = [];
    for (let d = lo; d <= hi; d++) if (this.canContact(c, d) && !c.busy.has(d)) candidates.push(d);
    const chosen: number[] = [];
    if (c.jurisdiction === 'US') {
      // Regulation F: no call within 7 days after a conversation, at most 7 a week: keep them a week apart.
      let next = lo;
      for (const d of candidates) {
        if (chosen.length >= n) break;
        if (d >= next && ![...c.busy].some((b) => Math.abs(b - d) < 8)) {
          chosen.push(d);
          next = d + 8;
        }
      }
    } else {
      this.rng.shuffle(candidates);
      chosen.push(...candidates.slice(0, n).sort((a, b) => a - b));
    }
    for (const d of chosen) {
      c.busy.add(d);
      const point = this.callPoint(c, d);
      const canWrong = point !== c.mobile && point.wrongDay === undefined;
      const outcome = this.rng.weighted<ContactOutcome>([
        ['NO_ANSWER', 55],
        ['ANSWERED', 30],
        ['REFUSED', 10],
        ['WRONG_NUMBER', canWrong ? 6 : 0],
      ]);
      if (outcome === 'WRONG_NUMBER') point.wrongDay = d;
      this.call(c, this.rt(c, d), outcome, this.rng.pick(CALL_NOTES[outcome] ?? ['']), point);
    }
  }

  private callsFor(stage: CaseStage): number {
    return stage === 'LEGAL' ? this.rng.int(3, 6) : stage === 'FIELD_VISIT' ? this.rng.int(3, 5) : this.rng.int(1, 4);
  }

  // ---------------------------------------------------------------- stages

  /** Field visit from a day, and legal from a later day when wanted. */
  private escalate(c: C, fvDay: number, legalDay?: number): void {
    const supervisor = this.staffOf('supervisor');
    this.changeStage(c, 'FIELD_VISIT', this.rt(c, fvDay, 10, 16), supervisor, `no repayment after ${fvDay} days of reminders and calls`);
    if (legalDay !== undefined) {
      this.changeStage(c, 'LEGAL', this.rt(c, legalDay, 10, 16), supervisor, 'handed to litigation');
      this.legalPack(c, legalDay);
    }
  }

  /** The documents that go to the bank's litigation team. */
  private legalPack(c: C, day: number): void {
    const supervisor = this.staffOf('supervisor');
    const at = this.at(c, day, 17, this.rng.int(0, 40));
    this.evidence(c, 'OVERDUE_STATEMENT', at, supervisor, null, 'Overdue statement for the court filing.');
    this.evidence(c, 'NOTE', this.plus(at, 6), supervisor, null, 'Referral memo to the litigation team.');
  }

  /** The escalation visit that precedes LEGAL, then the stage change. */
  private legalWithVisit(c: C, legalDay: number, fvDay: number): void {
    const supervisor = this.staffOf('supervisor');
    this.changeStage(c, 'FIELD_VISIT', this.rt(c, fvDay, 10, 16), supervisor, `no repayment after ${fvDay} days of reminders and calls`);
    if (c.jurisdiction === 'CN' && c.spec.visit) {
      const vd = legalDay - this.rng.int(4, 12);
      this.visit(c, { status: 'DECIDED', outcome: 'REFUSED', decision: 'ESCALATE_TO_LEGAL' }, vd, legalDay);
    }
    this.changeStage(c, 'LEGAL', this.at(c, legalDay, 16, this.rng.int(0, 30)), supervisor, 'handed to litigation');
    this.legalPack(c, legalDay);
  }

  /** The day escalation days for a case that is at FIELD_VISIT or LEGAL now. */
  private stageDays(c: C, beforeDay: number): { fvDay: number; legalDay?: number } {
    const r = this.rng;
    if (c.spec.stage === 'LEGAL') {
      const legalDay = r.int(Math.min(130, beforeDay - 2), Math.min(beforeDay - 2, 260));
      const fvDay = r.int(Math.min(45, legalDay - 40), Math.min(100, legalDay - 40));
      return { fvDay, legalDay };
    }
    return { fvDay: r.int(Math.min(45, beforeDay - 3), Math.min(95, beforeDay - 3)) };
  }

  private toCurrentStage(c: C, beforeDay: number): number {
    if (c.spec.stage === 'EARLY_REMINDER') return 1;
    const { fvDay, legalDay } = this.stageDays(c, beforeDay);
    if (legalDay !== undefined) {
      this.legalWithVisit(c, legalDay, fvDay);
      return legalDay;
    }
    this.escalate(c, fvDay);
    return fvDay;
  }

  // ---------------------------------------------------------------- open-case stories

  private storyPlain(c: C): void {
    const stageDay = this.toCurrentStage(c, c.last);
    this.routineCalls(c, this.callsFor(c.spec.stage), 2, stageDay - 1);
    if (c.spec.stage !== 'EARLY_REMINDER') this.routineCalls(c, this.rng.int(1, 3), stageDay + 1, c.last);
    this.routineReminders(c, c.last);
    if (this.rng.chance(0.6)) this.scheduleNext(c);
  }

  private storyDisputeHold(c: C): void {
    const r = this.rng;
    const h = r.int(Math.max(c.assignDay! + 3, c.last - 12), c.last - 1);
    this.routineCalls(c, 2, 2, h - 1);
    const at = this.rt(c, h, 10, 15);
    c.busy.add(h);
    this.call(c, at, 'DISPUTE', 'Debtor disputes a ¥3,280.00 online purchase on the statement; says the card was used without authorisation.');
    const supervisor = this.staffOf('supervisor');
    const holdAt = this.plus(at, r.int(40, 120));
    this.rows.holds.push({
      id: this.ids.next(holdAt),
      caseId: c.id,
      reason: 'DISPUTE',
      note: 'Chargeback investigation opened with card operations (ref. CB-2026-' + r.digits(5) + '). No contact until resolved.',
      startsAt: holdAt,
      placedById: supervisor.id,
      createdAt: holdAt,
    });
    this.event(c, 'HOLD_PLACED', holdAt, supervisor, 'Contact on hold: DISPUTE (chargeback investigation).', { reason: 'DISPUTE' });
    c.version++;
    c.contactStop = h;
    this.routineReminders(c, h);
  }

  private storyHardship(c: C): void {
    const r = this.rng;
    const h = r.int(c.assignDay! + 5, c.last - 35);
    const until = h + 30;
    this.routineCalls(c, 2, 2, h - 1);
    const at = this.rt(c, h, 10, 15);
    c.busy.add(h);
    this.call(c, at, 'ANSWERED', 'Debtor in hospital after surgery; family asks for a pause of one month.');
    const supervisor = this.staffOf('supervisor');
    const holdAt = this.plus(at, 90);
    const endsAt = this.at(c, until, 9, 0);
    const releasedAt = this.at(c, until, 9, 5);
    this.rows.holds.push({
      id: this.ids.next(holdAt),
      caseId: c.id,
      reason: 'HARDSHIP',
      note: 'Hospitalised; hardship pause of 30 days agreed.',
      startsAt: holdAt,
      endsAt,
      placedById: supervisor.id,
      releasedAt,
      releasedById: supervisor.id,
      createdAt: holdAt,
    });
    this.event(c, 'HOLD_PLACED', holdAt, supervisor, `Contact on hold until ${this.dayStr(c, until)}: HARDSHIP.`, { reason: 'HARDSHIP' });
    this.event(c, 'HOLD_RELEASED', releasedAt, supervisor, 'Hardship hold released at the end of its term.', { reason: 'HARDSHIP' });
    c.version += 2;
    c.quiet.push([h + 1, until]);
    this.routineCalls(c, 2, until + 1, c.last);
    this.routineReminders(c, c.last);
    this.scheduleNext(c);
  }

  private storyRejectedPlan(c: C): void {
    const r = this.rng;
    const p0 = r.int(Math.max(c.assignDay! + 3, c.last - 20), c.last - 2);
    this.routineCalls(c, 2, 2, p0 - 1);
    const at = this.rt(c, p0, 10, 15);
    c.busy.add(p0);
    this.call(c, at, 'ANSWERED', 'Debtor asks to repay in 12 small monthly instalments.');
    this.plan(c, {
      kind: 'INSTALMENTS',
      status: 'REJECTED',
      proposedAt: this.plus(at, 20),
      count: 12,
      firstDue: this.dayDate(c, p0 + 20),
      decidedAt: this.at(c, p0 + 1, 11, r.int(0, 59)),
      decisionNote: 'Rejected: instalments too small for the stated income; offer 6 months instead.',
    });
    this.routineCalls(c, 1, p0 + 2, c.last);
    this.routineReminders(c, c.last);
    this.scheduleNext(c);
  }

  private storyCease(c: C): void {
    const r = this.rng;
    const cd = r.int(Math.max(c.assignDay! + 10, c.last - 10), c.last - 1);
    this.routineCalls(c, 2, 2, cd - 1);
    const collector = this.actorAt(c, this.at(c, cd, 12));
    const at = this.rt(c, cd, 10, 15);
    const debtor = this.rows.debtors.find((d) => d.id === c.debtorId)!;
    debtor.ceaseContact = true;
    debtor.ceaseContactAt = at;
    debtor.updatedAt = at;
    this.event(c, 'CEASE_CONTACT_RECORDED', at, collector, 'Written request to cease communication received (FDCPA 805(c)); all contact stopped.', {});
    c.version++;
    c.contactStop = cd;
    this.routineReminders(c, cd - 1);
  }

  private storyProposedSettlement(c: C): void {
    const r = this.rng;
    const stageDay = this.toCurrentStage(c, c.last - 8);
    this.routineCalls(c, this.callsFor('LEGAL'), 2, stageDay - 1);
    const sd = r.int(Math.max(stageDay + 3, c.last - 6), c.last);
    const at = this.rt(c, sd, 10, 15);
    c.busy.add(sd);
    this.call(c, at, 'ANSWERED', 'Debtor offers a one-off settlement if the court action is withdrawn.');
    const balance = this.balance(c);
    const total = ((balance * 65n) / 100n / 100n) * 100n;
    this.plan(c, {
      kind: 'SETTLEMENT',
      status: 'PROPOSED',
      proposedAt: this.plus(at, 30),
      count: 1,
      total,
      discount: balance - total,
      firstDue: this.dayDate(c, c.today + r.int(10, 20)),
    });
    this.routineReminders(c, stageDay);
  }

  private promiseDate(c: C): { k: number; pf: number } {
    const r = this.rng;
    const lo = Math.max((c.assignDay ?? 1) + 1, 2);
    const pf = c.today + r.int(1, 14);
    const k = r.int(Math.max(lo, pf - 28, c.last - 18), c.last);
    return { k, pf };
  }

  private storyPromiseCall(c: C): void {
    const r = this.rng;
    const { k, pf } = this.promiseDate(c);
    if (c.spec.stage === 'EARLY_REMINDER') {
      this.routineCalls(c, this.callsFor(c.spec.stage), 2, k - 1);
    } else {
      const stageDay = this.toCurrentStage(c, k - 2);
      this.routineCalls(c, this.callsFor(c.spec.stage), 2, stageDay - 1);
      this.routineCalls(c, r.int(1, 2), stageDay + 1, k - 1);
    }
    const at = this.rt(c, k, 9, 17);
    c.busy.add(k);
    const amount = r.chance(0.6) ? this.balance(c) : this.share(c, 40, 80);
    const attemptId = this.call(c, at, 'PROMISE_TO_PAY', `Promised ${this.money(c, amount)} by ${this.dayStr(c, pf)}.`);
    const promise = this.promise(c, { amount, pf, at: this.plus(at, 4), attemptId });
    this.routineReminders(c, k - 1);
    // A part paid already, towards the promise.
    if (k < c.last && r.chance(0.35)) {
      const payDay = r.int(k + 1, c.last);
      const part = (amount * BigInt(r.int(25, 50))) / 100n;
      this.payment(c, this.rt(c, payDay, 9, 20), part, [{ target: 'PROMISE', promise, amount: part }]);
    }
    const remindDay = pf - 1;
    if (this.at(c, remindDay, 10) > this.now) {
      this.reminder(c, 'SMS', this.at(c, remindDay, 10, r.int(0, 30)), 'promise_due', {
        amount: amount - BigInt(promise.paidAmount as bigint),
        dueDate: this.dayStr(c, pf),
      });
    }
  }

  private storyPlanActive(c: C): void {
    const r = this.rng;
    const p0 = r.int(Math.max((c.assignDay ?? 1) + 2, c.last - 100), c.last - 2);
    const stageDay = this.toCurrentStage(c, p0 - 1);
    this.routineCalls(c, this.callsFor(c.spec.stage), 2, (c.spec.stage === 'EARLY_REMINDER' ? p0 : stageDay) - 1);
    const at = this.rt(c, p0, 9, 16);
    c.busy.add(p0);
    this.call(c, at, 'ANSWERED', 'Debtor agrees to an instalment plan; income confirmed.');
    this.routineReminders(c, p0 - 1);
    this.activePlan(c, this.plus(at, 25), p0, 'INSTALMENTS');
  }

  /** A plan proposed at `proposedAt` and approved the next working day, with its paid instalments. */
  private activePlan(c: C, proposedAt: Date, p0: number, kind: 'INSTALMENTS' | 'DEFERRAL', approveDay = p0 + 1): void {
    const r = this.rng;
    const decidedAt = approveDay <= c.last ? this.rt(c, approveDay, 10, 17) : this.plus(proposedAt, 120);
    const decidedDay = this.dayOf(c, decidedAt);
    const firstDueDay = kind === 'DEFERRAL' ? p0 + r.int(30, 85) : p0 + r.int(7, 14);
    const firstDue = this.dayDate(c, firstDueDay);
    let count = kind === 'DEFERRAL' ? 1 : r.int(3, 12);
    if (kind === 'INSTALMENTS') {
      const monthsPassed = Math.ceil((c.today - firstDueDay) / 28) + 1;
      count = Math.min(12, Math.max(count, monthsPassed + 1));
    }
    const plan = this.plan(c, { kind, status: 'ACTIVE', proposedAt, count, firstDue, decidedAt });
    this.changeStatus(c, 'PROMISED');
    for (const inst of plan.instalments) {
      const dueDay = daysBetween(c.dueStr, dateOnly(inst.dueDate as Date));
      const paid = dueDay <= c.today - 6 || (dueDay <= c.last && r.chance(0.5));
      if (!paid) continue;
      const payDay = Math.max(decidedDay + 1, dueDay - r.int(0, 3));
      if (payDay > c.last) continue;
      this.payment(c, this.rt(c, payDay, 8, 20), inst.amount as bigint, [{ target: 'INSTALMENT', instalment: inst, plan: plan.row, amount: inst.amount as bigint }]);
    }
    const next = plan.instalments.find((i) => i.status === 'DUE');
    if (next) {
      const d = daysBetween(c.dueStr, dateOnly(next.dueDate as Date)) - 2;
      if (this.at(c, d, 10) > this.now) {
        this.reminder(c, 'SMS', this.at(c, d, 10, r.int(0, 30)), 'instalment_due', {
          amount: next.amount as bigint,
          dueDate: dateOnly(next.dueDate as Date),
        });
      }
    }
  }

  private storyDeferral(c: C): void {
    const r = this.rng;
    const p0 = r.int(Math.max((c.assignDay ?? 1) + 2, c.last - 20), c.last - 1);
    this.routineCalls(c, this.callsFor('EARLY_REMINDER'), 2, p0 - 1);
    const at = this.rt(c, p0, 9, 16);
    c.busy.add(p0);
    this.call(c, at, 'ANSWERED', 'Employer is two months behind on wages; debtor asks to pay the whole balance in one go later.');
    this.routineReminders(c, p0 - 1);
    this.activePlan(c, this.plus(at, 30), p0, 'DEFERRAL');
  }

  private storyBrokenPromise(c: C): void {
    const r = this.rng;
    const lo = Math.max((c.assignDay ?? 1) + 1, 2);
    const pf = r.int(Math.max(lo + 3, c.last - 30), c.last - 5);
    const k = r.int(Math.max(lo, pf - 20), pf - 3);
    const stageDay = c.spec.stage === 'EARLY_REMINDER' ? 1 : this.toCurrentStage(c, k - 1);
    this.routineCalls(c, this.callsFor(c.spec.stage), 2, (c.spec.stage === 'EARLY_REMINDER' ? k : stageDay) - 1);
    const at = this.rt(c, k, 9, 17);
    c.busy.add(k);
    const amount = r.chance(0.5) ? this.balance(c) : this.share(c, 30, 70);
    const attemptId = this.call(c, at, 'PROMISE_TO_PAY', `Promised ${this.money(c, amount)} by ${this.dayStr(c, pf)}.`);
    const promise = this.promise(c, { amount, pf, at: this.plus(at, 4), attemptId });
    if (r.chance(0.35)) {
      const part = (amount * BigInt(r.int(15, 45))) / 100n;
      this.payment(c, this.rt(c, r.int(k + 1, pf), 9, 20), part, [{ target: 'PROMISE', promise, amount: part }]);
    }
    this.breakPromise(c, promise, pf);
    c.quiet.push([k, pf + 4]);
    this.routineCalls(c, r.int(1, 2), pf + 5, c.last);
    this.routineReminders(c, c.last);
    if (r.chance(0.5)) this.scheduleNext(c);
  }

  private breakPromise(c: C, promise: Prisma.PromiseToPayCreateManyInput, pf: number): void {
    const brokenAt = this.at(c, pf + 4, 2, 0);
    promise.status = 'BROKEN';
    promise.settledAt = brokenAt;
    this.event(c, 'PROMISE_BROKEN', brokenAt, null, `Promise of ${this.money(c, promise.amount as bigint)} due ${this.dayStr(c, pf)} broken: ${this.money(c, promise.paidAmount as bigint)} paid.`, {
      promisedFor: this.dayStr(c, pf),
    });
    this.changeStatus(c, 'BROKEN_PROMISE');
  }

  private storyBrokenPlan(c: C): void {
    const r = this.rng;
    const lo = Math.max((c.assignDay ?? 1) + 2, 3);
    let paidCount = r.int(0, 2);
    while (paidCount > 0 && c.last - 22 - 31 * paidCount < lo) paidCount--;
    const p0 = r.int(Math.max(lo, c.last - 25 - 31 * paidCount - 40), c.last - 22 - 31 * paidCount);
    const stageDay = c.spec.stage === 'EARLY_REMINDER' ? 1 : this.toCurrentStage(c, p0 - 1);
    this.routineCalls(c, this.callsFor(c.spec.stage), 2, (c.spec.stage === 'EARLY_REMINDER' ? p0 : stageDay) - 1);
    const at = this.rt(c, p0, 9, 16);
    c.busy.add(p0);
    this.call(c, at, 'ANSWERED', 'Debtor agrees to an instalment plan.');
    this.routineReminders(c, p0 - 1);
    const decidedAt = this.rt(c, p0 + 1, 10, 17);
    const firstDueDay = p0 + r.int(7, 12);
    const plan = this.plan(c, {
      kind: 'INSTALMENTS',
      status: 'ACTIVE',
      proposedAt: this.plus(at, 25),
      count: r.int(Math.max(3, paidCount + 2), 12),
      firstDue: this.dayDate(c, firstDueDay),
      decidedAt,
    });
    this.changeStatus(c, 'PROMISED');
    for (let j = 0; j < paidCount; j++) {
      const inst = plan.instalments[j]!;
      const dueDay = daysBetween(c.dueStr, dateOnly(inst.dueDate as Date));
      this.payment(c, this.rt(c, Math.max(p0 + 2, dueDay - r.int(0, 2)), 8, 20), inst.amount as bigint, [
        { target: 'INSTALMENT', instalment: inst, plan: plan.row, amount: inst.amount as bigint },
      ]);
    }
    const missed = plan.instalments[paidCount]!;
    const missedDay = daysBetween(c.dueStr, dateOnly(missed.dueDate as Date));
    missed.status = 'MISSED';
    const brokenAt = this.at(c, missedDay + 6, 2, 0);
    plan.row.status = 'BROKEN';
    plan.row.brokenAt = brokenAt;
    this.event(c, 'PLAN_BROKEN', brokenAt, null, `Repayment plan broken: instalment ${missed.seq} of ${this.money(c, missed.amount as bigint)} due ${dateOnly(missed.dueDate as Date)} not paid within the grace days.`, {
      planId: plan.row.id!,
      instalment: missed.seq,
    });
    this.changeStatus(c, 'BROKEN_PROMISE');
    c.quiet.push([p0, missedDay + 6]);
    this.routineCalls(c, r.int(1, 2), missedDay + 7, c.last);
    this.routineReminders(c, c.last);
    if (r.chance(0.5)) this.scheduleNext(c);
  }

  // ---------------------------------------------------------------- field visits

  private storyFieldVisit(c: C): void {
    const r = this.rng;
    const v = c.spec.visit!;
    const L = c.last;
    // The visit day, relative to today, by the state the visit is in.
    let vd: number;
    switch (v.status) {
      case 'PREPARING':
        vd = L - r.int(0, 3);
        break;
      case 'SCHEDULED':
        vd = c.today + r.int(1, 6);
        break;
      case 'IN_PROGRESS':
        vd = c.today;
        break;
      case 'COMPLETED':
        vd = L - r.int(0, 2);
        break;
      case 'REPORTED':
        vd = L - r.int(1, 5);
        break;
      case 'CANCELLED':
        vd = L + r.int(-6, 4);
        break;
      default:
        vd =
          c.spec.scenario === 'VISIT_PROMISE_BROKEN'
            ? L - r.int(15, 45)
            : c.spec.scenario === 'VISIT_PLAN'
              ? L - r.int(20, Math.max(20, Math.min(60, L - 50)))
              : L - r.int(2, 20);
    }
    // Before planning (at most 8 days before the visit, or before today for a future one).
    const fvLatest = Math.min(vd, L) - 12;
    const fvDay = r.int(Math.min(45, fvLatest), Math.min(95, fvLatest));
    this.escalate(c, fvDay);
    this.routineCalls(c, this.callsFor('EARLY_REMINDER'), 2, fvDay - 1);
    const result = this.visit(c, v, vd, vd + 2);
    // Calls between escalation and planning.
    this.routineCalls(c, r.int(1, 2), fvDay + 1, result.plannedDay - 1);
    this.routineReminders(c, result.plannedDay - 1);

    if (c.spec.scenario === 'VISIT_PROMISE' || c.spec.scenario === 'VISIT_PROMISE_BROKEN') {
      const completedAt = result.completedAt!;
      const broken = c.spec.scenario === 'VISIT_PROMISE_BROKEN';
      const pf = broken ? r.int(vd + 5, Math.min(vd + 25, L - 5)) : r.int(c.today + 1, vd + 28);
      const amount = r.chance(0.5) ? this.balance(c) : this.share(c, 40, 80);
      const promise = this.promise(c, { amount, pf, at: this.plus(completedAt, 2), visitId: result.id });
      if (broken) {
        if (r.chance(0.3)) {
          const part = (amount * BigInt(r.int(15, 40))) / 100n;
          this.payment(c, this.rt(c, r.int(vd + 1, pf), 9, 20), part, [{ target: 'PROMISE', promise, amount: part }]);
        }
        this.breakPromise(c, promise, pf);
        this.routineCalls(c, r.int(1, 2), pf + 5, L);
        this.routineReminders(c, L);
        this.scheduleNext(c);
      }
    } else if (c.spec.scenario === 'VISIT_PLAN') {
      this.activePlan(c, this.plus(result.completedAt!, 30), vd, 'INSTALMENTS', vd + 2);
    } else if (v.outcome === 'PLAN_AGREED') {
      // Reported, the plan awaits the bank's approval.
      this.plan(c, {
        kind: 'INSTALMENTS',
        status: 'PROPOSED',
        proposedAt: this.plus(result.completedAt!, 30),
        count: r.int(6, 12),
        firstDue: this.dayDate(c, c.today + r.int(10, 20)),
      });
    } else if (v.decision === 'GRACE_PERIOD') {
      c.contactStop = vd + 2;
    } else if (v.status === 'DECIDED' || v.status === 'CANCELLED') {
      this.routineCalls(c, r.int(1, 2), Math.min(vd + 3, L), L);
      if (v.status === 'DECIDED') this.scheduleNext(c);
    }
  }

  /**
   * A visit, through the steps of DOMAIN.md, up to `v.status`: planned (dossier), consent by a
   * call, scheduled with two credentialed collectors, checked in, completed with evidence,
   * reported, decided; or cancelled after scheduling.
   */
  private visit(
    c: C,
    v: VisitSpec,
    vd: number,
    decideDay: number,
  ): { id: string; plannedDay: number; completedAt: Date | null } {
    const r = this.rng;
    const L = c.last;
    let status = v.status;
    // An in-progress visit is one happening now; outside the hours of a visit it is one that finished yesterday.
    let window: [Date, Date];
    if (status === 'IN_PROGRESS') {
      const start = new Date(this.now.getTime() - 35 * MINUTE);
      const end = new Date(this.now.getTime() + 85 * MINUTE);
      if (minutesOfDay(start, c.tz) >= 8 * 60 + 30 && minutesOfDay(end, c.tz) <= 21 * 60 && minutesOfDay(end, c.tz) > minutesOfDay(start, c.tz)) {
        window = [start, end];
      } else {
        status = 'COMPLETED';
        vd = L;
        window = this.visitWindow(c, vd);
      }
    } else {
      window = this.visitWindow(c, vd);
    }
    const consentDay = status === 'PREPARING' ? vd : Math.min(vd - 1, L) - r.int(0, 3);
    const plannedDay = status === 'PREPARING' ? vd : consentDay - r.int(1, 4);
    const plannedAt = this.rt(c, plannedDay, 9, 12);
    const worker = this.actorAt(c, plannedAt);
    const supervisor = this.staffOf('supervisor');
    const address = c.homeAddress;
    const dossier: JsonObject = {
      caseNumber: null,
      compiledAt: plannedAt.toISOString(),
      debtor: { fullName: c.fullName, nationalIdMasked: c.maskedId, language: c.lang },
      card: { last4: c.last4, product: c.product, creditLimit: this.moneyJson(c, c.creditLimit) },
      overdue: {
        principal: this.moneyJson(c, c.principal),
        interest: this.moneyJson(c, c.interest),
        fees: this.moneyJson(c, c.fees),
        total: this.moneyJson(c, this.balance(c)),
        dueDate: c.dueStr,
        daysPastDue: plannedDay,
      },
      contactPoints: [c.mobile, c.home, c.work, c.email]
        .filter((p): p is ContactPointInfo => p !== undefined)
        .map((p) => ({ kind: p.kind, value: p.value, doNotContact: p.dncDay !== undefined && p.dncDay <= plannedDay })),
      address: {
        kind: 'HOME',
        line1: address.line1,
        line2: address.line2 ?? null,
        city: address.city,
        region: address.region,
        postalCode: address.postalCode ?? null,
        country: address.country ?? 'CN',
      },
    };
    const id = this.ids.next(plannedAt);
    this.rows.dossiers.push({ caseId: c.id, dossier });
    const row: Prisma.VisitCreateManyInput = {
      id,
      caseId: c.id,
      addressId: address.id!,
      purpose:
        v.decision === 'ESCALATE_TO_LEGAL'
          ? 'Last visit before referral to litigation: explain the consequences, offer a plan.'
          : 'Home visit: understand the reason for the delinquency and agree a repayment plan.',
      status,
      dossier,
      materials: [],
      plansOffered: [],
      plannedById: worker.id,
      createdAt: plannedAt,
      version: 1,
    };
    this.rows.visits.push(row);
    c.busy.add(plannedDay);
    c.busy.add(vd);
    this.event(c, 'VISIT_PLANNED', plannedAt, worker, `Home visit planned at ${address.city}${address.line1}; dossier compiled.`, { visitId: id });

    if (status === 'PREPARING') {
      if (r.chance(0.4) && plannedDay < L) {
        const d = plannedDay + 1;
        c.busy.add(d);
        this.call(c, this.rt(c, d, 10, 18), 'VISIT_CONSENT_REFUSED', 'Debtor does not agree to a visit this week; will call back.');
      }
      return { id, plannedDay, completedAt: null };
    }

    // Consent first (source: 征得客户的同意), by a call; then scheduling with two collectors.
    const consentAt = this.rt(c, consentDay, 9, 16);
    c.busy.add(consentDay);
    const attemptId = this.call(
      c,
      consentAt,
      'VISIT_CONSENT_GIVEN',
      `Debtor agrees to a home visit on ${this.dayStr(c, vd)} between ${hm(window[0], c.tz)} and ${hm(window[1], c.tz)}.`,
    );
    const consentId = this.ids.next(consentAt);
    const consentWindow: [Date, Date] = [this.at(c, vd, 9, 0), this.at(c, vd, 18, 0)];
    if (window[0] < consentWindow[0]) consentWindow[0] = window[0];
    if (window[1] > consentWindow[1]) consentWindow[1] = window[1];
    const consent: Prisma.VisitConsentCreateManyInput = {
      id: consentId,
      caseId: c.id,
      contactAttemptId: attemptId,
      windowStart: consentWindow[0],
      windowEnd: consentWindow[1],
      recordedById: worker.id,
      recordedAt: this.plus(consentAt, 6),
    };
    this.rows.consents.push(consent);
    this.event(c, 'VISIT_CONSENT_RECORDED', this.plus(consentAt, 6), worker, `Consent to visit recorded for ${this.dayStr(c, vd)}.`, { visitId: id });
    const scheduledAt = this.plus(consentAt, r.int(15, 50));
    const team = this.visitTeam(c, scheduledAt);
    row.consentId = consentId;
    row.windowStart = window[0];
    row.windowEnd = window[1];
    row.materials = (
      v.decision === 'ESCALATE_TO_LEGAL'
        ? ['OVERDUE_STATEMENT', 'NOTICE_LETTER', 'REPAYMENT_AGREEMENT']
        : ['OVERDUE_STATEMENT', 'REPAYMENT_AGREEMENT']
    ) satisfies VisitMaterial[];
    row.version = 2;
    for (const m of team) {
      this.rows.participants.push({
        id: this.ids.next(scheduledAt),
        visitId: id,
        userId: m.id,
        credentialNumber: m.credentialNumber!,
        credentialExpiresOn: m.credentialExpiresOn!,
      });
    }
    this.event(c, 'VISIT_SCHEDULED', scheduledAt, worker, `Visit scheduled ${this.dayStr(c, vd)} ${hm(window[0], c.tz)}–${hm(window[1], c.tz)} with ${team[0].fullName} and ${team[1].fullName}.`, { visitId: id });
    // The pack the collectors carry (issue 18), printed for the visits still ahead or under way
    // (rendering costs about half a second a document: the demo's past visits keep their uploads).
    if (status === 'SCHEDULED' || status === 'IN_PROGRESS') this.rows.prints.push({
      visitId: id,
      caseId: c.id,
      at: this.plus(scheduledAt, 5),
      byId: worker.id,
      byName: worker.fullName,
      dossier,
      language: c.lang,
      jurisdiction: c.jurisdiction,
      timeZone: c.tz,
      collectors: team.map((m) => ({ fullName: m.fullName, credentialNumber: m.credentialNumber ?? null })),
      kinds: ['DOSSIER', 'OVERDUE_STATEMENT', 'NOTICE'],
    });
    if (status === 'SCHEDULED') return { id, plannedDay, completedAt: null };

    if (status === 'CANCELLED') {
      const cancelDay = Math.min(Math.max(consentDay + 1, vd - 1), L);
      const cancelledAt = this.rt(c, cancelDay, 9, 18);
      const reason = r.pick([
        'Debtor travelling for work that week; asked to reschedule.',
        'Debtor paid a visit to the branch instead; visit not needed.',
        'Typhoon warning in the area: visit called off.',
      ]);
      row.cancelledAt = cancelledAt;
      row.cancelReason = reason;
      row.version = 3;
      this.event(c, 'VISIT_CANCELLED', cancelledAt, worker, `Visit cancelled: ${reason}`, { visitId: id });
      return { id, plannedDay, completedAt: null };
    }

    // On site.
    const checkedInAt = this.plus(window[0], r.int(5, 15));
    row.checkedInAt = checkedInAt;
    row.version = 3;
    this.rows.participants
      .filter((p) => p.visitId === id)
      .forEach((p) => {
        p.credentialShownAt = checkedInAt;
        p.credentialShownNumber = p.credentialNumber;
      });
    this.event(c, 'VISIT_CHECKED_IN', checkedInAt, team[0], 'Checked in on site; both collectors showed their work credentials.', { visitId: id });
    if (status === 'IN_PROGRESS') return { id, plannedDay, completedAt: null };

    const outcome = v.outcome ?? 'REFUSED';
    const completedAt = this.plus(checkedInAt, outcome === 'NOT_AT_HOME' ? r.int(10, 20) : outcome === 'CONSENT_WITHDRAWN' ? r.int(5, 12) : r.int(40, 90));
    const reason: DelinquencyReason = r.pick(['JOB_LOSS', 'ILLNESS', 'BUSINESS_FAILURE', 'FORGOT', 'OTHER']);
    if (outcome !== 'NOT_AT_HOME') {
      row.delinquencyReason = reason;
      row.delinquencyReasonText = REASON_TEXT[reason];
      row.consequencesExplained = outcome !== 'CONSENT_WITHDRAWN';
      row.plansOffered = outcome === 'CONSENT_WITHDRAWN' ? [] : (['INSTALMENTS', 'DEFERRAL'] satisfies PlanKind[]);
    }
    row.outcome = outcome;
    row.completedAt = completedAt;
    row.version = 4;
    if (outcome === 'CONSENT_WITHDRAWN') consent.withdrawnAt = completedAt;
    this.event(c, 'VISIT_COMPLETED', completedAt, team[0], `Visit completed: ${VISIT_OUTCOME_TEXT[outcome]}.`, { visitId: id, outcome });
    this.visitEvidence(c, id, outcome, checkedInAt, completedAt, team[0]);
    if (status === 'COMPLETED') return { id, plannedDay, completedAt };

    const reportDay = Math.min(vd + 1, L);
    const reportedAt = this.rt(c, reportDay, 9, 18);
    const reportAt = reportedAt > completedAt ? reportedAt : this.plus(completedAt, 90);
    row.report = visitReport(outcome, reason);
    row.reportedAt = reportAt;
    row.reportedById = team[0].id;
    row.version = 5;
    this.event(c, 'VISIT_REPORTED', reportAt, team[0], 'Visit report filed.', { visitId: id });
    if (status === 'REPORTED') return { id, plannedDay, completedAt };

    const decision = v.decision ?? 'CONTINUE';
    let decidedAt = this.rt(c, Math.min(decideDay, L), 10, 15);
    if (decidedAt <= reportAt) decidedAt = this.plus(reportAt, 60);
    row.decision = decision;
    row.decidedAt = decidedAt;
    row.decidedById = supervisor.id;
    row.version = 6;
    if (decision === 'GRACE_PERIOD') {
      const graceUntil = this.dayDate(c, Math.max(c.today + 10, vd + r.int(25, 40)));
      row.graceUntil = graceUntil;
      row.decisionNote = 'Grace period granted: debtor expects new employment; contact resumes after the grace date.';
      const endsAt = wallTime(dateOnly(graceUntil), 0, 0, c.tz);
      this.rows.holds.push({
        id: this.ids.next(decidedAt),
        caseId: c.id,
        reason: 'GRACE_PERIOD',
        note: `Grace period after the visit, until ${dateOnly(graceUntil)}.`,
        startsAt: decidedAt,
        endsAt,
        placedById: supervisor.id,
        createdAt: decidedAt,
      });
      this.event(c, 'HOLD_PLACED', this.plus(decidedAt, 1), supervisor, `Contact on hold until ${dateOnly(graceUntil)}: GRACE_PERIOD.`, { reason: 'GRACE_PERIOD' });
      c.version++;
    } else {
      row.decisionNote =
        decision === 'ESCALATE_TO_LEGAL'
          ? 'Debtor refuses any arrangement; refer to litigation.'
          : 'Continue collection; follow up on what was agreed.';
    }
    this.event(c, 'VISIT_DECIDED', decidedAt, supervisor, `Decision after the visit: ${decision}.`, { visitId: id, decision });
    return { id, plannedDay, completedAt };
  }

  private visitWindow(c: C, vd: number): [Date, Date] {
    const startHour = this.rng.pick([9, 10, 14, 15]);
    return [this.at(c, vd, startHour, 0), this.at(c, vd, startHour + 2, 0)];
  }

  private visitEvidence(c: C, visitId: string, outcome: VisitOutcome, checkedInAt: Date, completedAt: Date, by: Staff): void {
    const r = this.rng;
    const upload = this.plus(completedAt, r.int(20, 110));
    const kinds: EvidenceKind[] =
      outcome === 'NOT_AT_HOME'
        ? ['PHOTO', 'NOTE']
        : outcome === 'CONSENT_WITHDRAWN'
          ? ['AUDIO', 'NOTE']
          : outcome === 'PROMISE_TO_PAY'
            ? ['AUDIO', 'PROMISE_LETTER', 'OVERDUE_STATEMENT']
            : outcome === 'PLAN_AGREED'
              ? ['AUDIO', 'REPAYMENT_AGREEMENT', 'OVERDUE_STATEMENT']
              : ['AUDIO', 'NOTE'];
    if (outcome !== 'NOT_AT_HOME' && r.chance(0.4)) kinds.push('PHOTO');
    kinds.forEach((kind, n) => {
      const id = this.evidence(c, kind, this.plus(upload, n * 2), by, visitId, EVIDENCE_TEXT[kind], checkedInAt);
      // One photo re-taken: the correction supersedes the original, which stays.
      if (kind === 'PHOTO' && !this.supersessionDone) {
        this.supersessionDone = true;
        const at = this.plus(upload, 240);
        this.evidence(c, 'PHOTO', at, by, visitId, 'Photo of the signed acknowledgement, re-taken: the first was blurred.', checkedInAt, id);
      }
    });
  }

  /** An evidence record with its first custody entry; returns its id. */
  private evidence(
    c: C,
    kind: EvidenceKind,
    uploadedAt: Date,
    by: Staff,
    visitId: string | null,
    description: string,
    capturedAt?: Date,
    supersedes?: string,
  ): string {
    const n = ++c.evidenceSeq;
    const bytes = demoEvidenceFile(kind, `${c.ref} ${kind.toLowerCase().replace(/_/g, ' ')} ${n}`, description, uploadedAt, this.rows.files.size + 1);
    const type = sniff(bytes);
    if (!type || !accepts(kind, type.contentType)) throw new Error(`demo evidence: a ${kind} file of an unaccepted type`);
    const contentType = type.contentType;
    const fileName = `${c.ref}-${kind.toLowerCase().replace(/_/g, '-')}-${n}.${type.extension}`;
    const digest = createHash('sha256').update(bytes).digest('hex');
    this.rows.files.set(digest, bytes);
    const id = this.ids.next(uploadedAt);
    this.rows.evidence.push({
      id,
      caseId: c.id,
      visitId,
      kind,
      sha256: digest,
      sizeBytes: bytes.length,
      contentType,
      fileName,
      description,
      capturedAt: capturedAt ?? uploadedAt,
      uploadedById: by.id,
      uploadedAt,
      supersedesId: supersedes ?? null,
    });
    this.rows.custody.push({ id: this.ids.next(uploadedAt), evidenceId: id, action: 'UPLOADED', actorId: by.id, at: uploadedAt, detail: fileName });
    if (supersedes) {
      this.rows.custody.push({
        id: this.ids.next(uploadedAt),
        evidenceId: supersedes,
        action: 'SUPERSEDED',
        actorId: by.id,
        at: uploadedAt,
        detail: `Superseded by ${fileName}`,
      });
      this.event(c, 'EVIDENCE_SUPERSEDED', uploadedAt, by, `Evidence corrected: ${fileName} supersedes an earlier ${kind.toLowerCase()}.`, { evidenceId: id, supersedes });
    } else {
      this.event(c, 'EVIDENCE_UPLOADED', uploadedAt, by, `Evidence uploaded: ${fileName} (${kind}).`, { evidenceId: id, kind });
    }
    return id;
  }

  // ---------------------------------------------------------------- promises, plans, payments

  private promise(
    c: C,
    p: { amount: bigint; pf: number; at: Date; attemptId?: string; visitId?: string },
  ): Prisma.PromiseToPayCreateManyInput {
    const by = this.actorAt(c, p.at);
    const row: Prisma.PromiseToPayCreateManyInput = {
      id: this.ids.next(p.at),
      caseId: c.id,
      amount: p.amount,
      currency: c.currency,
      promisedFor: this.dayDate(c, p.pf),
      paidAmount: 0n,
      status: 'OPEN',
      capturedById: by.id,
      contactAttemptId: p.attemptId ?? null,
      visitId: p.visitId ?? null,
      createdAt: p.at,
    };
    this.rows.promises.push(row);
    this.event(c, 'PROMISE_RECORDED', p.at, by, `Promise to pay ${this.money(c, p.amount)} by ${this.dayStr(c, p.pf)} recorded${p.visitId ? ' during the visit' : ''}.`, {
      promiseId: row.id!,
      amount: this.moneyJson(c, p.amount),
      promisedFor: this.dayStr(c, p.pf),
    });
    this.changeStatus(c, 'PROMISED');
    return row;
  }

  private plan(
    c: C,
    p: {
      kind: PlanKind;
      status: PlanStatus;
      proposedAt: Date;
      count: number;
      firstDue: Date;
      decidedAt?: Date;
      decisionNote?: string;
      total?: bigint;
      discount?: bigint;
    },
  ): { row: Prisma.RepaymentPlanCreateManyInput; instalments: Prisma.InstalmentCreateManyInput[] } {
    const proposer = this.actorAt(c, p.proposedAt);
    const supervisor = this.staffOf('supervisor');
    const total = p.total ?? this.balance(c);
    // Monthly dates keep the day of the month: schedules start on the 28th at the latest.
    const dom = p.firstDue.getUTCDate();
    if (dom > 28) p.firstDue = addDays(p.firstDue, 28 - dom);
    const id = this.ids.next(p.proposedAt);
    const approved = p.status !== 'PROPOSED' && p.status !== 'REJECTED';
    const row: Prisma.RepaymentPlanCreateManyInput = {
      id,
      caseId: c.id,
      kind: p.kind,
      status: p.status,
      currency: c.currency,
      totalAmount: total,
      discountAmount: p.discount ?? 0n,
      paidAmount: 0n,
      instalmentCount: p.count,
      frequency: p.kind === 'INSTALMENTS' ? 'MONTHLY' : null,
      firstDueDate: p.firstDue,
      proposedById: proposer.id,
      proposedAt: p.proposedAt,
      decidedById: p.decidedAt ? supervisor.id : null,
      decidedAt: p.decidedAt ?? null,
      decisionNote:
        p.decisionNote ??
        (p.decidedAt
          ? p.kind === 'SETTLEMENT'
            ? `Settlement discount of ${this.money(c, p.discount ?? 0n)} approved by a supervisor (above the threshold).`
            : 'Approved: affordable against the stated income.'
          : null),
      activatedAt: approved ? (p.decidedAt ?? null) : null,
    };
    this.rows.plans.push(row);
    // Split exactly: integer division, the remainder on the first instalment.
    const each = total / BigInt(p.count);
    const remainder = total - each * BigInt(p.count);
    const instalments: Prisma.InstalmentCreateManyInput[] = [];
    for (let k = 0; k < p.count; k++) {
      instalments.push({
        id: this.ids.next(p.proposedAt),
        planId: id,
        seq: k + 1,
        dueDate: addMonthsDate(p.firstDue, k),
        amount: k === 0 ? each + remainder : each,
        paidAmount: 0n,
        status: 'DUE',
      });
    }
    this.rows.instalments.push(...instalments);
    const what =
      p.kind === 'SETTLEMENT'
        ? `Settlement of ${this.money(c, total)} (discount ${this.money(c, p.discount ?? 0n)})`
        : p.kind === 'DEFERRAL'
          ? `Deferral: ${this.money(c, total)} due ${dateOnly(p.firstDue)}`
          : `Plan of ${p.count} monthly instalments, ${this.money(c, total)} in all, from ${dateOnly(p.firstDue)}`;
    this.event(c, 'PLAN_PROPOSED', p.proposedAt, proposer, `${what} proposed.`, { planId: id, kind: p.kind });
    if (p.decidedAt) {
      if (p.status === 'REJECTED') {
        this.event(c, 'PLAN_REJECTED', p.decidedAt, supervisor, `Plan rejected: ${row.decisionNote}`, { planId: id });
      } else {
        this.event(c, 'PLAN_APPROVED', p.decidedAt, supervisor, `${what} approved and active.`, { planId: id });
      }
      c.version++;
    }
    return { row, instalments };
  }

  private payment(
    c: C,
    at: Date,
    amount: bigint,
    targets: {
      target: AllocationTarget;
      amount: bigint;
      promise?: Prisma.PromiseToPayCreateManyInput;
      instalment?: Prisma.InstalmentCreateManyInput;
      plan?: Prisma.RepaymentPlanCreateManyInput;
    }[],
  ): void {
    const r = this.rng;
    const n = ++c.paymentSeq;
    const channel = r.weighted<PaymentChannel>(
      c.jurisdiction === 'US'
        ? [['ONLINE', 4], ['CARD', 3], ['BANK_TRANSFER', 2], ['DIRECT_DEBIT', 1]]
        : [['BANK_TRANSFER', 4], ['ONLINE', 4], ['DIRECT_DEBIT', 2], ['CASH', 1], ['CARD', 1]],
    );
    const externalReference = `TXN${dateOnly(at).replace(/-/g, '')}${r.digits(8)}`;
    const idempotencyKey = `demo:${c.ref}:payment:${n}`;
    const id = this.ids.next(at);
    const recorder = channel === 'CASH' ? this.actorAt(c, at) : r.chance(0.4) ? this.workerAt(c, at) : null;
    const allocations = [...targets];
    const owed = this.balance(c);
    const covered = allocations.reduce((s, a) => s + a.amount, 0n);
    if (covered < amount) allocations.push({ target: 'BALANCE', amount: amount - covered });
    // Paid beyond the balance: a credit.
    let credit = 0n;
    if (amount > owed) {
      credit = amount - owed;
      let excess = credit;
      for (let k = allocations.length - 1; k >= 0 && excess > 0n; k--) {
        const a = allocations[k]!;
        if (a.target !== 'BALANCE') continue;
        const t = a.amount < excess ? a.amount : excess;
        a.amount -= t;
        excess -= t;
      }
      allocations.push({ target: 'CREDIT', amount: credit });
    }
    this.rows.payments.push({
      id,
      caseId: c.id,
      amount,
      currency: c.currency,
      receivedAt: at,
      channel,
      externalReference,
      idempotencyKey,
      requestHash: sha256(JSON.stringify({ case: c.ref, amount: amount.toString(), currency: c.currency, receivedAt: at.toISOString(), channel, externalReference })),
      creditAmount: credit,
      recordedById: recorder?.id ?? null,
      createdAt: this.plus(at, 1),
    });
    for (const a of allocations) {
      if (a.amount <= 0n) continue;
      this.rows.allocations.push({
        id: this.ids.next(at),
        paymentId: id,
        target: a.target,
        promiseId: a.promise?.id ?? null,
        instalmentId: a.instalment?.id ?? null,
        amount: a.amount,
      });
      if (a.promise) a.promise.paidAmount = (a.promise.paidAmount as bigint) + a.amount;
      if (a.instalment) {
        a.instalment.paidAmount = (a.instalment.paidAmount as bigint) + a.amount;
        a.instalment.status = a.instalment.paidAmount === a.instalment.amount ? 'PAID' : 'PARTIAL';
        a.instalment.paidAt = at;
      }
      if (a.plan) a.plan.paidAmount = (a.plan.paidAmount as bigint) + a.amount;
    }
    this.reduce(c, amount);
    c.credit += credit;
    c.payments.push({ at, amount });
    c.version++;
    this.event(c, 'PAYMENT_RECORDED', this.plus(at, 1), recorder, `Payment of ${this.money(c, amount)} received (${channel}, ${externalReference}); balance now ${this.money(c, this.balance(c))}.`, {
      paymentId: id,
      amount: this.moneyJson(c, amount),
      channel,
    });
  }

  // ---------------------------------------------------------------- ended cases

  /** The stages an ended case went through before its end day. */
  private endedStages(c: C, endDay: number, forceLegal = false): void {
    const r = this.rng;
    if (endDay > 75 || forceLegal) {
      const fvDay = r.int(45, Math.min(70, endDay - 5));
      const legal = forceLegal || (endDay > 220 && r.chance(0.4));
      const legalDay = legal ? r.int(Math.max(fvDay + 40, 150), Math.max(fvDay + 40, Math.min(endDay - 10, 200))) : undefined;
      this.escalate(c, fvDay, legalDay);
    }
  }

  private resolve(c: C, at: Date): void {
    const from = c.stage;
    c.stage = 'RESOLVED';
    c.version++;
    this.changeStatus(c, 'PAID');
    c.closedAt = at;
    this.event(c, 'STAGE_CHANGED', at, null, `Stage ${from} → RESOLVED: overdue amount paid in full.`, { from, to: 'RESOLVED', reason: 'paid in full' });
    this.cancelPending(c, at);
  }

  private close(c: C, at: Date, reason: CloseReason, status: CaseStatus, note: string): void {
    const supervisor = this.staffOf('supervisor');
    const from = c.stage;
    c.stage = 'CLOSED';
    c.closeReason = reason;
    c.closedAt = at;
    c.version++;
    if (c.status !== status) this.changeStatus(c, status);
    this.event(c, 'CASE_CLOSED', at, supervisor, `Case closed from ${from} (${reason}): ${note}`, { from, reason });
    this.cancelPending(c, at);
  }

  /** A reminder that was due after the end is cancelled with the case. */
  private cancelPending(c: C, at: Date): void {
    if (c.i % 4 !== 0) return;
    const scheduledAt = new Date(at.getTime() + DAY_MS - 2 * HOUR);
    this.reminder(c, 'SMS', scheduledAt, 'overdue', { status: 'CANCELLED' });
    const row = c.reminders[c.reminders.length - 1]!.row;
    row.cancelledAt = this.plus(at, 1);
  }

  private storyResolvedDirect(c: C): void {
    const r = this.rng;
    const e = r.int(Math.min(c.last, 5), c.last);
    this.endedStages(c, e);
    const twoPayments = e > 20 && r.chance(0.35);
    const firstDay = twoPayments ? r.int(Math.max(2, e - 20), e - 5) : e;
    this.routineCalls(c, r.int(1, 3), 2, firstDay - 1);
    this.routineReminders(c, firstDay - 1);
    if (twoPayments) this.payment(c, this.rt(c, firstDay, 9, 20), this.share(c, 30, 60), []);
    const payAt = this.rt(c, e, 9, 19);
    const extra = c.spec.scenario === 'RESOLVED_CREDIT' ? BigInt(r.int(100, 5000)) : 0n;
    this.payment(c, payAt, this.balance(c) + extra, []);
    c.contactStop = e;
    this.resolve(c, this.plus(payAt, 2));
  }

  private storyResolvedPromise(c: C): void {
    const r = this.rng;
    const k = r.int(Math.min(c.last - 1, 4), c.last - 1);
    const pf = k + r.int(3, 20);
    this.endedStages(c, k);
    this.routineCalls(c, r.int(1, 3), 2, k - 1);
    this.routineReminders(c, k - 1);
    const at = this.rt(c, k, 9, 17);
    c.busy.add(k);
    const amount = this.balance(c);
    const attemptId = this.call(c, at, 'PROMISE_TO_PAY', `Promised to clear ${this.money(c, amount)} by ${this.dayStr(c, pf)}.`);
    const promise = this.promise(c, { amount, pf, at: this.plus(at, 4), attemptId });
    const payDay = r.int(k + 1, Math.min(pf, c.last));
    const payAt = this.rt(c, payDay, 9, 19);
    this.payment(c, payAt, amount, [{ target: 'PROMISE', promise, amount }]);
    promise.status = 'KEPT';
    promise.settledAt = payAt;
    this.event(c, 'PROMISE_KEPT', this.plus(payAt, 2), null, `Promise of ${this.money(c, amount)} kept.`, { promiseId: promise.id! });
    c.contactStop = payDay;
    this.resolve(c, this.plus(payAt, 3));
  }

  private storyResolvedPlan(c: C): void {
    const r = this.rng;
    const count = r.int(3, 4);
    const p0 = r.int(Math.max(4, c.last - 200), c.last - 16 - 31 * (count - 1));
    this.endedStages(c, p0);
    this.routineCalls(c, r.int(1, 3), 2, p0 - 1);
    this.routineReminders(c, p0 - 1);
    const at = this.rt(c, p0, 9, 16);
    c.busy.add(p0);
    this.call(c, at, 'ANSWERED', 'Debtor agrees to clear the balance in a few monthly instalments.');
    const plan = this.plan(c, {
      kind: 'INSTALMENTS',
      status: 'ACTIVE',
      proposedAt: this.plus(at, 25),
      count,
      firstDue: this.dayDate(c, p0 + r.int(7, 14)),
      decidedAt: this.rt(c, p0 + 1, 10, 17),
    });
    this.changeStatus(c, 'PROMISED');
    let lastPay = at;
    for (const inst of plan.instalments) {
      const dueDay = daysBetween(c.dueStr, dateOnly(inst.dueDate as Date));
      lastPay = this.rt(c, Math.max(p0 + 2, dueDay - r.int(0, 3)), 8, 20);
      this.payment(c, lastPay, inst.amount as bigint, [{ target: 'INSTALMENT', instalment: inst, plan: plan.row, amount: inst.amount as bigint }]);
    }
    plan.row.status = 'COMPLETED';
    plan.row.completedAt = this.plus(lastPay, 2);
    this.event(c, 'PLAN_COMPLETED', this.plus(lastPay, 2), null, 'Repayment plan completed: every instalment paid.', { planId: plan.row.id! });
    c.contactStop = c.last;
    this.resolve(c, this.plus(lastPay, 3));
  }

  private storySettled(c: C): void {
    const r = this.rng;
    const s = r.int(Math.max(10, c.last - 250), c.last - 4);
    this.endedStages(c, s);
    this.routineCalls(c, r.int(2, 4), 2, s - 1);
    this.routineReminders(c, s - 1);
    const at = this.rt(c, s, 9, 16);
    c.busy.add(s);
    this.call(c, at, 'ANSWERED', 'Debtor offers a lump-sum settlement funded by family.');
    const balance = this.balance(c);
    const discountPct = BigInt(r.int(15, 40));
    const total = ((balance * (100n - discountPct)) / 100n / 100n) * 100n;
    const dueDay = s + r.int(3, 10);
    const plan = this.plan(c, {
      kind: 'SETTLEMENT',
      status: 'ACTIVE',
      proposedAt: this.plus(at, 30),
      count: 1,
      total,
      discount: balance - total,
      firstDue: this.dayDate(c, Math.min(dueDay, c.last)),
      decidedAt: this.rt(c, s + 1, 10, 17),
    });
    this.changeStatus(c, 'PROMISED');
    const inst = plan.instalments[0]!;
    const payAt = this.rt(c, Math.min(s + 2 + r.int(0, 2), c.last - 1), 9, 18);
    this.payment(c, payAt, total, [{ target: 'INSTALMENT', instalment: inst, plan: plan.row, amount: total }]);
    plan.row.status = 'COMPLETED';
    plan.row.completedAt = this.plus(payAt, 2);
    this.event(c, 'PLAN_COMPLETED', this.plus(payAt, 2), null, `Settlement paid; ${this.money(c, balance - total)} forgiven.`, { planId: plan.row.id! });
    // The discount is forgiven: nothing is owed any more.
    c.principal = 0n;
    c.interest = 0n;
    c.fees = 0n;
    const closeDay = Math.min(this.dayOf(c, payAt) + 1, c.last);
    const closeAt = this.at(c, closeDay, 17, r.int(0, 50));
    c.contactStop = closeDay;
    this.close(c, closeAt > payAt ? closeAt : this.plus(payAt, 60), 'SETTLED', 'PAID', 'settlement paid in full.');
  }

  private storyClosed(c: C): void {
    const r = this.rng;
    const s = c.spec.scenario;
    const supervisor = this.staffOf('supervisor');
    let e: number;
    if (s === 'CLOSED_WRITTEN_OFF') e = r.int(Math.max(181, c.last - 150), c.last);
    else e = r.int(Math.max(20, c.last - 200), c.last);
    this.endedStages(c, e, s === 'CLOSED_WRITTEN_OFF');
    const stop = s === 'CLOSED_DECEASED' ? e - r.int(5, 15) : e;
    this.routineCalls(c, r.int(2, 5), 2, stop - 1);
    this.routineReminders(c, stop - 1);
    c.contactStop = stop;
    const at = this.at(c, e, 16, r.int(0, 50));
    if (s === 'CLOSED_WRITTEN_OFF') {
      this.close(c, at, 'WRITTEN_OFF', 'WRITTEN_OFF', 'judgment obtained, no attachable assets found; written off.');
    } else if (s === 'CLOSED_RETURNED') {
      const p = c.periods.find((x) => x.to === null);
      if (p) {
        p.to = this.plus(at, -2);
        const row = this.rows.placements.find((x) => x.caseId === c.id && x.endedAt === null)!;
        row.endedAt = p.to;
        row.recallReason = 'END_OF_PLACEMENT';
        row.recallNote = 'Returned to the bank at the end of collections.';
        row.endedById = supervisor.id;
        this.event(c, 'CASE_RECALLED', this.plus(p.to, -1), supervisor, `Recalled from ${p.agencyCode ? agencyName(p.agencyCode) : 'the collector'} (END_OF_PLACEMENT).`, { reason: 'END_OF_PLACEMENT' });
        c.version++;
      }
      this.close(c, at, 'RETURNED_TO_BANK', 'OPEN', 'returned to the account management team.');
    } else if (s === 'CLOSED_DECEASED') {
      const holdAt = this.at(c, stop, 11, r.int(0, 50));
      this.rows.holds.push({
        id: this.ids.next(holdAt),
        caseId: c.id,
        reason: 'DECEASED',
        note: 'Branch informed of the death of the cardholder; awaiting the death certificate.',
        startsAt: holdAt,
        placedById: supervisor.id,
        createdAt: holdAt,
      });
      this.event(c, 'HOLD_PLACED', holdAt, supervisor, 'Contact on hold: DECEASED.', { reason: 'DECEASED' });
      c.version++;
      this.close(c, at, 'DECEASED', 'OPEN', 'death certificate received; claim lodged against the estate.');
    } else {
      this.close(c, at, 'BANKRUPTCY', 'OPEN', 'court accepted a personal bankruptcy application; claim filed with the administrator.');
    }
  }

  // ---------------------------------------------------------------- finishing a case

  private finish(c: C): void {
    // Bucket history: a row each time the case entered a bucket, up to its end.
    const endDay = c.closedAt ? daysBetween(c.dueStr, zoneDate(c.closedAt, BANK_TIME_ZONE)) : c.dpd;
    const buckets: Bucket[] = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M6_PLUS'];
    this.rows.buckets.push({ id: this.ids.next(c.openedAt), caseId: c.id, bucket: 'M1', enteredAt: c.openedAt });
    for (let k = 1; k < buckets.length; k++) {
      const day = 30 * k + 1;
      if (day > endDay) break;
      const bankDay = dateOnly(addDays(c.dueDate, day));
      let at = wallTime(bankDay, 0, 5, BANK_TIME_ZONE);
      if (at > this.now) at = new Date(this.now.getTime() - MINUTE);
      this.rows.buckets.push({ id: this.ids.next(at), caseId: c.id, bucket: buckets[k]!, enteredAt: at });
    }

    // Reminder messages, with the balance as it stood when each was sent.
    for (const pr of c.reminders) {
      const at = pr.row.scheduledAt as Date;
      const paidBefore = c.payments.filter((p) => p.at < at).reduce((s, p) => s + p.amount, 0n);
      const orig = c.original.principal + c.original.interest + c.original.fees;
      const owed = pr.amount ?? (orig - paidBefore > 0n ? orig - paidBefore : 0n);
      const day = this.dayOf(c, at);
      const deadline = pr.dueDate ?? this.dayStr(c, day + 7);
      pr.row.renderedMessage = renderReminder(pr.template, pr.row.channel as ContactChannel, c, {
        amount: this.money(c, owed),
        deadline,
        daysPastDue: day,
      });
      this.rows.reminders.push(pr.row);
    }

    // The timeline in order; nothing in it may lie in the future.
    c.events.sort((a, b) => (a.occurredAt as Date).getTime() - (b.occurredAt as Date).getTime());
    for (const e of c.events) {
      if ((e.occurredAt as Date) > this.now) {
        throw new Error(`demo case ${c.ref} (${c.spec.scenario}, ${c.dpd} dpd): event ${e.type} at ${(e.occurredAt as Date).toISOString()} is after now`);
      }
    }
    this.rows.events.push(...c.events);
    const lastAt = (c.events[c.events.length - 1]?.occurredAt as Date | undefined) ?? c.openedAt;

    const current = c.periods.find((p) => p.to === null);
    const orig = c.original.principal + c.original.interest + c.original.fees;
    const big = c.currency === 'USD' ? orig >= 800_000n : orig >= 8_000_000n;
    const small = c.currency === 'USD' ? orig < 50_000n : orig < 300_000n;
    const priority: CasePriority =
      c.stage === 'LEGAL' && big ? 'URGENT' : c.stage === 'LEGAL' || big || (c.dpd > 90 && !small) ? 'HIGH' : small ? 'LOW' : 'NORMAL';
    this.rows.cases.push({
      id: c.id,
      accountId: c.accountId,
      debtorId: c.debtorId,
      currency: c.currency,
      principal: c.principal,
      interest: c.interest,
      fees: c.fees,
      overdueTotal: c.principal + c.interest + c.fees,
      credit: c.credit,
      dueDate: c.dueDate,
      stage: c.stage,
      status: c.status,
      priority,
      assignedAgencyId: current?.agencyCode ? this.agencyIds.get(current.agencyCode)! : null,
      assignedCollectorId: current?.collector?.id ?? null,
      version: c.version,
      openedAt: c.openedAt,
      closedAt: c.closedAt,
      closeReason: c.closeReason,
      updatedAt: lastAt,
    });
  }

  /** A few audit rows: identity reveals for litigation, as the audit log would show them. */
  private audit(cases: C[]): void {
    const supervisor = this.staffOf('supervisor');
    const legal = cases.filter((c) => c.stage === 'LEGAL').slice(0, 3);
    for (const c of legal) {
      const at = this.at(c, c.last, 11, 5 + c.i % 50);
      this.rows.audit.push({
        id: this.ids.next(at),
        at,
        actorId: supervisor.id,
        actorRole: 'BANK_SUPERVISOR',
        action: 'debtor.revealIdentity',
        entityType: 'Debtor',
        entityId: c.debtorId,
        caseId: c.id,
        reason: 'Full ID number needed for the court filing.',
        data: { field: 'nationalId' },
      });
    }
  }
}

// ------------------------------------------------------------------ texts

const CONNECTED = new Set<ContactOutcome>([
  'ANSWERED',
  'PROMISE_TO_PAY',
  'REFUSED',
  'DISPUTE',
  'VISIT_CONSENT_GIVEN',
  'VISIT_CONSENT_REFUSED',
]);

const OUTCOME_TEXT: Record<ContactOutcome, string> = {
  NO_ANSWER: 'no answer',
  ANSWERED: 'spoke with the debtor',
  PROMISE_TO_PAY: 'promise to pay',
  REFUSED: 'debtor refused to pay',
  WRONG_NUMBER: 'wrong number',
  DISPUTE: 'debtor disputes the debt',
  VISIT_CONSENT_GIVEN: 'consent to a visit given',
  VISIT_CONSENT_REFUSED: 'consent to a visit refused',
  SENT: 'sent',
  DELIVERED: 'delivered',
  FAILED: 'failed',
};

const CALL_NOTES: Partial<Record<ContactOutcome, string[]>> = {
  NO_ANSWER: ['', 'Rang out after 45 s.', 'Voicemail full.', 'Line busy.'],
  ANSWERED: [
    'Debtor acknowledged the debt; salary expected at month end.',
    'Debtor says the business is slow; asked about instalments.',
    'Debtor asked for a statement of the overdue amount.',
    'Debtor will discuss with family and call back.',
  ],
  REFUSED: ['Debtor refused to discuss payment and hung up.', 'Debtor says he cannot pay anything now.'],
  WRONG_NUMBER: ['The person who answered does not know the debtor; number flagged.'],
};

const VISIT_OUTCOME_TEXT: Record<VisitOutcome, string> = {
  PROMISE_TO_PAY: 'debtor signed a repayment promise letter',
  PLAN_AGREED: 'repayment plan agreed, agreement signed',
  REFUSED: 'debtor refused any arrangement',
  NOT_AT_HOME: 'nobody at home',
  CONSENT_WITHDRAWN: 'debtor withdrew consent on arrival; collectors left at once',
};

const REASON_TEXT: Record<DelinquencyReason, string> = {
  JOB_LOSS: 'Laid off in a restructuring; looking for work.',
  ILLNESS: 'Medical bills after a family member fell ill.',
  BUSINESS_FAILURE: 'Small shop closed; suppliers still owed.',
  DISPUTE: 'Disputes part of the balance.',
  FORGOT: 'Moved house and missed the statements.',
  OTHER: 'Supporting a relative; income stretched.',
};

function visitReport(outcome: VisitOutcome, reason: DelinquencyReason): string {
  const why = REASON_TEXT[reason];
  switch (outcome) {
    case 'PROMISE_TO_PAY':
      return `Met the debtor at home. Reason: ${why} Consequences of continued non-payment explained. Debtor signed a promise letter.`;
    case 'PLAN_AGREED':
      return `Met the debtor at home. Reason: ${why} Instalments and deferral offered; debtor chose instalments and signed the agreement.`;
    case 'REFUSED':
      return `Met the debtor at home. Reason: ${why} Consequences explained, plans offered; debtor refused any arrangement.`;
    case 'NOT_AT_HOME':
      return 'Nobody answered at the agreed time; neighbours not approached (third parties are not told of the debt). Notice left in a sealed envelope.';
    case 'CONSENT_WITHDRAWN':
      return 'Debtor withdrew consent at the door; the visit ended at once as the procedure requires.';
  }
}

/**
 * A small real file for a demo evidence record, of a type its kind accepts (see evidence/sniff.ts):
 * papers and notes are one-page PDFs, photos PNG images, recordings WAV audio.
 */
function demoEvidenceFile(kind: EvidenceKind, title: string, description: string, at: Date, seq: number): Buffer {
  switch (kind) {
    case 'PHOTO':
      return pngImage(96, 64, seq);
    case 'AUDIO':
      return wavRecording(250, seq);
    case 'VIDEO':
      throw new Error('the demo has no video evidence');
    default:
      return pdfDocument(title, [description, `Recorded ${at.toISOString()}`, 'Arrears demo data: not a real document.']);
  }
}

const EVIDENCE_TEXT: Record<EvidenceKind, string> = {
  PROMISE_LETTER: 'Repayment promise letter signed by the debtor.',
  OVERDUE_STATEMENT: 'Overdue statement handed to the debtor.',
  REPAYMENT_AGREEMENT: 'Signed repayment agreement.',
  PHOTO: 'Photo of the signed acknowledgement.',
  AUDIO: 'Audio recording of the visit.',
  VIDEO: 'Video recording of the visit.',
  NOTE: 'Collector notes.',
  LETTER: 'Letter sent to the debtor.',
  DISPUTE_DOCUMENT: 'A document the debtor sent with a dispute.',
  DEBT_VERIFICATION: 'The bank’s verification of a disputed debt.',
  DOSSIER: 'The visit dossier printed for the collectors.',
  NOTICE: 'The notice handed to the debtor at a visit.',
};

function agencyName(code: 'NORTH' | 'SOUTH'): string {
  return code === 'NORTH' ? 'North Recovery' : 'South Recovery';
}

function pointLabel(p: ContactPointInfo): string {
  const tail = p.kind === 'EMAIL' ? p.value.replace(/^(.).*@/, '$1***@') : `…${p.value.slice(-4)}`;
  const kind = p.kind === 'MOBILE' ? 'mobile' : p.kind === 'HOME_PHONE' ? 'home phone' : p.kind === 'WORK_PHONE' ? 'work phone' : 'e-mail';
  return `${kind} ${tail}`;
}

function hm(at: Date, tz: string): string {
  const m = minutesOfDay(at, tz);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** The message a reminder carries: the amount due and the repayment deadline, in the debtor's language. */
function renderReminder(
  template: PendingReminder['template'],
  channel: ContactChannel,
  c: C,
  v: { amount: string; deadline: string; daysPastDue: number },
): string {
  if (c.lang === 'ZH_CN') {
    const body =
      template === 'promise_due'
        ? `尊敬的${c.fullName}，您承诺于${zhDate(v.deadline)}前偿还信用卡（尾号${c.last4}）欠款${v.amount}，请按时还款。`
        : template === 'instalment_due'
          ? `尊敬的${c.fullName}，您的信用卡（尾号${c.last4}）分期还款${v.amount}将于${zhDate(v.deadline)}到期，请按时还款。`
          : `尊敬的${c.fullName}，您的信用卡（尾号${c.last4}）已逾期${v.daysPastDue}天，欠款${v.amount}，请于${zhDate(v.deadline)}前还款。如已还款，请忽略本信息。`;
    return channel === 'EMAIL' ? `主题：信用卡逾期还款提醒\n\n${body}\n\n示例银行信用卡中心` : `【示例银行】${body}`;
  }
  const body =
    template === 'promise_due'
      ? `${c.fullName}, as agreed, ${v.amount} on your card ending ${c.last4} is due by ${enDate(v.deadline)}.`
      : template === 'instalment_due'
        ? `${c.fullName}, your instalment of ${v.amount} on your card ending ${c.last4} is due by ${enDate(v.deadline)}.`
        : `${c.fullName}, your credit card ending ${c.last4} is ${v.daysPastDue} days past due. Amount due: ${v.amount}. Please pay by ${enDate(v.deadline)}.`;
  // Regulation F 1006.6(e): electronic messages carry an opt-out.
  return channel === 'EMAIL'
    ? `Subject: Your Example Bank card ending ${c.last4} is past due\n\n${body}\n\nExample Bank Card Services\nTo stop e-mails about this account, reply "unsubscribe".`
    : `Example Bank: ${body} Reply STOP to opt out.`;
}
