/**
 * uploadEvidence / supersedeEvidence over real GraphQL multipart requests (issue 5, item 2):
 * types sniffed from the bytes, size limited, hash computed while streaming, bytes stored
 * content-addressed; every refusal is a typed user error that stores nothing.
 */
import { createEvidenceTestApp, type EvidenceTestApp } from './support.ts';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { uploadEvidence } from '../../src/modules/evidence/service.ts';
import type { Viewer } from '../../src/auth/viewer.ts';
import type { BlobStore } from '../../src/modules/evidence/blob-store.ts';
import { blob, files } from './files.ts';
import { listen } from '../../src/server.ts';
import { DENIAL_KINDS } from '../../src/modules/audit/denials.ts';

const MAX = 64 * 1024;
let e: EvidenceTestApp;
let s: Scenario;
const tok: Record<string, string> = {};
const gid = (type: string, id: string) => encodeGlobalID(type, id);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type CaseRow = Awaited<ReturnType<typeof createCase>>;
let northCase: CaseRow, southCase: CaseRow, closedCase: CaseRow;
let northVisit: string, northScheduledVisit: string, southVisit: string;

const UPLOAD = `mutation($input: UploadEvidenceInput!) {
  uploadEvidence(input: $input) {
    evidence { id kind sha256 sizeBytes contentType fileName description capturedAt visit { id } custody { action detail } supersedes { id } supersededBy { id } }
    case { id version }
    userErrors { code field message }
  }
}`;
const SUPERSEDE = `mutation($input: SupersedeEvidenceInput!) {
  supersedeEvidence(input: $input) {
    evidence { id sha256 description visit { id } supersedes { id sha256 } }
    superseded { id sha256 supersededBy { id } custody { action } }
    userErrors { code field message }
  }
}`;

async function visitOn(c: CaseRow, status: 'IN_PROGRESS' | 'SCHEDULED') {
  const address = await e.t.prisma.address.findFirstOrThrow({ where: { debtorId: c.debtorId } });
  const v = await e.t.prisma.visit.create({ data: { caseId: c.id, addressId: address.id, purpose: 'Home visit', dossier: {}, status } });
  return v.id;
}

async function snapshot() {
  const p = e.t.prisma;
  return {
    evidence: await p.evidence.count(),
    custody: await p.evidenceCustody.count(),
    events: await p.caseEvent.count(),
    // A refusal writes only its denial (test/audit/denials.test.ts), counted apart.
    audits: await p.auditEvent.count({ where: { action: { notIn: [...DENIAL_KINDS] } } }),
    files: e.files(),
  };
}

beforeAll(async () => {
  e = await createEvidenceTestApp({ maxBytes: MAX });
  s = await createPeople(e.t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await e.t.token(u);
  const now = e.t.clock.now();
  northCase = await createCase(e.t.prisma, e.t.pii, { agencyId: s.north.id, collectorId: s.users.northAgent.id, now });
  southCase = await createCase(e.t.prisma, e.t.pii, { agencyId: s.south.id, collectorId: s.users.southAgent.id, now });
  closedCase = await createCase(e.t.prisma, e.t.pii, { agencyId: s.north.id, collectorId: s.users.northAgent.id, stage: 'CLOSED', now });
  northVisit = await visitOn(northCase, 'IN_PROGRESS');
  northScheduledVisit = await visitOn(northCase, 'SCHEDULED');
  southVisit = await visitOn(southCase, 'IN_PROGRESS');
});
afterAll(async () => e?.close());

describe('uploadEvidence', () => {
  it('stores a PDF promise letter of a visit: sniffed type, SHA-256, the file content-addressed, custody, timeline, audit', async () => {
    const bytes = files.pdf('north letter');
    const before = await snapshot();
    const r = await e.upload(
      tok.northAgent!,
      UPLOAD,
      { caseId: gid('Case', northCase.id), visitId: gid('Visit', northVisit), kind: 'PROMISE_LETTER', description: 'Signed on site', capturedAt: '2026-11-28T01:30:00Z' },
      blob(bytes, 'application/pdf'),
      '还款承诺书.pdf',
    );
    expect(r.errors).toBeUndefined();
    const p = r.data.uploadEvidence;
    expect(p.userErrors).toEqual([]);
    expect(p.evidence).toMatchObject({
      kind: 'PROMISE_LETTER',
      sha256: sha(bytes),
      sizeBytes: bytes.length,
      contentType: 'application/pdf',
      fileName: '还款承诺书.pdf',
      description: 'Signed on site',
      visit: { id: gid('Visit', northVisit) },
      supersedes: null,
      supersededBy: null,
    });
    expect(new Date(p.evidence.capturedAt).toISOString()).toBe('2026-11-28T01:30:00.000Z');
    expect(p.evidence.custody).toEqual([{ action: 'UPLOADED', detail: expect.stringContaining('AGENCY_COLLECTOR') }]);
    expect(p.case.version).toBe(northCase.version + 1);

    const file = path.join(e.dir, sha(bytes).slice(0, 2), sha(bytes).slice(2));
    expect(fs.readFileSync(file)).toEqual(bytes);
    expect(fs.statSync(file).mode & 0o777).toBe(0o444);
    const after = await snapshot();
    expect(after.evidence - before.evidence).toBe(1);
    expect(after.events - before.events).toBe(1);
    expect(after.audits - before.audits).toBe(1);
    expect(after.files.staging).toEqual([]);
    const event = await e.t.prisma.caseEvent.findFirstOrThrow({ where: { caseId: northCase.id, type: 'EVIDENCE_UPLOADED' } });
    expect(event.agencyId).toBe(s.north.id);
    const audit = await e.t.prisma.auditEvent.findFirstOrThrow({ where: { caseId: northCase.id, action: 'evidence.upload' } });
    expect(audit.actorId).toBe(s.users.northAgent.id);
    expect(audit.data).toMatchObject({ sha256: sha(bytes), kind: 'PROMISE_LETTER' });
  });

  it.each([
    ['a JPEG photo', 'PHOTO', files.jpeg(), 'photo.jpg', 'image/jpeg', 'photo.jpg'],
    ['a PNG scan of a statement', 'OVERDUE_STATEMENT', files.png(), 'statement.png', 'image/png', 'statement.png'],
    ['a WebP photo', 'PHOTO', files.webp(), 'door.webp', 'image/webp', 'door.webp'],
    ['an MP3 recording', 'AUDIO', files.mp3(), 'call.mp3', 'audio/mpeg', 'call.mp3'],
    ['a WAV recording', 'AUDIO', files.wav(), 'visit.wav', 'audio/wav', 'visit.wav'],
    ['an M4A recording', 'AUDIO', files.ftyp('M4A '), 'memo.m4a', 'audio/mp4', 'memo.m4a'],
    ['an MP4 video', 'VIDEO', files.ftyp('isom'), 'visit.mp4', 'video/mp4', 'visit.mp4'],
    ['a JPEG sent as application/pdf named .pdf (the client is not trusted)', 'REPAYMENT_AGREEMENT', files.jpeg(), 'agreement.pdf', 'image/jpeg', 'agreement.jpg'],
  ])('stores %s', async (_name, kind, bytes, name, contentType, fileName) => {
    const r = await e.upload(tok.northManager!, UPLOAD, { caseId: gid('Case', northCase.id), kind }, blob(bytes, 'application/pdf'), name);
    expect(r.data.uploadEvidence.userErrors).toEqual([]);
    expect(r.data.uploadEvidence.evidence).toMatchObject({ contentType, fileName, sha256: sha(bytes), sizeBytes: bytes.length });
    expect(await e.blobs.hash(sha(bytes))).toBe(sha(bytes));
  });

  it('takes an upload over a real HTTP server (Node request parsing) as well', async () => {
    const server = await listen(e.app, '127.0.0.1', 0);
    try {
      const bytes = files.wav();
      const form = new FormData();
      form.set('operations', JSON.stringify({ query: UPLOAD, variables: { input: { caseId: gid('Case', northCase.id), visitId: gid('Visit', northVisit), kind: 'AUDIO', file: null } } }));
      form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
      form.set('0', blob(bytes, 'audio/x-wav'), 'visit-recording.wav');
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${tok.northAgent}`, 'x-graphql-yoga-csrf': '1' }, body: form });
      const body = (await res.json()) as { data: { uploadEvidence: { evidence: { contentType: string; sha256: string }; userErrors: unknown[] } } };
      expect(body.data.uploadEvidence.userErrors).toEqual([]);
      expect(body.data.uploadEvidence.evidence).toMatchObject({ contentType: 'audio/wav', sha256: sha(bytes) });
      const tooBig = new FormData();
      tooBig.set('operations', JSON.stringify({ query: UPLOAD, variables: { input: { caseId: gid('Case', northCase.id), kind: 'PHOTO', file: null } } }));
      tooBig.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
      tooBig.set('0', blob(Buffer.concat([files.png(), Buffer.alloc(MAX)])), 'big.png');
      const refused = (await (await fetch(`${server.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${tok.northAgent}`, 'x-graphql-yoga-csrf': '1' }, body: tooBig })).json()) as {
        data: { uploadEvidence: { userErrors: { code: string }[] } };
      };
      expect(refused.data.uploadEvidence.userErrors[0]!.code).toBe('FILE_REJECTED');
      expect(e.files().staging).toEqual([]);
    } finally {
      await server.close(100);
    }
  });

  it.each([
    ['an executable renamed .pdf', 'PROMISE_LETTER', files.exe(), 'letter.pdf', 'application/pdf', /Windows executable/],
    ['a text file', 'NOTE', files.text(), 'note.pdf', 'application/pdf', /text/],
    ['an empty file', 'PHOTO', Buffer.alloc(0), 'empty.jpg', 'image/jpeg', /empty/],
    ['a file over the configured limit', 'PHOTO', Buffer.concat([files.jpeg(), Buffer.alloc(MAX)]), 'big.jpg', 'image/jpeg', /larger than the limit of 64 KB|larger than the limit/],
    ['a PNG as AUDIO', 'AUDIO', files.png(0x11), 'sound.mp3', 'audio/mpeg', /PNG.*image\/png.*AUDIO evidence must be MP3, M4A, WAV/],
    ['an MP4 as a PHOTO', 'PHOTO', files.ftyp('mp42'), 'p.jpg', 'image/jpeg', /MP4 video/],
  ])('refuses %s: FILE_REJECTED, nothing stored', async (_name, kind, bytes, name, type, message) => {
    const before = await snapshot();
    const r = await e.upload(tok.northAgent!, UPLOAD, { caseId: gid('Case', northCase.id), kind }, blob(bytes, type), name);
    expect(r.errors).toBeUndefined();
    expect(r.data.uploadEvidence.evidence).toBeNull();
    expect(r.data.uploadEvidence.userErrors).toEqual([{ code: 'FILE_REJECTED', field: ['file'], message: expect.stringMatching(message) }]);
    expect(await snapshot()).toEqual(before);
    expect(await e.blobs.has(sha(bytes))).toBe(false);
  });

  it('refuses a capture time in the future, a visit of another case, a visit not yet checked in', async () => {
    const before = await snapshot();
    const base = { caseId: gid('Case', northCase.id), kind: 'PHOTO' };
    const future = await e.upload(tok.northAgent!, UPLOAD, { ...base, capturedAt: '2026-11-28T03:00:00Z' }, blob(files.png(1)), 'a.png');
    expect(future.data.uploadEvidence.userErrors).toEqual([{ code: 'VALIDATION', field: ['capturedAt'], message: expect.any(String) }]);
    const other = await e.upload(tok.northAgent!, UPLOAD, { ...base, visitId: gid('Visit', southVisit) }, blob(files.png(2)), 'b.png');
    expect(other.data.uploadEvidence.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['visitId'], message: 'No such visit on this case' }]);
    const early = await e.upload(tok.northAgent!, UPLOAD, { ...base, visitId: gid('Visit', northScheduledVisit) }, blob(files.png(3)), 'c.png');
    expect(early.data.uploadEvidence.userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION', field: ['visitId'] });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses another agency's case as if it did not exist, an ended case, and the auditor", async () => {
    const before = await snapshot();
    const south = await e.upload(tok.northManager!, UPLOAD, { caseId: gid('Case', southCase.id), kind: 'PHOTO' }, blob(files.png(4)), 'a.png');
    expect(south.data.uploadEvidence.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['caseId'], message: 'No such case' }]);
    const missing = await e.upload(tok.northManager!, UPLOAD, { caseId: gid('Case', '00000000-0000-4000-8000-000000000000'), kind: 'PHOTO' }, blob(files.png(4)), 'a.png');
    expect(missing.data.uploadEvidence.userErrors).toEqual(south.data.uploadEvidence.userErrors);
    const ended = await e.upload(tok.northAgent!, UPLOAD, { caseId: gid('Case', closedCase.id), kind: 'PHOTO' }, blob(files.png(5)), 'a.png');
    expect(ended.data.uploadEvidence.userErrors[0]).toMatchObject({ code: 'CASE_ENDED' });
    const auditor = await e.upload(tok.auditor!, UPLOAD, { caseId: gid('Case', northCase.id), kind: 'PHOTO' }, blob(files.png(6)), 'a.png');
    expect(auditor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await snapshot()).toEqual(before);
  });

  it('a refused upload of content already stored leaves the shared blob in place', async () => {
    const bytes = files.pdf('shared');
    const ok = await e.upload(tok.northAgent!, UPLOAD, { caseId: gid('Case', northCase.id), kind: 'NOTE' }, blob(bytes), 'memo.pdf');
    expect(ok.data.uploadEvidence.userErrors).toEqual([]);
    const refused = await e.upload(tok.northAgent!, UPLOAD, { caseId: gid('Case', closedCase.id), kind: 'NOTE' }, blob(bytes), 'memo.pdf');
    expect(refused.data.uploadEvidence.userErrors[0].code).toBe('CASE_ENDED');
    expect(await e.blobs.hash(sha(bytes))).toBe(sha(bytes));
    // The same bytes on another record: one file, two records.
    const twice = await e.upload(tok.northAgent!, UPLOAD, { caseId: gid('Case', northCase.id), kind: 'NOTE', description: 'again' }, blob(bytes), 'memo2.pdf');
    expect(twice.data.uploadEvidence.evidence.sha256).toBe(sha(bytes));
    expect(e.files().blobs.filter((f) => f.replace('/', '') === sha(bytes))).toHaveLength(1);
  });

  it('an interrupted upload (the stream fails mid-way) is FILE_REJECTED and stores nothing', async () => {
    const before = await snapshot();
    const bytes = files.pdf('interrupted');
    const u = s.users.northAgent;
    const viewer: Viewer = { userId: u.id, email: u.email, fullName: 'North Agent', role: u.role, agencyId: u.agencyId, authMethod: 'JWT', apiKeyId: null };
    let sent = 0;
    const file = {
      name: 'letter.pdf',
      stream: () =>
        new ReadableStream<Uint8Array>({
          pull(c) {
            if (sent++ === 0) c.enqueue(bytes.subarray(0, 40));
            else c.error(new Error('ECONNRESET'));
          },
        }),
    };
    const deps = { prisma: e.t.prisma, clock: e.t.clock, blobs: e.blobs, maxBytes: MAX };
    await expect(uploadEvidence(deps, { viewer, requestId: null }, { caseId: northCase.id, kind: 'PROMISE_LETTER', file })).rejects.toMatchObject({
      code: 'FILE_REJECTED',
      field: ['file'],
      message: expect.stringContaining('interrupted'),
    });
    expect(await snapshot()).toEqual(before);
  });

  it('a failure after the bytes were moved rolls the record back and removes the new file, but never a shared one', async () => {
    const u = s.users.northAgent;
    const viewer: Viewer = { userId: u.id, email: u.email, fullName: 'North Agent', role: u.role, agencyId: u.agencyId, authMethod: 'JWT', apiKeyId: null };
    // A store whose move succeeds and then reports a failure (as if the disk went away right after).
    const failing: BlobStore = {
      put: async (source, opts) => {
        const staged = await e.blobs.put(source, opts);
        return {
          sha256: staged.sha256,
          size: staged.size,
          head: staged.head,
          commit: async () => {
            await staged.commit();
            throw new Error('disk gone');
          },
          discard: () => staged.discard(),
        };
      },
      get: (k) => e.blobs.get(k),
      hash: (k) => e.blobs.hash(k),
      has: (k) => e.blobs.has(k),
    };
    const deps = { prisma: e.t.prisma, clock: e.t.clock, blobs: failing, maxBytes: MAX };
    const fresh = files.pdf('never recorded');
    const before = await snapshot();
    await expect(uploadEvidence(deps, { viewer, requestId: null }, { caseId: northCase.id, kind: 'NOTE', file: new File([fresh], 'n.pdf') })).rejects.toThrow('disk gone');
    expect(await snapshot()).toEqual(before);
    expect(await e.blobs.has(sha(fresh))).toBe(false);

    const shared = files.pdf('north letter'); // stored by the first test
    expect(await e.blobs.has(sha(shared))).toBe(true);
    await expect(uploadEvidence(deps, { viewer, requestId: null }, { caseId: northCase.id, kind: 'NOTE', file: new File([shared], 's.pdf') })).rejects.toThrow('disk gone');
    expect(await e.blobs.hash(sha(shared))).toBe(sha(shared));
    expect(await snapshot()).toEqual(before);
  });

  it('an HTTP upload whose body breaks off is refused and stores nothing', async () => {
    const before = await snapshot();
    const boundary = 'XBOUNDARYX';
    const operations = JSON.stringify({ query: UPLOAD, variables: { input: { caseId: gid('Case', northCase.id), kind: 'PROMISE_LETTER', file: null } } });
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="letter.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (step === 0) c.enqueue(new TextEncoder().encode(head));
        else if (step === 1) c.enqueue(files.pdf('broken off').subarray(0, 30));
        else c.error(new Error('client went away'));
        step++;
      },
    });
    const response = await e.app.fetch(
      new Request('http://arrears.test/graphql', {
        method: 'POST',
        headers: { authorization: `Bearer ${tok.northAgent}`, 'x-graphql-yoga-csrf': '1', 'content-type': `multipart/form-data; boundary=${boundary}` },
        body,
        duplex: 'half',
      } as RequestInit),
    );
    const text = await response.text();
    // Yoga reads the whole multipart body before any resolver runs: a body that breaks off is a
    // 400 before the service is reached (the service's own FILE_REJECTED covers a file stream that fails).
    expect(response.status).toBe(400);
    expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(await snapshot()).toEqual(before);
  });
});

describe('supersedeEvidence', () => {
  it('adds a corrected version linked both ways; the old record stays; a record is superseded once', async () => {
    const v1 = files.png(0x21);
    const first = await e.upload(tok.northAgent!, UPLOAD, { caseId: gid('Case', northCase.id), visitId: gid('Visit', northVisit), kind: 'PHOTO', description: 'Signed page' }, blob(v1), 'page.png');
    const oldId = first.data.uploadEvidence.evidence.id;
    const v2 = files.png(0x22);
    const before = await snapshot();
    const r = await e.upload(tok.northAgent!, SUPERSEDE, { evidenceId: oldId }, blob(v2), 'page-retaken.png');
    const p = r.data.supersedeEvidence;
    expect(p.userErrors).toEqual([]);
    expect(p.evidence).toMatchObject({ sha256: sha(v2), description: 'Signed page', visit: { id: gid('Visit', northVisit) }, supersedes: { id: oldId, sha256: sha(v1) } });
    expect(p.superseded).toEqual({ id: oldId, sha256: sha(v1), supersededBy: { id: p.evidence.id }, custody: [{ action: 'UPLOADED' }, { action: 'SUPERSEDED' }] });
    const after = await snapshot();
    expect(after.evidence - before.evidence).toBe(1);
    expect(after.custody - before.custody).toBe(2);
    expect(await e.t.prisma.caseEvent.count({ where: { caseId: northCase.id, type: 'EVIDENCE_SUPERSEDED' } })).toBe(1);
    expect(await e.blobs.hash(sha(v1))).toBe(sha(v1)); // the old file stays

    const refusedBefore = await snapshot();
    const again = await e.upload(tok.northAgent!, SUPERSEDE, { evidenceId: oldId }, blob(files.png(0x23)), 'third.png');
    expect(again.data.supersedeEvidence.userErrors).toEqual([{ code: 'INVALID_TRANSITION', field: ['evidenceId'], message: expect.stringContaining('already been superseded') }]);
    const same = await e.upload(tok.northAgent!, SUPERSEDE, { evidenceId: p.evidence.id }, blob(v2), 'same.png');
    expect(same.data.supersedeEvidence.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['file'] });
    const wrongType = await e.upload(tok.northAgent!, SUPERSEDE, { evidenceId: p.evidence.id }, blob(files.mp3()), 'x.mp3');
    expect(wrongType.data.supersedeEvidence.userErrors[0]).toMatchObject({ code: 'FILE_REJECTED' });
    const southTries = await e.upload(tok.southManager!, SUPERSEDE, { evidenceId: p.evidence.id }, blob(files.png(0x24)), 'x.png');
    expect(southTries.data.supersedeEvidence.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['evidenceId'], message: 'No such evidence' }]);
    expect(await snapshot()).toEqual(refusedBefore);
    expect(await e.blobs.has(sha(files.png(0x23)))).toBe(false);

    // The correction can itself be corrected: a chain.
    const third = await e.upload(tok.northAgent!, SUPERSEDE, { evidenceId: p.evidence.id }, blob(files.png(0x25)), 'v3.png');
    expect(third.data.supersedeEvidence.evidence.supersedes.id).toBe(p.evidence.id);
  });
});
