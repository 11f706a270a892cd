import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobInterruptedError, BlobTooLargeError, FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-blobs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const store = new FolderBlobStore(dir);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const staging = () => fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-'));

function streamOf(chunks: Uint8Array[], failAfter?: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (failAfter !== undefined && i === failAfter) return controller.error(new Error('connection reset'));
      if (i === chunks.length) return controller.close();
      controller.enqueue(chunks[i++]!);
    },
  });
}

describe('FolderBlobStore', () => {
  it('hashes while streaming, keeps the head, and stores content-addressed, read-only, once', async () => {
    const a = new Uint8Array(1000).fill(7);
    const b = new Uint8Array(500).fill(9);
    const staged = await store.put(streamOf([a, b]), { maxBytes: 10_000 });
    const all = Buffer.concat([a, b]);
    expect(staged.sha256).toBe(sha(all));
    expect(staged.size).toBe(1500);
    expect(staged.head.length).toBeGreaterThanOrEqual(64);
    expect(Buffer.from(staged.head)).toEqual(all.subarray(0, staged.head.length));
    expect(await store.has(staged.sha256)).toBe(false); // not visible before commit
    expect(await staged.commit()).toEqual({ created: true });
    const file = path.join(dir, staged.sha256.slice(0, 2), staged.sha256.slice(2));
    expect(fs.statSync(file).mode & 0o777).toBe(0o444);
    expect(await store.hash(staged.sha256)).toBe(staged.sha256);
    const back = await store.get(staged.sha256);
    const chunks: Buffer[] = [];
    for await (const c of back!) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(all);
    expect(staging()).toEqual([]);

    // The same content again: shared, not rewritten; undoing the second does not remove the first.
    const again = await store.put((async function* () { yield all; })(), { maxBytes: 10_000 });
    expect(await again.commit()).toEqual({ created: false });
    await again.discard();
    expect(await store.has(staged.sha256)).toBe(true);
    expect(staging()).toEqual([]);
  });

  it('refuses past the limit mid-stream and keeps nothing', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(1024));
      },
    });
    await expect(store.put(endless, { maxBytes: 4096 })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(pulled).toBeLessThan(10);
    expect(staging()).toEqual([]);
  });

  it('an interrupted source keeps nothing', async () => {
    await expect(store.put(streamOf([new Uint8Array(100), new Uint8Array(100)], 1), { maxBytes: 10_000 })).rejects.toBeInstanceOf(BlobInterruptedError);
    expect(staging()).toEqual([]);
  });

  it('discard before commit removes the staging file; discard after a creating commit removes the blob', async () => {
    const one = await store.put(streamOf([new Uint8Array([1, 2, 3])]), { maxBytes: 10 });
    expect(staging()).toHaveLength(1);
    await one.discard();
    expect(staging()).toEqual([]);
    expect(await store.has(one.sha256)).toBe(false);
    const two = await store.put(streamOf([new Uint8Array([4, 5, 6])]), { maxBytes: 10 });
    await two.commit();
    await two.discard();
    expect(await store.has(two.sha256)).toBe(false);
  });

  it('hash() recomputes: a changed file shows, a missing one is null; keys are checked', async () => {
    const staged = await store.put(streamOf([new Uint8Array([10, 20, 30, 40])]), { maxBytes: 10 });
    await staged.commit();
    const file = store.pathOf(staged.sha256);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, Buffer.from([10, 20, 30, 41]));
    expect(await store.hash(staged.sha256)).not.toBe(staged.sha256);
    fs.rmSync(file);
    expect(await store.hash(staged.sha256)).toBeNull();
    expect(await store.get(staged.sha256)).toBeNull();
    expect(() => store.pathOf('../../etc/passwd')).toThrow(RangeError);
  });

  it('sweeps staging files left by a crash', async () => {
    fs.writeFileSync(path.join(dir, '.tmp-crashed'), 'x');
    const old = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(path.join(dir, '.tmp-crashed'), old, old);
    expect(await store.sweepStaging(new Date())).toBe(1);
    expect(staging()).toEqual([]);
  });
});
