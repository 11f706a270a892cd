// `npm start`: runs the compiled server (dist/) when it is current; otherwise generates the Prisma
// client if the data model changed, builds, then runs. Arguments go to the server's command line
// (serve, the default; migrate; seed; token; import; job).
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { generatePrismaClient } from './prisma-generate.mjs';
import { build, buildConsole, buildIsCurrent, consoleIsCurrent, describeInitialJs } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const generated = generatePrismaClient();
if (generated || !buildIsCurrent()) {
  const ms = await build();
  process.stderr.write(`Built dist/ in ${ms} ms (the sources changed since the last build).\n`);
}
// The console (served at /console/) is built when it is missing or its sources changed: a few
// seconds. Without Vite (an install without dev dependencies) the server says how to build it.
if (process.argv.slice(2).every((a) => a === 'serve') && !consoleIsCurrent()) {
  try {
    const c = await buildConsole();
    process.stderr.write(`Built console/dist in ${c.ms} ms (${describeInitialJs(c.initial)}).\n`);
  } catch (err) {
    process.stderr.write(`The console was not built (${err instanceof Error ? err.message.split('\n')[0] : err}): /console/ explains how; run npm run build.\n`);
  }
}
await import(pathToFileURL(path.join(root, 'dist', 'main.js')).href);
