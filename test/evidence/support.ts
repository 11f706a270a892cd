import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, currentRequestId, type App } from '../../src/server.ts';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { evidenceSigningKey, useEvidenceDownloads } from '../../src/modules/evidence/download.ts';
import { createTestApp, type GqlResult, type TestApp } from '../support/app.ts';

export const PUBLIC_URL = 'https://arrears.test';
const JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long'; // test/support/app.ts

export interface EvidenceTestApp {
  t: TestApp;
  app: App;
  dir: string;
  blobs: FolderBlobStore;
  signingKey: Buffer;
  gql<T = any>(token: string, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** A GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec) with one file at `variables.input.file`. */
  upload<T = any>(token: string, query: string, input: Record<string, unknown>, file: Blob, fileName: string): Promise<GqlResult<T>>;
  /** GET a download link through the app, as a browser would (no Authorization header). */
  download(url: string): Promise<Response>;
  /** Files under the blob folder: blobs (`ab/cdef…`) and staging files (`.tmp-…`). */
  files(): { blobs: string[]; staging: string[] };
  close(): Promise<void>;
}

/** The test app of test/support/app.ts with the evidence pieces wired as bootstrap will: a blob folder of its own, the download route. */
export async function createEvidenceTestApp(options: { maxBytes?: number } = {}): Promise<EvidenceTestApp> {
  const t = await createTestApp();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-evidence-'));
  const blobs = new FolderBlobStore(dir);
  const signingKey = evidenceSigningKey(JWT_SECRET);
  // This file's own blob folder, limit and public URL: the app's deps carry them to every request.
  t.runtime.deps.evidence = { blobs, maxBytes: options.maxBytes ?? 25 * 1024 * 1024, signingKey, publicUrl: PUBLIC_URL };
  const app = createApp({
    deps: t.runtime.deps,
    authenticator: t.runtime.authenticator,
    production: false,
    ping: async () => {},
    plugins: [useEvidenceDownloads({ prisma: t.prisma, clock: t.clock, blobs, secret: signingKey, logger: t.runtime.logger, requestId: currentRequestId })],
  });

  async function send<T>(request: Request): Promise<GqlResult<T>> {
    const response = await app.fetch(request);
    const text = await response.text();
    let body: { data?: unknown; errors?: GqlResult['errors'] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`not JSON (${response.status}): ${text.slice(0, 300)}`);
    }
    return { status: response.status, data: body.data as never, ...(body.errors ? { errors: body.errors } : {}), headers: response.headers };
  }

  return {
    t,
    app,
    dir,
    blobs,
    signingKey,
    gql: (token, query, variables) =>
      send(
        new Request('http://arrears.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        }),
      ),
    upload(token, query, input, file, fileName) {
      const form = new FormData();
      form.set('operations', JSON.stringify({ query, variables: { input: { ...input, file: null } } }));
      form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
      form.set('0', file, fileName);
      return send(new Request('http://arrears.test/graphql', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' }, body: form }));
    },
    download: (url) => app.fetch(new Request(url.replace(PUBLIC_URL, 'http://arrears.test'))),
    files() {
      const blobs: string[] = [];
      const staging: string[] = [];
      for (const name of fs.readdirSync(dir)) {
        if (name.startsWith('.tmp-')) staging.push(name);
        else for (const rest of fs.readdirSync(path.join(dir, name))) blobs.push(`${name}/${rest}`);
      }
      return { blobs, staging };
    },
    async close() {
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
