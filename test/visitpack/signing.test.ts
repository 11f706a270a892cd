/**
 * Issue 18, point 4, and the end-to-end walk: a visit produces its pack, the debtor signs the
 * agreement on the collector's device (strokes rendered into the PDF), the signed document is
 * evidence tied to the plan with its hash; signed before the plan's approval it is
 * PENDING_APPROVAL, after it BINDING; a promise letter signed as an image; a photo of signed paper;
 * bounds on what a device may send; and no foreign agency reaches any of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { createVisitWorld, files, blob, type VisitWorld } from '../visits/support.ts';
import { evidenceDownloadUrl } from '../../src/modules/evidence/download.ts';
import { PUBLIC_URL } from '../evidence/support.ts';
import { APPROVE, DOC, SIG, SIGN, download, packCase, pdfText, print, rawId, squash, steps, M, type PackCase } from './support.ts';

let w: VisitWorld;
beforeAll(async () => {
  w = await createVisitWorld();
});
afterAll(async () => w?.close());

/** Line segments drawn in the PDF's content streams ("x y l" operators), inflated. */
function drawnPaths(pdf: Buffer): number {
  let n = 0;
  const raw = pdf.toString('latin1');
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = m.index! + m[0].length;
    const end = raw.indexOf('endstream', start);
    try {
      const text = inflateSync(pdf.subarray(start, end)).toString('latin1');
      n += (text.match(/[\d.]+ [\d.]+ l\n/g) ?? []).length;
    } catch {
      // not a Flate stream (a font, an image)
    }
  }
  return n;
}

const STROKES = [
  { points: [{ x: 10, y: 80 }, { x: 60, y: 20 }, { x: 110, y: 80 }] },
  { points: [{ x: 30, y: 55 }, { x: 90, y: 55 }] },
];
const sign = (who: any, input: Record<string, unknown>) => w.mutate(who, SIGN, input);
const signFile = async (who: 'northAgent' | 'southAgent', input: Record<string, unknown>, bytes: Buffer, type: string) => {
  const r = await w.e.upload(await w.e.t.token(w.s.users[who]), SIGN, input, blob(bytes, type), 'signature');
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data.signVisitDocument;
};

async function onSite(c: PackCase) {
  const st = steps(w);
  await st.schedule(c.visitId);
  w.e.t.clock.set('2026-11-29T02:30:00.000Z');
  await st.checkIn(c.visitId);
}

describe('a visit walked end to end: the pack, then a signed agreement', () => {
  let c: PackCase;
  let agreement: any;
  let letter: any;

  it('prints the pack before the visit, then signs the agreement on site: PENDING_APPROVAL while the plan is proposed', async () => {
    w.e.t.clock.set('2026-11-28T02:00:00.000Z');
    c = await packCase(w, 'CN', 'ZH_CN', '周签字');
    const pack = await print(w, 'northAgent', { visitId: c.visitId, documents: ['DOSSIER', 'OVERDUE_STATEMENT', 'NOTICE', 'REPAYMENT_AGREEMENT', 'PROMISE_LETTER'], planId: c.planId, promiseId: c.promiseId });
    expect(pack.userErrors).toEqual([]);
    agreement = pack.documents.find((d: any) => d.kind === 'REPAYMENT_AGREEMENT');
    letter = pack.documents.find((d: any) => d.kind === 'PROMISE_LETTER');
    expect(agreement.plan).toEqual({ id: c.planId, status: 'PROPOSED' });
    // Not on site yet: nothing is signed before the check-in.
    const early = await sign('northAgent', { documentId: agreement.id, method: 'STROKES', strokes: STROKES, canvasWidth: 400, canvasHeight: 150, place: '北京市朝阳区' });
    expect(early.userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });

    await onSite(c);
    w.e.t.clock.set('2026-11-29T02:45:00.000Z');
    const p = await sign('northAgent', { documentId: agreement.id, method: 'STROKES', strokes: STROKES, canvasWidth: 400, canvasHeight: 150, place: '北京市朝阳区 客户家中', latitude: 39.92, longitude: 116.46, signedAt: '2026-11-29T02:40:00.000Z' });
    expect(p.userErrors).toEqual([]);
    const s = p.signature;
    expect(s).toMatchObject({ method: 'STROKES', status: 'PENDING_APPROVAL', signedAt: '2026-11-29T02:40:00.000Z', place: '北京市朝阳区 客户家中', latitude: 39.92, longitude: 116.46, collector: { id: expect.any(String) }, document: { id: agreement.id, kind: 'REPAYMENT_AGREEMENT' }, plan: { id: c.planId, status: 'PROPOSED' }, evidence: { kind: 'REPAYMENT_AGREEMENT', contentType: 'application/pdf' } });
    const got = await download(w, s.downloadUrl);
    expect(createHash('sha256').update(got.bytes).digest('hex')).toBe(s.sha256);
    expect(s.evidence.sha256).toBe(s.sha256);
    const text = squash(await pdfText(got.bytes));
    for (const words of ['还款协议', '周签字', '签署时间：2026-11-29T02:40:00.000Z', '北京市朝阳区', '见证人员：NorthAgent', '待银行审批，尚不具约束力']) expect(text).toContain(squash(words));
    // The strokes are drawn into the PDF (vector paths), and the signed copy differs from the printed one.
    expect(drawnPaths(got.bytes)).toBeGreaterThanOrEqual(3);
    expect(drawnPaths((await download(w, agreement.downloadUrl)).bytes)).toBe(0);
    expect(s.sha256).not.toBe(agreement.sha256);
    const event = await w.e.t.prisma.caseEvent.findFirst({ where: { caseId: c.row.id, type: 'VISIT_DOCUMENT_SIGNED' } });
    expect(event?.summary).toContain('not binding');
  });

  it('a photo of the signed promise letter is kept as it is, tied to the promise', async () => {
    const photo = files.jpeg();
    const p = await signFile('northAgent', { documentId: letter.id, method: 'PHOTO', place: '北京市朝阳区' }, photo, 'image/jpeg');
    expect(p.userErrors).toEqual([]);
    expect(p.signature).toMatchObject({ method: 'PHOTO', status: 'SIGNED', promise: { id: c.promiseId }, evidence: { kind: 'PROMISE_LETTER', contentType: 'image/jpeg' } });
    expect(p.signature.sha256).toBe(createHash('sha256').update(photo).digest('hex'));
  });

  it('after the bank approves the plan, the agreement signed again is BINDING; the first stays PENDING_APPROVAL', async () => {
    const a = await w.mutate('supervisor', APPROVE, { planId: c.planId });
    expect(a.userErrors).toEqual([]);
    const img = await signFile('northAgent', { documentId: agreement.id, method: 'IMAGE', place: '北京市朝阳区' }, files.png(), 'image/png');
    expect(img.userErrors).toEqual([]);
    expect(img.signature).toMatchObject({ method: 'IMAGE', status: 'BINDING' });
    const r = await w.as('northAgent', `query($id: ID!) { node(id: $id) { ... on Visit { signatures(first: 10) { totalCount nodes { status method } } } } }`, { id: c.visitId });
    expect(r.data.node.signatures.totalCount).toBe(3);
    expect(r.data.node.signatures.nodes.map((n: any) => n.status).sort()).toEqual(['BINDING', 'PENDING_APPROVAL', 'SIGNED']);
    // Approval superseded the promise: its letter is not signed any more.
    const late = await signFile('northAgent', { documentId: letter.id, method: 'PHOTO', place: '北京市朝阳区' }, files.jpeg(), 'image/jpeg');
    expect(late.userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });
    const st = steps(w);
    await st.complete(c.visitId, { outcome: 'PLAN_AGREED', delinquencyReason: 'JOB_LOSS', consequencesExplained: true, plansOffered: ['INSTALMENTS'] });
    const rep = await st.report(c.visitId);
    expect(rep.status).toBe('REPORTED');
    const pack = await w.as('supervisor', `query($id: ID!) { node(id: $id) { ... on Visit { documents(first: 10) { totalCount nodes { kind signatures { status } } } signatures(first: 10) { totalCount } evidence(first: 20) { totalCount } } } }`, { id: c.visitId });
    expect(pack.data.node.documents.totalCount).toBe(5);
    expect(pack.data.node.signatures.totalCount).toBe(3);
    expect(pack.data.node.evidence.totalCount).toBe(8);
  });

});

describe('signatures: what a device may send', () => {
  it('the printed pack alone is not the signed evidence a PLAN_AGREED report needs', async () => {
    w.e.t.clock.set('2026-11-28T02:00:00.000Z');
    const c = await packCase(w, 'CN', 'ZH_CN', '吴未签');
    await print(w, 'northAgent', { visitId: c.visitId, documents: ['REPAYMENT_AGREEMENT'], planId: c.planId });
    await onSite(c);
    await steps(w).complete(c.visitId, { outcome: 'PLAN_AGREED', delinquencyReason: 'JOB_LOSS', consequencesExplained: true, plansOffered: ['INSTALMENTS'] });
    const r = await w.mutate('northAgent', M.report, { visitId: c.visitId, report: 'Agreed a plan; the debtor will sign later.' });
    expect(r.userErrors[0]).toMatchObject({ code: 'VALIDATION' });
  });

  it('bounds and refusals: each named, nothing kept', async () => {
    w.e.t.clock.set('2026-11-28T02:00:00.000Z');
    const c = await packCase(w, 'US', 'EN', 'Dana Bounds');
    const pack = await print(w, 'northAgent', { visitId: c.visitId, documents: ['REPAYMENT_AGREEMENT', 'NOTICE'], planId: c.planId });
    const agreement = pack.documents[0];
    const notice = pack.documents[1];
    await onSite(c);
    const before = { evidence: await w.e.t.prisma.evidence.count(), signatures: await w.e.t.prisma.visitSignature.count() };
    const base = { documentId: agreement.id, method: 'STROKES', strokes: STROKES, canvasWidth: 400, canvasHeight: 150, place: 'Front porch' };
    const tooMany = Array.from({ length: 65 }, () => ({ points: [{ x: 1, y: 1 }] }));
    const tooLong = [{ points: Array.from({ length: 4001 }, (_, i) => ({ x: i % 400, y: 1 })) }];
    const refusals: [Record<string, unknown>, string, string][] = [
      [{ strokes: tooMany }, 'LIMIT_EXCEEDED', 'strokes'],
      [{ strokes: tooLong }, 'LIMIT_EXCEEDED', 'strokes'],
      [{ strokes: [{ points: [{ x: 401, y: 5 }] }] }, 'VALIDATION', 'strokes'],
      [{ strokes: [{ points: [] }] }, 'VALIDATION', 'strokes'],
      [{ strokes: [] }, 'VALIDATION', 'strokes'],
      [{ canvasWidth: 5000 }, 'VALIDATION', 'canvasWidth'],
      [{ place: '  ' }, 'VALIDATION', 'place'],
      [{ latitude: 91, longitude: 0 }, 'VALIDATION', 'latitude'],
      [{ latitude: 40 }, 'VALIDATION', 'latitude'],
      [{ signedAt: '2026-11-25T00:00:00.000Z' }, 'VALIDATION', 'signedAt'],
      [{ signedAt: '2026-11-29T01:00:00.000Z' }, 'VALIDATION', 'signedAt'],
      [{ documentId: notice.id }, 'VALIDATION', 'documentId'],
      [{ method: 'IMAGE', strokes: null }, 'VALIDATION', 'file'],
    ];
    for (const [over, code, field] of refusals) {
      const p = await sign('northAgent', { ...base, ...over });
      expect(p.userErrors[0], JSON.stringify(over).slice(0, 80)).toMatchObject({ code, field: [field] });
    }
    // A collector not named for the visit does not take a signature; the manager neither.
    expect((await sign('northManager', base)).userErrors[0]).toMatchObject({ code: 'FORBIDDEN_ACTION' });
    // An image that is not one, or too large.
    const notImage = await signFile('northAgent', { ...base, method: 'IMAGE', strokes: null }, files.pdf(), 'application/pdf');
    expect(notImage.userErrors[0]).toMatchObject({ code: 'FILE_REJECTED', field: ['file'] });
    const big = await signFile('northAgent', { ...base, method: 'IMAGE', strokes: null }, Buffer.concat([files.png(), Buffer.alloc(600 * 1024)]), 'image/png');
    expect(big.userErrors[0]).toMatchObject({ code: 'FILE_REJECTED', field: ['file'] });
    // A rejected plan's agreement is not signed.
    await w.e.t.prisma.repaymentPlan.update({ where: { id: rawId(c.planId) }, data: { status: 'REJECTED' } });
    expect((await sign('northAgent', base)).userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });
    expect({ evidence: await w.e.t.prisma.evidence.count(), signatures: await w.e.t.prisma.visitSignature.count() }).toEqual(before);
    expect(w.e.files().staging).toEqual([]);
  });
});

describe('scope: no foreign agency reaches a document, a signature or a download', () => {
  it('South sees nothing of North’s pack, by any path; a recalled case disappears for North', async () => {
    w.e.t.clock.set('2026-11-28T02:00:00.000Z');
    const c = await packCase(w, 'CN', 'ZH_CN', '郑范围');
    const pack = await print(w, 'northAgent', { visitId: c.visitId, documents: ['NOTICE', 'REPAYMENT_AGREEMENT'], planId: c.planId });
    await onSite(c);
    const signed = await sign('northAgent', { documentId: pack.documents[1].id, method: 'STROKES', strokes: STROKES, canvasWidth: 400, canvasHeight: 150, place: 'home' });
    expect(signed.userErrors).toEqual([]);
    const ids = [pack.documents[0].id, signed.signature.id];
    const NODE = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on VisitDocument { ${DOC} } ... on VisitSignature { ${SIG} } } }`;
    expect((await w.as('northAgent', NODE, { ids })).data.nodes.every((n: any) => n !== null)).toBe(true);
    for (const who of ['southManager', 'southAgent', 'collector', 'northAgent2'] as const) {
      const r = await w.as(who, NODE, { ids });
      expect(r.data.nodes, who).toEqual([null, null]);
      const printed = await w.mutate(who, `mutation($input: PrintVisitDocumentsInput!) { printVisitDocuments(input: $input) { documents { id } userErrors { code field } } }`, { visitId: c.visitId, documents: ['NOTICE'] });
      expect(printed.userErrors[0], who).toMatchObject({ code: 'NOT_FOUND' });
      const s = await sign(who, { documentId: pack.documents[1].id, method: 'STROKES', strokes: STROKES, canvasWidth: 400, canvasHeight: 150, place: 'x' });
      expect(s.userErrors[0], who).toMatchObject({ code: 'NOT_FOUND', field: ['documentId'] });
      // A link made out to this user for North's evidence is refused: access is checked when followed.
      const url = evidenceDownloadUrl(PUBLIC_URL, w.e.signingKey, rawId(pack.documents[0].evidence.id), w.s.users[who].id, w.e.t.clock.now(), 60_000);
      expect((await download(w, url)).status, who).toBe(404);
    }
    // Recalled: North's documents and signatures are gone for North at once, links made before included.
    const fresh = (await w.as('northAgent', NODE, { ids })).data.nodes[0].downloadUrl;
    expect((await download(w, fresh)).status).toBe(200);
    await w.e.t.prisma.case.update({ where: { id: c.row.id }, data: { assignedAgencyId: null, assignedCollectorId: null } });
    expect((await w.as('northAgent', NODE, { ids })).data.nodes).toEqual([null, null]);
    expect((await download(w, fresh)).status).toBe(404);
  });
});
