// The package as consumers get it (issue 7, item 2): `npm run --workspace sdk build` makes ESM
// .js with .d.ts; a consumer's TypeScript (NodeNext or bundler resolution, no Node types)
// type-checks against the exports; plain Node 20 runs it without a TypeScript loader; nothing
// imports a Node built-in; a bundler drops what an app does not use. Built into a temporary
// folder, so that this test and the browser test (which builds sdk/dist) do not race.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../sdk/scripts/build.ts';
import { ENTRIES, bundleSize } from '../../sdk/scripts/size.ts';

const root = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
let work: string;
let pkg: string; // <work>/node_modules/@arrears/sdk

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-sdk-build-'));
  pkg = path.join(work, 'node_modules', '@arrears', 'sdk');
  build(path.join(pkg, 'dist'));
  fs.copyFileSync(path.join(root, 'sdk', 'package.json'), path.join(pkg, 'package.json'));
  // The one package the declarations import (types only).
  fs.mkdirSync(path.join(work, 'node_modules', '@graphql-typed-document-node'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules', '@graphql-typed-document-node', 'core'), path.join(work, 'node_modules', '@graphql-typed-document-node', 'core'));
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the built package', () => {
  it('is ESM .js with .d.ts and the manifest, with no .ts specifier and no Node built-in', () => {
    const files = filesUnder(path.join(pkg, 'dist')).map((f) => path.relative(path.join(pkg, 'dist'), f));
    for (const entry of ['index', 'core', 'client', 'errors', 'generated/graphql', 'generated/operations']) {
      expect(files).toContain(`${entry}.js`);
      expect(files).toContain(`${entry}.d.ts`);
    }
    expect(files).toContain('persisted-documents.json');
    for (const file of files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
      const text = fs.readFileSync(path.join(pkg, 'dist', file), 'utf8');
      expect(text, file).not.toMatch(/from\s+['"]\.{1,2}\/[^'"]+\.ts['"]/);
      expect(text, file).not.toMatch(/from\s+['"](node:|fs['"]|path['"]|crypto['"]|buffer['"])/);
      expect(text, file).not.toMatch(/\brequire\(/);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'dist', 'persisted-documents.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(manifest).every((k) => /^sha256:[0-9a-f]{64}$/.test(k))).toBe(true);
  });

  it('runs in plain Node through the package exports', () => {
    const script = `
      const sdk = await import('@arrears/sdk');
      const core = await import('@arrears/sdk/core');
      const docs = await import('@arrears/sdk/documents');
      const client = sdk.createArrearsClient({ url: 'http://127.0.0.1:9/graphql', token: 't' });
      console.log(JSON.stringify([typeof client.cases, typeof client.paginate.cases, typeof client.subscribe.caseEvents, typeof core.createGraphQLClient, String(docs.ViewerDocument).includes('query Viewer')]));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: work, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function', true]);
  });

  it.each(['NodeNext', 'Bundler'])('type-checks in a consumer project (%s resolution, DOM types only)', (resolution) => {
    const dir = path.join(work, `consumer-${resolution}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          module: resolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
          moduleResolution: resolution,
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['app.ts'],
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'app.ts'),
      `
      import { createArrearsClient, isArrearsError, type CasesQuery, type UserErrorCode } from '@arrears/sdk';
      import { createGraphQLClient, TimeoutError } from '@arrears/sdk/core';
      import { CasesDocument } from '@arrears/sdk/documents';

      const arrears = createArrearsClient({ url: 'https://arrears.example/graphql', token: 'ak_x', retries: 2, timeoutMs: 5000 });
      export async function main(): Promise<void> {
        const { cases }: CasesQuery = await arrears.cases({ first: 20, filter: { bucket: ['M2'] } });
        for (const c of cases.nodes) console.log(c.number, c.overdue.formatted);
        for await (const page of arrears.paginate.workQueue({ first: 50 })) console.log(page.totalCount);
        const { holdCase } = await arrears.holdCase({ input: { caseId: cases.nodes[0]!.id, reason: 'DISPUTE' } });
        const code: UserErrorCode | undefined = holdCase.userErrors[0]?.code;
        for await (const e of arrears.subscribe.caseEvents({ caseId: 'x' })) console.log(e.caseEvents.type, code);
        await arrears.uploadEvidence({ input: { caseId: 'x', kind: 'NOTE', file: new Blob(['%PDF-1.4']) } });
        const core = createGraphQLClient({ url: 'https://arrears.example/graphql' });
        const again = await core.request(CasesDocument, { first: 1 });
        console.log(again.cases.totalCount, new TimeoutError('x').kind);
        // @ts-expect-error not a variable of Cases
        await arrears.cases({ frist: 1 });
        try { await arrears.viewer(); } catch (e) { if (isArrearsError(e) && e.kind === 'RATE_LIMITED') console.log(e.retryAfterMs); }
      }
      `,
    );
    const run = () => execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    expect(run).not.toThrow();
  });

  it('is tree-shakable: the client without generated operations is small, one document alone tiny', async () => {
    const [core, full, one] = await Promise.all(Object.entries(ENTRIES).map(([name, code]) => bundleSize(name, code)));
    console.log([core, full, one].map((s) => `${s!.name}: ${s!.minifiedBytes} B minified, ${s!.gzipBytes} B gzip`).join('\n'));
    expect(core!.gzipBytes).toBeLessThan(10 * 1024);
    expect(one!.gzipBytes).toBeLessThan(2 * 1024);
    expect(full!.gzipBytes).toBeGreaterThan(core!.gzipBytes);
  });
});
