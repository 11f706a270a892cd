// The package build: `npm run --workspace sdk build` → dist/ (ESM .js, .d.ts, source maps, the
// persisted-documents manifest). TypeScript compiles src/ (tsconfig.build.json rewrites the
// `.ts` import specifiers of the .js files to `.js`); the declaration files keep `.ts`
// specifiers, which are rewritten here, so that consumers' TypeScript resolves them to `.d.ts`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(sdkDir, 'dist');
const require = createRequire(import.meta.url);

/** Relative `.ts` specifiers (`from './x.ts'`, `import('./x.ts')`) → `.js`. */
export function rewriteSpecifiers(source: string): string {
  return source.replace(/((?:from\s+|import\s*\(\s*)['"])(\.{1,2}\/[^'"]+?)\.ts(['"])/g, '$1$2.js$3');
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Builds into `outDir` (default sdk/dist), emptied first. */
export function build(outDir: string = dist): void {
  fs.rmSync(outDir, { recursive: true, force: true });
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(sdkDir, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  for (const file of filesUnder(outDir)) {
    if (!file.endsWith('.d.ts') && !file.endsWith('.js')) continue;
    const text = fs.readFileSync(file, 'utf8');
    const fixed = rewriteSpecifiers(text);
    if (fixed !== text) fs.writeFileSync(file, fixed);
  }
  fs.copyFileSync(path.join(sdkDir, 'src', 'generated', 'persisted-documents.json'), path.join(outDir, 'persisted-documents.json'));
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  build();
  console.log(`@arrears/sdk built into ${path.relative(process.cwd(), dist) || dist}`);
}
