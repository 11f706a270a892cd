import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';

/**
 * Where evidence bytes live: content-addressed by their SHA-256, written once, never changed.
 *
 * An upload is two-phase. `put` streams the bytes to a staging place while hashing and
 * counting them, and refuses mid-stream past `maxBytes`; nothing is visible under a key yet.
 * The caller then checks what it learnt (size, type sniffed from `head`) and, inside the
 * database transaction that records the evidence, calls `commit` to move the bytes under their
 * key; on any refusal or failure it calls `discard`. So a refused upload leaves nothing behind.
 *
 * An S3-compatible store implements the same interface (not built here):
 * - `put`: a multipart upload (CreateMultipartUpload/UploadPart) to a staging key such as
 *   `staging/<uuid>`, hashing and counting as parts stream; past `maxBytes`,
 *   AbortMultipartUpload and throw BlobTooLargeError; if the source errors,
 *   AbortMultipartUpload and throw BlobInterruptedError. `head` is the first bytes seen.
 * - `commit`: CopyObject `staging/<uuid>` → `sha256/ab/cdef…` with `If-None-Match: *` (a
 *   conditional write: a 412 means the content is already stored, i.e. `created: false`) and
 *   `x-amz-checksum-sha256` so the store verifies the bytes itself, then DeleteObject of the
 *   staging key. Write-once comes from the bucket: Object Lock in compliance mode with the
 *   retention period of the jurisdiction, versioning on, and no DeleteObject permission on
 *   `sha256/` for the application's credentials.
 * - `discard`: DeleteObject of the staging key (or of the final key, when `commit` created it
 *   and the caller undoes it); a lifecycle rule expires `staging/` after a day for crashes.
 * - `get`: GetObject's body stream; `hash`: GetObject streamed through SHA-256 (never trust
 *   the stored ETag or checksum metadata: recomputing is the point); `has`: HeadObject.
 */
export interface BlobStore {
  put(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<StagedBlob>;
  /** The stored bytes, or null when no blob has this key. */
  get(sha256: string): Promise<Readable | null>;
  /** The SHA-256 of the bytes stored under this key, recomputed now; null when they are missing. */
  hash(sha256: string): Promise<string | null>;
  has(sha256: string): Promise<boolean>;
}

/** An upload streamed to the store but not yet under its key. */
export interface StagedBlob {
  /** Lower-case hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly size: number;
  /** The first bytes (up to HEAD_BYTES; fewer only when the file is shorter): for sniffing the type. */
  readonly head: Uint8Array;
  /** Moves the bytes under their key. Idempotent; `created` is false when identical content was already stored (it is shared, and kept). */
  commit(): Promise<{ created: boolean }>;
  /** Drops the staged bytes. After a `commit` that created the blob, removes it again (the caller's undo); a shared blob is never removed. */
  discard(): Promise<void>;
}

export const HEAD_BYTES = 512;

/** The upload went past the limit: the store stopped reading and kept nothing. */
export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file is larger than ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

/** The source failed before its end (a dropped connection, an aborted upload): the store kept nothing. */
export class BlobInterruptedError extends Error {
  constructor(cause: unknown) {
    super('The upload was interrupted before its end', { cause });
    this.name = 'BlobInterruptedError';
  }
}

/**
 * The store itself cannot take the bytes: full (ENOSPC, EDQUOT), read-only or not ours to write
 * (EROFS, EACCES, EPERM), or failing (EIO). Not the client's fault: the same upload may succeed
 * later. Nothing was kept.
 */
export class BlobStoreUnavailableError extends Error {
  constructor(
    readonly errno: string,
    cause: unknown,
  ) {
    super(`The evidence store cannot write (${errno}): ${STORE_FAULTS[errno] ?? 'failing'}`, { cause });
    this.name = 'BlobStoreUnavailableError';
  }
}

const STORE_FAULTS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'the folder is not writable',
  EPERM: 'the folder is not writable',
  EIO: 'an input/output error',
};

/** The errno of a store fault (see BlobStoreUnavailableError), or null for anything else. */
export function storeFault(err: unknown): string | null {
  if (err instanceof BlobStoreUnavailableError) return err.errno;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code && code in STORE_FAULTS ? code : null;
}

/** Runs a write of the store: a store fault becomes BlobStoreUnavailableError. */
async function storeWrite<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const errno = storeFault(err);
    if (errno && !(err instanceof BlobStoreUnavailableError)) throw new BlobStoreUnavailableError(errno, err);
    throw err;
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_PREFIX = '.tmp-';

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** Reads a Web stream or an async iterable chunk by chunk; `cancel` stops the source early. */
async function* chunksOf(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    let done = false;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) {
          done = true;
          return;
        }
        yield next.value;
      }
    } finally {
      // Stopped early (over the limit, or the consumer failed): tell the source.
      if (!done) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  } else {
    yield* source as AsyncIterable<Uint8Array>;
  }
}

/**
 * The default store: a folder (by default `<dataDir>/evidence`). A blob lives at
 * `ab/cdef…` (the first two hex digits as a sub-folder, so no folder grows past a few thousand
 * entries), read-only (0444). Staging files are `.tmp-<uuid>` in the root folder: the same file
 * system as their destination, so that the move is an atomic rename/link.
 */
export class FolderBlobStore implements BlobStore {
  private ready: Promise<void> | undefined;

  constructor(readonly dir: string) {}

  /** The path of a blob. Throws on anything but a SHA-256 in hex: no key reaches the file system unchecked. */
  pathOf(sha256: string): string {
    if (!isSha256Hex(sha256)) throw new RangeError('not a SHA-256 hex digest');
    return path.join(this.dir, sha256.slice(0, 2), sha256.slice(2));
  }

  private ensureDir(): Promise<void> {
    this.ready ??= fsp.mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.ready;
  }

  async put(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<StagedBlob> {
    await storeWrite(() => this.ensureDir()).catch((err) => {
      this.ready = undefined; // try again next time: the folder may be fixed
      throw err;
    });
    const temp = path.join(this.dir, `${TEMP_PREFIX}${randomUUID()}`);
    const file = await storeWrite(() => fsp.open(temp, 'wx', 0o600));
    const hash = createHash('sha256');
    const head = new Uint8Array(HEAD_BYTES);
    let headLength = 0;
    let size = 0;
    try {
      try {
        for await (const raw of chunksOf(source)) {
          const chunk = raw instanceof Uint8Array ? raw : new Uint8Array(raw as ArrayBufferLike);
          size += chunk.byteLength;
          if (size > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
          hash.update(chunk);
          if (headLength < HEAD_BYTES) {
            const take = chunk.subarray(0, HEAD_BYTES - headLength);
            head.set(take, headLength);
            headLength += take.byteLength;
          }
          let offset = 0;
          // A failing write is the store's fault (a full disk), not an interrupted upload.
          await storeWrite(async () => {
            while (offset < chunk.byteLength) {
              const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
              offset += bytesWritten;
            }
          });
        }
      } catch (err) {
        if (err instanceof BlobTooLargeError || err instanceof BlobStoreUnavailableError) throw err;
        throw new BlobInterruptedError(err);
      }
      // Evidence must survive a power cut once recorded: flush before it can be committed.
      await storeWrite(() => file.sync());
    } catch (err) {
      await file.close().catch(() => {});
      await fsp.rm(temp, { force: true });
      throw err;
    }
    await file.close();
    await storeWrite(() => fsp.chmod(temp, 0o444)).catch(async (err) => {
      await fsp.rm(temp, { force: true }).catch(() => {});
      throw err;
    });
    return new FolderStagedBlob(this, temp, hash.digest('hex'), size, head.slice(0, headLength));
  }

  async get(sha256: string): Promise<Readable | null> {
    const file = this.pathOf(sha256);
    try {
      const handle = await fsp.open(file, 'r');
      return handle.createReadStream(); // closes the handle at its end
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async hash(sha256: string): Promise<string | null> {
    const stream = await this.get(sha256);
    if (!stream) return null;
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await fsp.access(this.pathOf(sha256), fs.constants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Staging files left by a crash (between `put` and `commit`/`discard`) older than `olderThanMs`: removed. Returns how many. */
  async sweepStaging(now: Date, olderThanMs = 3_600_000): Promise<number> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const file = path.join(this.dir, name);
      const stat = await fsp.stat(file).catch(() => null);
      if (stat && now.getTime() - stat.mtimeMs > olderThanMs) {
        await fsp.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

class FolderStagedBlob implements StagedBlob {
  private state: 'staged' | 'committed' | 'discarded' = 'staged';
  private created = false;

  constructor(
    private readonly store: FolderBlobStore,
    private readonly temp: string,
    readonly sha256: string,
    readonly size: number,
    readonly head: Uint8Array,
  ) {}

  async commit(): Promise<{ created: boolean }> {
    return storeWrite(() => this.move());
  }

  private async move(): Promise<{ created: boolean }> {
    if (this.state === 'committed') return { created: this.created };
    if (this.state === 'discarded') throw new Error('blob was discarded');
    const final = this.store.pathOf(this.sha256);
    await fsp.mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
    try {
      // link, not rename: rename would replace an existing blob, and a blob is written once
      // (replacing it would also hide a tampered file from the next hash check).
      await fsp.link(this.temp, final);
      this.created = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        this.created = false;
      } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
        // A file system without hard links: check, then rename (the same content either way).
        if (await this.store.has(this.sha256)) this.created = false;
        else {
          await fsp.rename(this.temp, final);
          this.created = true;
        }
      } else {
        throw err;
      }
    }
    await fsp.rm(this.temp, { force: true });
    this.state = 'committed';
    return { created: this.created };
  }

  async discard(): Promise<void> {
    if (this.state === 'discarded') return;
    if (this.state === 'committed') {
      if (this.created) await fsp.rm(this.store.pathOf(this.sha256), { force: true });
    } else {
      await fsp.rm(this.temp, { force: true });
    }
    this.state = 'discarded';
  }
}
