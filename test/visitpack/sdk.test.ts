/**
 * Issue 18, point 5: a field app gets the pack through @arrears/sdk over real HTTP, as the README
 * shows: card usage, the pack printed and listed with its links, a signature drawn on the device
 * and an image signature sent as a Node Buffer (multipart).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArrearsClient, type ArrearsClient } from '../../sdk/src/index.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { createVisitWorld, files, type VisitWorld } from '../visits/support.ts';
import { download, packCase, pdfText, squash, steps, type PackCase } from './support.ts';

let w: VisitWorld;
let server: RunningServer;
let agent: ArrearsClient;
let c: PackCase;

beforeAll(async () => {
  w = await createVisitWorld();
  server = await listen(w.e.app, '127.0.0.1', 0);
  w.e.t.clock.set('2026-11-28T02:00:00.000Z');
  c = await packCase(w, 'CN', 'ZH_CN', '冯应用');
  agent = createArrearsClient({ url: `${server.url}/graphql`, getToken: () => w.e.t.token(w.s.users.northAgent) });
});
afterAll(async () => {
  await server?.close(1000);
  await w?.close();
});

describe('the visit pack through the SDK', () => {
  it('reads card usage, prints the pack, lists it with the dossier, and signs on site', async () => {
    const pages = [];
    for await (const page of agent.paginate.caseCardTransactions({ id: c.id, first: 1 })) pages.push(page);
    expect(pages.flatMap((p) => p.nodes).map((n) => n.merchantName)).toEqual(['Zhongguancun Digital']);
    const st = await agent.caseCardStatements({ id: c.id, first: 12 });
    expect(st.node?.__typename === 'Case' && st.node.account.statements.nodes[0]?.statementBalance.minorUnits).toBe(1_023_456);

    const { printVisitDocuments } = await agent.printVisitDocuments({ input: { visitId: c.visitId, documents: ['DOSSIER', 'NOTICE', 'REPAYMENT_AGREEMENT'], planId: c.planId } });
    expect(printVisitDocuments.userErrors).toEqual([]);
    const pack = await agent.visitPack({ id: c.visitId });
    if (pack.node?.__typename !== 'Visit') throw new Error('not a visit');
    expect(pack.node.dossier.debtor.fullName).toBe('冯应用');
    expect(pack.node.documents.totalCount).toBe(3);
    const notice = pack.node.documents.nodes.find((d) => d.kind === 'NOTICE')!;
    expect(squash(await pdfText((await download(w, notice.downloadUrl)).bytes))).toContain('催收通知书');

    const agreement = pack.node.documents.nodes.find((d) => d.kind === 'REPAYMENT_AGREEMENT')!;
    const s = steps(w);
    await s.schedule(c.visitId);
    w.e.t.clock.set('2026-11-29T02:30:00.000Z');
    await s.checkIn(c.visitId);
    const drawn = await agent.signVisitDocument({ input: { documentId: agreement.id, method: 'STROKES', canvasWidth: 300, canvasHeight: 100, strokes: [{ points: [{ x: 5, y: 50 }, { x: 295, y: 60 }] }], place: '客户家中' } });
    expect(drawn.signVisitDocument.userErrors).toEqual([]);
    expect(drawn.signVisitDocument.signature?.status).toBe('PENDING_APPROVAL');
    const image = await agent.signVisitDocument({ input: { documentId: agreement.id, method: 'IMAGE', file: files.png(), place: '客户家中' } });
    expect(image.signVisitDocument.userErrors).toEqual([]);
    expect(image.signVisitDocument.signature?.method).toBe('IMAGE');
  });
});
