/**
 * The evidence store full or unwritable (issue 11, point 6): the client gets UNAVAILABLE (HTTP
 * 503, Retry-After), never FILE_REJECTED; the fault is logged with its cause; no record points at
 * a missing file and nothing is left in the folder. Running as root, chmod stops nothing: the
 * errno is simulated under the real folder store (its file calls fail as the kernel would), and
 * a store of another kind is injected.
 */
import fsp from 'node:fs/promises';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createEvidenceTestApp, type EvidenceTestApp } from './support.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import type { BlobStore } from '../../src/modules/evidence/blob-store.ts';
import { blob, files } from './files.ts';

let e: EvidenceTestApp;
let s: Scenario;
let token: string;
let caseGid: string;
let caseId: string;
const logged: { msg: string; errno?: string; err?: { code?: string; message?: string } }[] = [];

const UPLOAD = `mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) { evidence { id sha256 } case { version } userErrors { code field message } } }`;

const errno = (code: string, syscall: string) => Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, errno: -28, syscall });

beforeAll(async () => {
  e = await createEvidenceTestApp();
  s = await createPeople(e.t.prisma);
  token = await e.t.token(s.users.collector);
  const c = await createCase(e.t.prisma, e.t.pii, { collectorId: s.users.collector.id, now: e.t.clock.now() });
  caseId = c.id;
  caseGid = encodeGlobalID('Case', c.id);
  // The server's log, captured: a store fault must reach the operator with its cause.
  e.t.runtime.deps.logger = pino(
    { level: 'error' },
    new Writable({
      write(chunk, _enc, done) {
        logged.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => e?.close());

const upload = (content = files.pdf(`letter ${Math.random()}`)) => e.upload(token, UPLOAD, { caseId: caseGid, kind: 'PROMISE_LETTER' }, blob(content, 'application/pdf'), 'letter.pdf');

async function expectUnavailable(r: Awaited<ReturnType<typeof upload>>, errnoCode: string) {
  expect(r.data?.uploadEvidence ?? null).toBeNull();
  expect(r.errors).toHaveLength(1);
  expect(r.errors![0]!.extensions).toMatchObject({ code: 'UNAVAILABLE' });
  expect(r.errors![0]!.message).toContain(errnoCode);
  expect(r.errors![0]!.message).toMatch(/nothing was recorded/);
  expect(r.status).toBe(503);
  expect(r.headers.get('retry-after')).toBe('30');
  expect(await e.t.prisma.evidence.count({ where: { caseId } })).toBe(0);
  expect(e.files()).toEqual({ blobs: [], staging: [] });
  expect(logged.some((l) => l.msg.includes('evidence store unavailable') && l.errno === errnoCode && l.err?.message?.includes(errnoCode))).toBe(true);
}

describe('evidence store faults', () => {
  it('a full disk (ENOSPC when the bytes are written) is UNAVAILABLE, logged, and leaves nothing', async () => {
    const open = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await open(...args);
      // The file is created; the disk is full when its bytes are written.
      (handle as unknown as { write: unknown }).write = async () => {
        throw errno('ENOSPC', 'write');
      };
      return handle;
    });
    const big = Buffer.concat([files.pdf('big'), Buffer.alloc(256 * 1024, 0x20)]);
    const r = await e.upload(token, UPLOAD, { caseId: caseGid, kind: 'PROMISE_LETTER' }, new Blob([new Uint8Array(big)], { type: 'application/pdf' }), 'letter.pdf');
    await expectUnavailable(r, 'ENOSPC');
  });

  it('a read-only evidence folder (EROFS when a file is created) is UNAVAILABLE, not an internal error', async () => {
    vi.spyOn(fsp, 'open').mockRejectedValue(errno('EROFS', 'open'));
    await expectUnavailable(await upload(), 'EROFS');
  });

  it('an unwritable blob folder at the last step (EACCES moving the bytes under their key) rolls the record back', async () => {
    vi.spyOn(fsp, 'link').mockRejectedValue(errno('EACCES', 'link'));
    vi.spyOn(fsp, 'mkdir').mockRejectedValue(errno('EACCES', 'mkdir'));
    const versionBefore = (await e.t.prisma.case.findUniqueOrThrow({ where: { id: caseId } })).version;
    await expectUnavailable(await upload(), 'EACCES');
    expect((await e.t.prisma.case.findUniqueOrThrow({ where: { id: caseId } })).version).toBe(versionBefore);
  });

  it('an injected store over quota (EDQUOT) is UNAVAILABLE too; once the fault is gone the same upload succeeds without a restart', async () => {
    const real = e.t.runtime.deps.evidence!.blobs;
    const full: BlobStore = {
      put: async () => {
        throw errno('EDQUOT', 'write');
      },
      get: (k) => real.get(k),
      hash: (k) => real.hash(k),
      has: (k) => real.has(k),
    };
    e.t.runtime.deps.evidence!.blobs = full;
    const content = files.pdf('the same letter, twice');
    try {
      await expectUnavailable(await upload(content), 'EDQUOT');
    } finally {
      e.t.runtime.deps.evidence!.blobs = real;
    }
    const ok = await upload(content);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.uploadEvidence.userErrors).toEqual([]);
    expect(ok.data.uploadEvidence.evidence.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(e.files().blobs).toHaveLength(1);
  });
});
