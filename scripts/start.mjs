// `npm start`: runs the compiled server (dist/) when it is current; otherwise generates the Prisma
// client if the data model changed, builds, then runs. Arguments go to the server's command line
// (serve, the default; migrate; seed; token; import; job).
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { generatePrismaClient } from './prisma-generate.mjs';
import { build, buildIsCurrent } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const generated = generatePrismaClient();
if (generated || !buildIsCurrent()) {
  const ms = await build();
  process.stderr.write(`Built dist/ in ${ms} ms (the sources changed since the last build).\n`);
}
await import(pathToFileURL(path.join(root, 'dist', 'main.js')).href);
