// npm run migrate:create -- <name>
//
// Writes prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql: the SQL that takes a database
// built by the existing migrations to prisma/schema.prisma. It is what `prisma migrate dev
// --create-only` writes, computed offline by Prisma's WebAssembly schema engine, the history
// being replayed on an in-memory PGlite (no server, no native engine). Review the SQL, then apply
// it with `npm run migrate`.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MIGRATIONS_DIR, MIGRATION_LOCK_CONTENT, diffMigrationsToSchema } from '../src/db/schema-engine.ts';

const NAME = /^[a-z0-9_]+$/;
/** Statements worth a second look before they run on a database with data. */
const RISKY = [
  /\bDROP\s+(TABLE|COLUMN|TYPE|INDEX|CONSTRAINT|VALUE)\b/i,
  /\bALTER\s+COLUMN\b.*\b(TYPE|SET NOT NULL)\b/i,
  /\bADD\s+COLUMN\b(?!.*\bDEFAULT\b).*\bNOT NULL\b/i,
  /\bCREATE\s+UNIQUE\s+INDEX\b/i,
  /\bRENAME\b/i,
];
const MAX_NAME = 200; // migration_name is VARCHAR(255), with 15 characters of timestamp

/** UTC `YYYYMMDDHHMMSS`, as Prisma names migration folders. */
function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
  );
}

function usage(message: string): never {
  process.stderr.write(`${message}\nUsage: npm run migrate:create -- <name>   (lowercase letters, digits, underscores)\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  if (args.length !== 1) usage(args.length === 0 ? 'A migration name is required.' : 'Give exactly one migration name.');
  const name = args[0]!;
  if (!NAME.test(name)) usage(`Invalid migration name "${name}".`);
  if (name.length > MAX_NAME) usage(`The migration name is longer than ${MAX_NAME} characters.`);

  const dir = DEFAULT_MIGRATIONS_DIR;
  process.stdout.write('Computing the difference between prisma/migrations and prisma/schema.prisma...\n');
  const diff = await diffMigrationsToSchema({ migrationsDir: dir });
  if (!diff.changed) {
    process.stdout.write('No schema changes: no migration written.\n');
    return;
  }

  let stamp = timestamp(new Date());
  // Two migrations within one second: keep names unique and in order.
  while (existsSync(path.join(dir, `${stamp}_${name}`))) {
    await new Promise((r) => setTimeout(r, 1000));
    stamp = timestamp(new Date());
  }
  const folder = path.join(dir, `${stamp}_${name}`);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, 'migration.sql');
  await writeFile(file, diff.sql, 'utf8');

  const lockPath = path.join(dir, 'migration_lock.toml');
  const lock = await readFile(lockPath, 'utf8').catch(() => null);
  if (lock !== MIGRATION_LOCK_CONTENT) await writeFile(lockPath, MIGRATION_LOCK_CONTENT, 'utf8');

  const lines = diff.sql.split('\n');
  const steps = lines.filter((l) => /^-- [A-Z]/.test(l)).length;
  process.stdout.write(`Wrote ${path.relative(process.cwd(), file)} (${steps} step(s)).\n`);
  // The engine's diff carries none of the data-loss warnings `prisma migrate dev` prints.
  const risky = lines.filter((l) => RISKY.some((r) => r.test(l)));
  if (risky.length > 0) {
    process.stdout.write(
      'These statements may lose data, or fail on a table that has rows:\n' +
        risky.map((l) => `  ${l.trim()}\n`).join(''),
    );
  }
  process.stdout.write('Review it, then apply it with `npm run migrate`.\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate:create failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
