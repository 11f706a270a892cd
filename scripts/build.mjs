// `npm run build`: compiles the server to JavaScript in dist/ with esbuild (src/main.ts and the
// modules it loads later, split into chunks; packages stay in node_modules). dist/BUILD records
// the hash of what it was built from, so `npm start` knows whether the build is current.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');
const stampFile = path.join(outdir, 'BUILD');

/** Every file the build reads from the project: src/ (the generated client included), the SDK's manifest, the package list. */
function inputs() {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(root, 'src'));
  files.push(path.join(root, 'sdk', 'src', 'generated', 'persisted-documents.json'), path.join(root, 'package.json'));
  return files.sort();
}

export function sourceHash() {
  const h = createHash('sha256');
  for (const file of inputs()) h.update(path.relative(root, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  return h.digest('hex');
}

export function buildIsCurrent(hash = sourceHash()) {
  return fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8').trim() === hash && fs.existsSync(path.join(outdir, 'main.js'));
}

export async function build() {
  const started = Date.now();
  const hash = sourceHash();
  const { build: esbuild } = await import('esbuild');
  // Built beside, then swapped in: a server running from dist/ never sees half a build.
  const staging = `${outdir}.${process.pid}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  await esbuild({
    entryPoints: { main: path.join(root, 'src', 'main.ts') },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    // Node runs the bundle as ESM; a CommonJS helper inside a package may still call require.
    banner: { js: "import { createRequire as __arrearsCreateRequire } from 'node:module'; const require = __arrearsCreateRequire(import.meta.url);" },
  });
  fs.writeFileSync(path.join(staging, 'BUILD'), `${hash}\n`);
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.renameSync(staging, outdir);
  return Date.now() - started;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const ms = await build();
  process.stderr.write(`Built dist/ in ${ms} ms.\n`);
}
