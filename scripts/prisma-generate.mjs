// `prisma generate` when prisma/schema.prisma changed since the last generation (or always with
// --force, as npm's postinstall does). The schema's hash is kept beside the generated client, so
// `npm start` and `npm test` cost nothing when the data model is unchanged.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaFile = path.join(root, 'prisma', 'schema.prisma');
const stampFile = path.join(root, 'src', 'generated', '.schema-hash');

export function prismaClientIsCurrent() {
  const hash = createHash('sha256').update(fs.readFileSync(schemaFile)).digest('hex');
  const current = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8').trim() === hash && fs.existsSync(path.join(root, 'src', 'generated', 'prisma', 'client.ts'));
  return { current, hash };
}

export function generatePrismaClient({ force = false } = {}) {
  const { current, hash } = prismaClientIsCurrent();
  if (current && !force) return false;
  // Prisma's CLI must not look for its native schema engine (it cannot be downloaded here) nor
  // call its telemetry host: generate needs neither.
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'prisma', 'build', 'index.js'), 'generate', '--schema', schemaFile], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      // The Pothos generator is a bin of node_modules, as under npm run.
      PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
      PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false',
      CHECKPOINT_DISABLE: '1',
    },
  });
  fs.writeFileSync(stampFile, `${hash}\n`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  generatePrismaClient({ force: process.argv.includes('--force') });
}
