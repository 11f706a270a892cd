/**
 * The demo data keeps the eras of derived records as the services do: allocation lines of their
 * payment's era, instalments of their plan's, custody entries and visit participants of the
 * agency holding the case then (a second writer of the domain must not drift).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import type { Store } from '../../src/db/store.ts';
import { Pii } from '../../src/lib/pii.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { createTestStore } from '../support/store.ts';

let store: Store;
const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-era-demo-'));

beforeAll(async () => {
  store = await createTestStore();
  await seedDemo(store.prisma, { clock: new FixedClock('2026-11-28T02:00:00Z'), pii: new Pii(Pii.randomKeys()), blobs: new FolderBlobStore(blobDir) });
}, 120_000);

afterAll(async () => {
  await store?.close();
  fs.rmSync(blobDir, { recursive: true, force: true });
});

it('derived records of the demo carry their era', async () => {
  const p = store.prisma;
  const lines = await p.paymentAllocation.findMany({ include: { payment: { select: { agencyId: true } } } });
  expect(lines.length).toBeGreaterThan(0);
  expect(lines.filter((l) => l.agencyId !== l.payment.agencyId)).toEqual([]);
  const inst = await p.instalment.findMany({ include: { plan: { select: { agencyId: true } } } });
  expect(inst.filter((i) => i.agencyId !== i.plan.agencyId)).toEqual([]);
  // An agency's people are named in their own agency's era; uploads are of their evidence's era.
  const people = await p.visitParticipant.findMany({ include: { user: { select: { agencyId: true } } } });
  expect(people.length).toBeGreaterThan(0);
  expect(people.filter((x) => x.user.agencyId !== null && x.agencyId !== x.user.agencyId)).toEqual([]);
  const uploads = await p.evidenceCustody.findMany({ where: { action: 'UPLOADED' }, include: { evidence: { select: { agencyId: true } } } });
  expect(uploads.length).toBeGreaterThan(0);
  expect(uploads.filter((k) => k.agencyId !== k.evidence.agencyId)).toEqual([]);
  expect(await p.evidenceCustody.count({ where: { agencyId: { not: null } } })).toBeGreaterThan(0);
});
