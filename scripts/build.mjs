// `npm run build`: compiles the server to JavaScript in dist/ with esbuild (src/main.ts and the
// modules it loads later, split into chunks; packages stay in node_modules). dist/BUILD records
// the hash of what it was built from, so `npm start` knows whether the build is current. Then the
// Arrears Console (console/, Vite) to console/dist, stamped the same way (console/dist/BUILD); the
// build prints the console's initial JavaScript, gzip, and fails above its budget (250 KB).
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
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

// ------------------------------------------------------------------ the console

const consoleDir = path.join(root, 'console');
const consoleOut = path.join(consoleDir, 'dist');
const consoleStamp = path.join(consoleOut, 'BUILD');
/** The console's initial JavaScript (entry chunk and its static imports), gzip, at most. */
export const CONSOLE_INITIAL_JS_BUDGET = 250 * 1024;

function filesUnder(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(p, out);
    else out.push(p);
  }
  return out;
}

/** Everything the console's build reads: its sources, page, config and manifest, and the SDK's sources. */
export function consoleSourceHash() {
  const h = createHash('sha256');
  const files = [
    ...filesUnder(path.join(consoleDir, 'src')),
    path.join(consoleDir, 'index.html'),
    path.join(consoleDir, 'vite.config.ts'),
    path.join(consoleDir, 'package.json'),
    ...filesUnder(path.join(root, 'sdk', 'src')),
  ].sort();
  for (const file of files) h.update(path.relative(root, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  return h.digest('hex');
}

export function consoleIsCurrent(hash = consoleSourceHash()) {
  return fs.existsSync(consoleStamp) && fs.readFileSync(consoleStamp, 'utf8').trim() === hash && fs.existsSync(path.join(consoleOut, 'index.html'));
}

/** The initial JavaScript of the built console: the entry's chunk and every chunk it imports statically (not the lazy ones). */
export function consoleInitialJs(outDir = consoleOut) {
  const manifest = JSON.parse(fs.readFileSync(path.join(outDir, '.vite', 'manifest.json'), 'utf8'));
  const seen = new Set();
  const visit = (key) => {
    const chunk = manifest[key];
    if (!chunk || seen.has(chunk.file)) return;
    seen.add(chunk.file);
    for (const dep of chunk.imports ?? []) visit(dep);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  const files = [...seen].filter((f) => f.endsWith('.js'));
  const gzip = files.reduce((n, f) => n + zlib.gzipSync(fs.readFileSync(path.join(outDir, f)), { level: 9 }).length, 0);
  const raw = files.reduce((n, f) => n + fs.statSync(path.join(outDir, f)).size, 0);
  return { files, raw, gzip };
}

export async function buildConsole() {
  const started = Date.now();
  const hash = consoleSourceHash();
  const { build: viteBuild } = await import('vite');
  // React's production build whoever calls (a test runner sets NODE_ENV=test, which Vite follows).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await viteBuild({ configFile: path.join(consoleDir, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  fs.writeFileSync(consoleStamp, `${hash}\n`);
  const initial = consoleInitialJs();
  return { ms: Date.now() - started, initial };
}

export function describeInitialJs(initial) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  return `console initial JavaScript: ${kb(initial.gzip)} gzip (${kb(initial.raw)} raw, ${initial.files.length} file(s)); budget ${kb(CONSOLE_INITIAL_JS_BUDGET)} gzip`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const ms = await build();
  process.stderr.write(`Built dist/ in ${ms} ms.\n`);
  const c = await buildConsole();
  process.stderr.write(`Built console/dist in ${c.ms} ms.\n`);
  console.log(describeInitialJs(c.initial));
  if (c.initial.gzip > CONSOLE_INITIAL_JS_BUDGET) {
    process.stderr.write('The console\'s initial JavaScript is over its budget: lazy-load more (README, "Arrears Console").\n');
    process.exit(1);
  }
}
