/**
 * The command line of Arrears:
 *   serve (default)   open the store, apply migrations, serve GraphQL on HOST:PORT
 *   migrate           apply pending migrations to the store, then exit
 *   seed              fill the store with the demo data set (twice changes nothing)
 *   token <email>     print a bearer token for a user
 *   import <file>     take in a CSV or JSONL file of delinquent accounts, in batches
 *   job <name>        run one periodic job once
 *   store:copy --to <postgres url>   copy the embedded store into an empty PostgreSQL database
 *   backup <file>     a consistent copy of the embedded store, also while the server runs
 *   restore <file> <folder>          a backup into an empty folder
 */
import { loadConfig, ConfigError } from './config.ts';
import { openStore } from './db/store.ts';
import { applyMigrations } from './db/migrations.ts';
import { StoreLockedError } from './db/folder-lock.ts';
import { loadSecrets } from './lib/secrets.ts';
import { Pii } from './lib/pii.ts';
import { systemClock } from './lib/time.ts';
import { createLogger } from './lib/logger.ts';
import { signToken } from './auth/tokens.ts';
import { shutdown, startRuntime } from './bootstrap.ts';
import { listen } from './server.ts';
import { ensureContactPolicies } from './modules/policy/service.ts';
import { JobScheduler, defaultJobs } from './jobs/index.ts';
import { listenForBackups } from './db/backup.ts';

async function serve(): Promise<void> {
  const config = loadConfig();
  const runtime = await startRuntime(config, { purpose: 'server' });
  const server = await listen(runtime.app, config.host, config.port, {
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
  });
  // Periodic work (bucket history, placement expiry, promise checks, reminders), leased in the database.
  const scheduler = config.jobsEnabled ? new JobScheduler(runtime.deps, defaultJobs(), { tickMs: 5_000, onRunFinished: (r) => runtime.metrics.recordJobRun(r) }) : null;
  scheduler?.start();
  // The embedded store's folder is this process's: `npm run backup` asks it for a copy over a socket in the folder.
  const backups =
    runtime.store.kind === 'pglite'
      ? await listenForBackups(runtime.store, config.dataDir, runtime.logger).catch((err: unknown) => {
          runtime.logger.warn({ err }, 'backup: no control socket; npm run backup works only while the server is stopped');
          return null;
        })
      : null;
  const where = config.databaseUrl ? 'PostgreSQL' : `the embedded store in ${config.dataDir}`;
  runtime.logger.info({ url: `${server.url}/graphql`, store: runtime.store.kind }, 'Arrears is serving');
  process.stderr.write(`\nArrears serves GraphQL at ${server.url}/graphql on ${where}.\n` +
    `GraphiQL: open it in a browser. A token: npm run token -- admin@bank.example (after npm run seed:demo).\n\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info({ signal }, 'shutting down: no new requests, finishing those in flight');
    await backups?.close();
    await shutdown(runtime, server, scheduler, 10_000);
    runtime.logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function migrate(): Promise<void> {
  const config = loadConfig();
  const store = await openStore(config, 'migrate');
  try {
    const { applied } = await applyMigrations(store.sql, { log: (m) => process.stdout.write(`${m}\n`) });
    process.stdout.write(applied.length ? `Applied ${applied.length} migration(s).\n` : 'The database is up to date.\n');
  } finally {
    await store.close();
  }
}

async function seed(): Promise<void> {
  const config = loadConfig();
  const { seedDemo } = await import('./seed/demo.ts');
  const store = await openStore(config, 'seed:demo');
  try {
    await applyMigrations(store.sql);
    await ensureContactPolicies(store.prisma);
    const secrets = loadSecrets(config);
    const started = Date.now();
    const { FolderBlobStore } = await import('./modules/evidence/blob-store.ts');
    const result = await seedDemo(store.prisma, { pii: new Pii(secrets.pii), clock: systemClock, blobs: new FolderBlobStore(config.evidenceDir) });
    process.stdout.write(
      result.seeded
        ? `Demo data: ${result.cases} cases, ${result.users} users, in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`
        : 'The demo data set is already there: nothing changed.\n',
    );
    // The demo's strategy, scores and running experiment (src/seed/strategy.ts), through the strategy services.
    const { seedDemoStrategy } = await import('./seed/strategy.ts');
    const strategy = await seedDemoStrategy(store.prisma, { pii: new Pii(secrets.pii), clock: systemClock });
    if (strategy.seeded) process.stdout.write(`Demo strategy: ${strategy.scores} risk scores, ${strategy.assigned} cases assigned.\n`);
  } finally {
    await store.close();
  }
}

/**
 * Prints a token. The user is looked up when the store can be opened; while a server holds the
 * embedded folder, the token is signed for the e-mail and the server checks the user on each request.
 */
async function token(email: string | undefined): Promise<void> {
  if (!email) throw new ConfigError('usage: npm run token -- <email>');
  const config = loadConfig();
  const secrets = loadSecrets(config);
  let user: { id: string; email: string } = { id: '', email: email.toLowerCase() };
  try {
    const store = await openStore(config, 'token');
    try {
      const found = await store.prisma.user.findUnique({ where: { email: email.toLowerCase() } });
      if (!found) throw new ConfigError(`No user with e-mail ${email}. Run npm run seed:demo for the demo users.`);
      if (!found.active) throw new ConfigError(`User ${email} is inactive.`);
      user = found;
    } finally {
      await store.close();
    }
  } catch (err) {
    if (!(err instanceof StoreLockedError)) throw err;
  }
  // As long as the server accepts (ARREARS_JWT_MAX_TTL), 12 hours at most.
  const ttl = Math.min(12 * 3600, config.jwtMaxTtlSeconds);
  const jwt = user.id
    ? await signToken(secrets.jwtSecret, user, { expiresInSeconds: ttl })
    : await signEmailToken(secrets.jwtSecret, user.email, ttl);
  process.stdout.write(`${jwt}\n`);
}

/** `npm run admin:create -- <email> "<full name>" [--force]`: the first bank admin of an install. */
async function adminCreate(args: string[]): Promise<void> {
  const force = args.includes('--force');
  const [email, fullName] = args.filter((a) => a !== '--force' && a !== '--');
  if (!email || !fullName) throw new ConfigError('usage: npm run admin:create -- <email> "<full name>" [--force]');
  const config = loadConfig();
  const { createFirstAdmin } = await import('./modules/agencies/service.ts');
  const { DomainError } = await import('./lib/errors.ts');
  const store = await openStore(config, 'admin:create');
  try {
    await applyMigrations(store.sql);
    const user = await createFirstAdmin({ prisma: store.prisma, clock: systemClock }, { email, fullName, force });
    process.stdout.write(`Bank admin ${user.email} created. A token for GraphiQL: npm run token -- ${user.email}\n`);
  } catch (err) {
    if (err instanceof DomainError) throw new ConfigError(err.message);
    throw err;
  } finally {
    await store.close();
  }
}

async function signEmailToken(secret: string, email: string, ttlSeconds: number): Promise<string> {
  const { SignJWT } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('arrears')
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

async function main(): Promise<void> {
  const [command = 'serve', ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      return serve();
    case 'migrate':
      return migrate();
    case 'seed':
      return seed();
    case 'token':
      return token(rest[0]);
    case 'admin:create':
      return adminCreate(rest);
    case 'import': {
      const { runImportCommand } = await import('./cli/import.ts');
      return runImportCommand(rest);
    }
    case 'job': {
      const { runJobCommand } = await import('./jobs/command.ts');
      return runJobCommand(rest);
    }
    case 'store:copy': {
      const { runStoreCopyCommand } = await import('./cli/store-copy.ts');
      return runStoreCopyCommand(rest);
    }
    case 'backup': {
      const { runBackupCommand } = await import('./cli/backup.ts');
      return runBackupCommand(rest);
    }
    case 'restore': {
      const { runRestoreCommand } = await import('./cli/backup.ts');
      return runRestoreCommand(rest);
    }
    default:
      throw new ConfigError(`unknown command "${command}": serve, migrate, seed, token, admin:create, import, job, store:copy, backup or restore`);
  }
}

main().catch((err: unknown) => {
  const known = err instanceof ConfigError || err instanceof StoreLockedError;
  const logger = createLogger('error');
  if (known) process.stderr.write(`${(err as Error).message}\n`);
  else logger.error({ err }, 'failed');
  process.exit(1);
});
