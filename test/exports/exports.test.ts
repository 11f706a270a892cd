// Exports (issue 14, item 6): requestExport (audited) → the export job writes CSV or XLSX in
// batches → a signed short-lived link downloads it (audited). Only the requester's scope and era,
// national IDs masked unless a revealing role asks, spreadsheet formulas neutralised, and every
// link bound to its user and its expiry.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { runPendingExports } from '../../src/modules/exports/service.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { JobScheduler, findJob } from '../../src/jobs/index.ts';
import { exportsJob, EXPORTS_JOB } from '../../src/jobs/exports.ts';

let t: TestApp;
let s: Scenario;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-exports-'));
  t = await createTestApp({ env: { ARREARS_EXPORTS_DIR: dir } });
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  const a = await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, debtorName: '=HYPERLINK("http://evil.example")', nationalId: '110101199003071234' });
  await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, debtorName: '张三' });
  const c = await createCase(t.prisma, t.pii, { now, agencyId: s.south.id, debtorName: 'South Debtor' });
  // 2,500 payments on North's case, and one of South's era on it: more than two batches.
  await t.prisma.payment.createMany({
    data: Array.from({ length: 2_500 }, (_, i) => ({
      caseId: a.id, agencyId: s.north.id, amount: BigInt(100 + i), currency: 'CNY', receivedAt: now, channel: 'CARD' as const, idempotencyKey: `x-${i}`, requestHash: 'h',
    })),
  });
  await t.prisma.payment.create({ data: { caseId: a.id, agencyId: s.south.id, amount: 1n, currency: 'CNY', receivedAt: now, channel: 'CASH', externalReference: 'SOUTH-ERA', idempotencyKey: 'south-era', requestHash: 'h' } });
  await t.prisma.payment.create({ data: { caseId: c.id, agencyId: s.south.id, amount: 2n, currency: 'CNY', receivedAt: now, channel: 'CASH', externalReference: 'SOUTH-CASE', idempotencyKey: 'south-case', requestHash: 'h' } });
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const REQUEST = `mutation($i: RequestExportInput!) { requestExport(input: $i) { export { id status kind format } userErrors { code field message } } }`;
const STATUS = `query($id: ID!) { node(id: $id) { ... on Export { id status progress rowsTotal rowsWritten fileName sizeBytes sha256 downloadUrl error } } }`;
const run = () => runPendingExports({ prisma: t.prisma, clock: t.clock, pii: t.pii, logger: createLogger('silent'), dir, owner: 'test' });
const download = (url: string) => t.runtime.app.fetch(new Request(new URL(new URL(url).pathname + new URL(url).search, 'http://arrears.test')));

async function exportFor(user: { id: string; email: string }, input: Record<string, unknown>) {
  const token = await t.token(user);
  const r = await t.gql(token, REQUEST, { i: input });
  expect(r.errors).toBeUndefined();
  expect(r.data.requestExport.userErrors).toEqual([]);
  const id = r.data.requestExport.export.id as string;
  expect(r.data.requestExport.export.status).toBe('PENDING');
  await run();
  const st = await t.gql(token, STATUS, { id });
  return { id, token, status: st.data.node };
}

describe('exports', () => {
  it('writes a CSV of the agency’s own cases, masked, neutralised, with a BOM; the download is audited', async () => {
    const { id, status } = await exportFor(s.users.northManager, { kind: 'CASES', format: 'CSV', bom: true });
    expect(status).toMatchObject({ status: 'COMPLETED', progress: 1, rowsTotal: 2, rowsWritten: 2 });
    const res = await download(status.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    const lines = text.trim().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^case,debtor,nationalId,/);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    expect(text).toContain('张三');
    expect(text).toContain('1101**********1234');
    expect(text).not.toContain('110101199003071234');
    expect(text).not.toContain('South Debtor');
    const audit = await t.prisma.auditEvent.findMany({ where: { entityId: decodeGlobalID(id).id }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => a.action).sort()).toEqual(['export.complete', 'export.download', 'export.request']);
  });

  it('reveals national IDs only to a role that may, on request', async () => {
    const agent = await t.gql(await t.token(s.users.northManager), REQUEST, { i: { kind: 'CASES', revealNationalIds: true } });
    expect(agent.data.requestExport.userErrors[0]).toMatchObject({ code: 'FORBIDDEN_ACTION', field: ['revealNationalIds'] });
    const { status } = await exportFor(s.users.supervisor, { kind: 'CASES', format: 'CSV', revealNationalIds: true });
    const text = await (await download(status.downloadUrl)).text();
    expect(text).toContain('110101199003071234');
  });

  it('streams payments in batches, of the viewer’s era only, as XLSX', async () => {
    const { status } = await exportFor(s.users.northManager, { kind: 'PAYMENTS', format: 'XLSX', period: { from: '2026-11-28', to: '2026-11-28' } });
    expect(status).toMatchObject({ status: 'COMPLETED', rowsTotal: 2_500, rowsWritten: 2_500 });
    const res = await download(status.downloadUrl);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
    const sheet = wb.worksheets[0]!;
    expect(sheet.rowCount).toBe(2_501);
    expect(sheet.getRow(1).values).toEqual([undefined, 'case', 'receivedAt', 'amount', 'currency', 'channel', 'externalReference', 'reversed']);
    expect(sheet.getRow(2).getCell(3).value).toBe('1.00');
    const refs = new Set<unknown>();
    sheet.eachRow((row) => refs.add(row.getCell(6).value));
    expect(refs.has('SOUTH-ERA')).toBe(false);
    expect(refs.has('SOUTH-CASE')).toBe(false);
  });

  it('exports the portfolio as the report shows it', async () => {
    const { status } = await exportFor(s.users.admin, { kind: 'PORTFOLIO', format: 'CSV', groupBy: ['AGENCY'] });
    const lines = (await (await download(status.downloadUrl)).text()).trim().split('\r\n');
    expect(lines.slice(1).map((l) => l.split(',').slice(3, 4).concat(l.split(',').slice(9, 10)))).toEqual(
      expect.arrayContaining([['North Recovery', '2'], ['South Recovery', '1']]),
    );
  });

  it('keeps an export to its requester: node, links, expiry', async () => {
    const { id, status } = await exportFor(s.users.northManager, { kind: 'CASES' });
    // Another agency's principal, and another user of the same agency: the export does not exist for them.
    for (const other of [s.users.southManager, s.users.northAgent]) {
      const r = await t.gql(await t.token(other), STATUS, { id });
      expect(r.data.node).toBeNull();
    }
    // The link with another user's id: refused; a changed signature: refused.
    const url = new URL(status.downloadUrl);
    url.searchParams.set('u', s.users.southManager.id);
    expect((await download(url.toString())).status).toBe(403);
    // Past the link's five minutes: 410; past the file's day: the file is gone, and no link is given.
    t.clock.advance(301_000);
    expect((await download(status.downloadUrl)).status).toBe(410);
    t.clock.advance(24 * 3_600_000);
    const fresh = await t.gql(await t.token(s.users.northManager), STATUS, { id });
    expect(fresh.data.node.downloadUrl).toBeNull();
    const result = await run();
    expect(result.expired).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, `${decodeGlobalID(id).id}.csv`))).toBe(false);
  });

  it('replays a retried request and refuses a BOM on XLSX', async () => {
    const token = await t.token(s.users.admin);
    const i = { kind: 'VISITS', format: 'CSV', idempotencyKey: 'export-retry-0001' };
    const a = await t.gql(token, REQUEST, { i });
    const b = await t.gql(token, REQUEST, { i });
    expect(b.data.requestExport.export.id).toBe(a.data.requestExport.export.id);
    const bad = await t.gql(token, REQUEST, { i: { kind: 'CASES', format: 'XLSX', bom: true } });
    expect(bad.data.requestExport.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['bom'] });
    await run();
  });

  it('is written by the exports job, with the requester’s scope when it runs (a case recalled since is not in it)', async () => {
    expect(findJob(EXPORTS_JOB)?.name).toBe('exports');
    const now = t.clock.now();
    const moved = await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, debtorName: 'Recalled Before The Run' });
    const token = await t.token(s.users.northManager);
    const r = await t.gql(token, REQUEST, { i: { kind: 'CASES' } });
    await t.prisma.case.update({ where: { id: moved.id }, data: { assignedAgencyId: null } });
    const scheduler = new JobScheduler({ prisma: t.prisma, clock: t.clock, logger: createLogger('silent'), pii: t.pii }, [exportsJob({ dir })]);
    const run = await scheduler.runOnce(EXPORTS_JOB);
    expect(run).toMatchObject({ status: 'SUCCEEDED', detail: { completed: 1, failed: 0 } });
    const st = await t.gql(token, STATUS, { id: r.data.requestExport.export.id });
    const text = await (await download(st.data.node.downloadUrl)).text();
    expect(text).not.toContain('Recalled Before The Run');
    expect(text).toContain('张三');
  });
});
