// Bundle sizes of the SDK as an app would ship it: `npm run --workspace sdk size`. Each entry is
// bundled for browsers with Vite (minified, tree-shaken, ESM) and gzipped. The first line is the
// client without the generated operations (@arrears/sdk/core: requests, retries, timeouts,
// errors, uploads, pagination, subscriptions).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Rollup } from 'vite';

const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = (file: string) => JSON.stringify(path.join(sdkDir, 'src', file));

export interface BundleSize {
  name: string;
  minifiedBytes: number;
  gzipBytes: number;
}

export const ENTRIES: Record<string, string> = {
  'client without generated operations (@arrears/sdk/core)': `export { createGraphQLClient } from ${src('core.ts')};`,
  'createArrearsClient with every operation': `export { createArrearsClient } from ${src('index.ts')};`,
  'one generated document alone (CasesDocument)': `export { CasesDocument } from ${src('index.ts')};`,
};

export async function bundleSize(name: string, code: string): Promise<BundleSize> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-sdk-size-'));
  try {
    const entry = path.join(dir, 'entry.js');
    fs.writeFileSync(entry, code);
    const result = await build({
      configFile: false,
      logLevel: 'silent',
      root: dir,
      build: {
        write: false,
        minify: true,
        target: 'es2022',
        lib: { entry, formats: ['es'], fileName: 'bundle' },
      },
    });
    const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
    const chunks = outputs.flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
    const text = chunks.map((c) => c.code).join('\n');
    return { name, minifiedBytes: Buffer.byteLength(text), gzipBytes: gzipSync(text, { level: 9 }).length };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  for (const [name, code] of Object.entries(ENTRIES)) {
    const size = await bundleSize(name, code);
    console.log(`${name}: ${kb(size.minifiedBytes)} minified, ${kb(size.gzipBytes)} gzip (${size.gzipBytes} bytes)`);
  }
}
