/**
 * Evidence downloads (issue 5, item 3): short-lived signed links, access re-checked at download
 * on the case's current placement, the hash verified before serving, every download in the
 * custody and the audit log; a tampered file is refused and reported.
 */
import { createEvidenceTestApp, PUBLIC_URL, type EvidenceTestApp } from './support.ts';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { MAX_LINK_TTL_MS, serveEvidence, signEvidenceUrl } from '../../src/modules/evidence/download.ts';
import type { BlobStore } from '../../src/modules/evidence/blob-store.ts';
import { blob, files } from './files.ts';
import { listen } from '../../src/server.ts';

let e: EvidenceTestApp;
let s: Scenario;
const tok: Record<string, string> = {};
const gid = (type: string, id: string) => encodeGlobalID(type, id);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
type CaseRow = Awaited<ReturnType<typeof createCase>>;
let northCase: CaseRow, movingCase: CaseRow;

const UPLOAD = `mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) { evidence { id } userErrors { code message } } }`;
const LINK = `query($id: ID!) { node(id: $id) { ... on Evidence { id downloadUrl custody { action detail } } } }`;

async function upload(token: string, c: CaseRow, bytes: Buffer, name: string, kind = 'PROMISE_LETTER') {
  const r = await e.upload(token, UPLOAD, { caseId: gid('Case', c.id), kind }, blob(bytes), name);
  expect(r.data.uploadEvidence.userErrors).toEqual([]);
  const id: string = r.data.uploadEvidence.evidence.id;
  return { gid: id, id: Buffer.from(id, 'base64').toString().split(':')[1]! };
}

async function linkFor(token: string, evidenceGid: string): Promise<string> {
  const r = await e.gql(token, LINK, { id: evidenceGid });
  expect(r.errors).toBeUndefined();
  return r.data.node.downloadUrl;
}

const custodyOf = (evidenceId: string) => e.t.prisma.evidenceCustody.findMany({ where: { evidenceId }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
const errorOf = async (res: Response) => ((await res.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0]!;

beforeAll(async () => {
  e = await createEvidenceTestApp();
  s = await createPeople(e.t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await e.t.token(u);
  const now = e.t.clock.now();
  northCase = await createCase(e.t.prisma, e.t.pii, { agencyId: s.north.id, collectorId: s.users.northAgent.id, now });
  movingCase = await createCase(e.t.prisma, e.t.pii, { agencyId: s.north.id, collectorId: s.users.northAgent.id, now });
});
afterAll(async () => e?.close());

describe('Evidence.downloadUrl and GET /evidence/<id>', () => {
  let letter: { gid: string; id: string };
  const bytes = files.pdf('the letter');

  beforeAll(async () => {
    letter = await upload(tok.northAgent!, northCase, bytes, '还款承诺书 (签字).pdf');
  });

  it('is a link for this viewer, valid five minutes, built on the public URL', async () => {
    const url = new URL(await linkFor(tok.northAgent!, letter.gid));
    expect(`${url.protocol}//${url.host}`).toBe(PUBLIC_URL);
    expect(url.pathname).toBe(`/evidence/${letter.id}`);
    expect(url.searchParams.get('u')).toBe(s.users.northAgent.id);
    expect(Number(url.searchParams.get('exp'))).toBe(e.t.clock.now().getTime() + MAX_LINK_TTL_MS);
    expect(url.searchParams.get('sig')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => signEvidenceUrl(e.signingKey, letter.id, s.users.northAgent.id, new Date(), MAX_LINK_TTL_MS + 1)).toThrow(RangeError);
  });

  it('serves the bytes with the stored type and safe headers, and records the download in the custody and the audit log', async () => {
    const url = await linkFor(tok.northAgent!, letter.gid);
    const res = await e.app.fetch(new Request(url.replace(PUBLIC_URL, 'http://arrears.test'), { headers: { 'x-request-id': 'download-request-0001' } }));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="_____ (__).pdf"; filename*=UTF-8''${encodeURIComponent('还款承诺书 ')}%28${encodeURIComponent('签字')}%29.pdf`,
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(sha(bytes), 'hex').toString('base64')}:`);

    const custody = await custodyOf(letter.id);
    expect(custody.map((c) => c.action)).toEqual(['UPLOADED', 'DOWNLOADED']);
    expect(custody[1]).toMatchObject({ actorId: s.users.northAgent.id, requestId: 'download-request-0001' });
    const audit = await e.t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'evidence.download', entityId: letter.id } });
    expect(audit).toMatchObject({ actorId: s.users.northAgent.id, agencyId: s.north.id, caseId: northCase.id, requestId: 'download-request-0001' });

    // Evidence.custody lists it.
    const read = await e.gql(tok.supervisor!, LINK, { id: letter.gid });
    expect(read.data.node.custody.map((c: { action: string }) => c.action)).toEqual(['UPLOADED', 'DOWNLOADED']);
  });

  it('streams over a real HTTP server too', async () => {
    const server = await listen(e.app, '127.0.0.1', 0);
    try {
      const url = (await linkFor(tok.northAgent!, letter.gid)).replace(PUBLIC_URL, server.url);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-length')).toBe(String(bytes.length));
      expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
      const refused = await fetch(url.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`));
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toContain('application/json');
    } finally {
      await server.close(100);
    }
  });

  it('refuses an expired link with 410, and serves nothing', async () => {
    const url = await linkFor(tok.northAgent!, letter.gid);
    const before = (await custodyOf(letter.id)).length;
    e.t.clock.advance(MAX_LINK_TTL_MS - 1);
    expect((await e.download(url)).status).toBe(200);
    e.t.clock.advance(1);
    try {
      const res = await e.download(url);
      expect(res.status).toBe(410);
      expect(await errorOf(res)).toMatchObject({ extensions: { code: 'LINK_EXPIRED' } });
    } finally {
      e.t.clock.set(new Date(e.t.clock.now().getTime() - MAX_LINK_TTL_MS));
    }
    expect((await custodyOf(letter.id)).length).toBe(before + 1);
  });

  it('refuses a changed signature, expiry, evidence id or user with 403: the link is bound to its user', async () => {
    const url = new URL(await linkFor(tok.northAgent!, letter.gid));
    const other = await upload(tok.northAgent!, northCase, files.pdf('another'), 'other.pdf');
    const variants: URL[] = [];
    const sig = new URL(url);
    const s0 = sig.searchParams.get('sig')!;
    sig.searchParams.set('sig', (s0[0] === 'A' ? 'B' : 'A') + s0.slice(1));
    variants.push(sig);
    const exp = new URL(url);
    exp.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 60_000));
    variants.push(exp);
    const id = new URL(url);
    id.pathname = `/evidence/${other.id}`;
    variants.push(id);
    // The link of northAgent presented as northAgent2's (who works for the same agency).
    const user = new URL(url);
    user.searchParams.set('u', s.users.northAgent2.id);
    variants.push(user);
    const none = new URL(url);
    none.search = '';
    variants.push(none);
    for (const v of variants) {
      const res = await e.download(v.toString());
      expect(res.status, v.toString()).toBe(403);
      expect((await errorOf(res)).extensions.code).toBe('FORBIDDEN');
    }
    const post = await e.app.fetch(new Request(url.toString().replace(PUBLIC_URL, 'http://arrears.test'), { method: 'POST' }));
    expect(post.status).toBe(405);
    expect((await custodyOf(other.id)).map((c) => c.action)).toEqual(['UPLOADED']);
  });

  it("a genuine link of a user who may not see the case is a 404, like a missing record; an inactive user's is a 403", async () => {
    const now = e.t.clock.now();
    const agent2 = `${PUBLIC_URL}${signEvidenceUrl(e.signingKey, letter.id, s.users.northAgent2.id, now)}`;
    const southManager = `${PUBLIC_URL}${signEvidenceUrl(e.signingKey, letter.id, s.users.southManager.id, now)}`;
    const missing = `${PUBLIC_URL}${signEvidenceUrl(e.signingKey, '00000000-0000-4000-8000-000000000000', s.users.admin.id, now)}`;
    const bodies = [];
    for (const url of [agent2, southManager, missing]) {
      const res = await e.download(url);
      expect(res.status).toBe(404);
      const { message, extensions } = await errorOf(res);
      bodies.push({ message, code: extensions.code });
    }
    expect(bodies[0]).toEqual(bodies[2]);
    expect(bodies[1]).toEqual(bodies[2]);

    const manager = await linkFor(tok.northManager!, letter.gid);
    await e.t.prisma.user.update({ where: { id: s.users.northManager.id }, data: { active: false } });
    try {
      expect((await e.download(manager)).status).toBe(403);
    } finally {
      await e.t.prisma.user.update({ where: { id: s.users.northManager.id }, data: { active: true } });
    }
    expect((await e.download(manager)).status).toBe(200);
  });
});

describe('tampering', () => {
  it('a file changed on disk is refused (409 TAMPERED), recorded as TAMPER_DETECTED and audited; nothing is served', async () => {
    const bytes = files.jpeg();
    const photo = await upload(tok.northAgent!, northCase, bytes, 'door.jpg', 'PHOTO');
    const url = await linkFor(tok.northAgent!, photo.gid);
    const file = e.blobs.pathOf(sha(bytes));
    fs.chmodSync(file, 0o644);
    const changed = Buffer.from(bytes);
    changed[20] = changed[20]! ^ 0xff;
    fs.writeFileSync(file, changed);
    fs.chmodSync(file, 0o444);

    const res = await e.download(url);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).extensions.code).toBe('TAMPERED');
    const custody = await custodyOf(photo.id);
    expect(custody.map((c) => c.action)).toEqual(['UPLOADED', 'TAMPER_DETECTED']);
    expect(custody[1]!.detail).toContain(sha(changed));
    const audit = await e.t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'evidence.tamperDetected', entityId: photo.id } });
    expect(audit).toMatchObject({ actorId: s.users.northAgent.id, caseId: northCase.id, data: { expected: sha(bytes), actual: sha(changed) } });
    expect(await e.t.prisma.auditEvent.count({ where: { action: 'evidence.download', entityId: photo.id } })).toBe(0);

    // A deleted file is reported the same way.
    fs.rmSync(file);
    const gone = await e.download(await linkFor(tok.northAgent!, photo.gid));
    expect(gone.status).toBe(409);
    expect((await custodyOf(photo.id)).map((c) => c.action)).toEqual(['UPLOADED', 'TAMPER_DETECTED', 'TAMPER_DETECTED']);
  });

  it('bytes that change between the check and the read end in a broken download, never a complete wrong one', async () => {
    const bytes = files.pdf('swapped while serving');
    const doc = await upload(tok.northAgent!, northCase, bytes, 'swap.pdf');
    const swapped = Buffer.from(bytes);
    swapped[swapped.length - 3] = 0x21;
    // A store whose check passes but whose read returns other bytes (a file rewritten in between).
    const sneaky: BlobStore = { ...e.blobs, put: e.blobs.put.bind(e.blobs), has: e.blobs.has.bind(e.blobs), hash: async () => sha(bytes), get: async () => Readable.from([swapped.subarray(0, 100), swapped.subarray(100)]) };
    const url = new URL((await linkFor(tok.northAgent!, doc.gid)).replace(PUBLIC_URL, 'http://arrears.test'));
    const res = await serveEvidence({ prisma: e.t.prisma, clock: e.t.clock, blobs: sneaky, secret: e.signingKey, logger: e.t.runtime.logger }, new Request(url), url);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect((await custodyOf(doc.id)).map((c) => c.action)).toEqual(['UPLOADED', 'DOWNLOADED', 'TAMPER_DETECTED']);
  });
});

describe('an agency that loses the case', () => {
  it('loses its evidence at once: its signed link 404s and node(id) is null; the next agency does not inherit it; the bank still reaches it', async () => {
    const doc = await upload(tok.northAgent!, movingCase, files.pdf('moving'), 'moving.pdf');
    const managerLink = await linkFor(tok.northManager!, doc.gid);
    const agentLink = await linkFor(tok.northAgent!, doc.gid);
    expect((await e.download(managerLink)).status).toBe(200);

    const recall = await e.gql(tok.supervisor!, `mutation($input: RecallCaseInput!) { recallCase(input: $input) { userErrors { code } } }`, {
      input: { caseId: gid('Case', movingCase.id), reason: 'PERFORMANCE' },
    });
    expect(recall.data.recallCase.userErrors).toEqual([]);

    for (const link of [managerLink, agentLink]) {
      const res = await e.download(link);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).extensions.code).toBe('NOT_FOUND');
    }
    expect((await e.gql(tok.northManager!, LINK, { id: doc.gid })).data.node).toBeNull();
    expect((await e.gql(tok.northAgent!, LINK, { id: doc.gid })).data.node).toBeNull();
    // Moved to South: North still does not reach it, and neither does South: it is North's era of the case.
    await e.t.prisma.case.update({ where: { id: movingCase.id }, data: { assignedAgencyId: s.south.id, assignedCollectorId: null } });
    expect((await e.download(managerLink)).status).toBe(404);
    expect((await e.gql(tok.southManager!, LINK, { id: doc.gid })).data.node).toBeNull();
    const bank = await linkFor(tok.supervisor!, doc.gid);
    expect((await e.download(bank)).status).toBe(200);
  });
});
