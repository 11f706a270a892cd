import path from 'node:path';
import { projectPath } from './lib/paths.ts';

/** Every setting of Arrears, read from the environment and validated once. */
export interface Config {
  port: number;
  host: string;
  /** `postgres://…` for PostgreSQL; undefined: the embedded store. */
  databaseUrl: string | undefined;
  dataDir: string;
  jwtSecret: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  jwksUrl: string | undefined;
  /** The longest lifetime a JWT may have, in seconds (ARREARS_JWT_MAX_TTL, default 12 h); longer or without `exp`: refused. */
  jwtMaxTtlSeconds: number;
  /** Base64 of 32 bytes: the AES-256-GCM key of sensitive personal data. Unset with the embedded store: generated into the data folder. */
  piiKey: string | undefined;
  /** Base64 of 32 bytes: the HMAC key of the blind indexes. */
  blindIndexKey: string | undefined;
  production: boolean;
  logLevel: string;
  redisUrl: string | undefined;
  databasePoolSize: number;
  /** Folder of evidence files (content-addressed); default `<dataDir>/evidence`. */
  evidenceDir: string;
  /** The largest evidence file accepted, in bytes. */
  evidenceMaxBytes: number;
  /** Folder of export files (CSV, XLSX; deleted a day after they are written); default `<dataDir>/exports`. */
  exportsDir: string;
  /** The built Arrears Console, served at /console/ (ARREARS_CONSOLE_DIR; default console/dist of the project). */
  consoleDir: string;
  /** How clients reach this server (signed download links are built on it). */
  publicUrl: string;
  /** Periodic jobs run in this process unless `ARREARS_JOBS=off`. */
  jobsEnabled: boolean;
  /**
   * Browser origins allowed by CORS (ARREARS_CORS_ORIGINS, comma-separated). Unset: none in
   * production; outside production, pages served from this machine (localhost, 127.0.0.1, [::1]).
   */
  corsOrigins: string[];
  /** A signed-in user's bucket of cost points and its restore rate a second (ARREARS_USER_COST_BUDGET=40000/1000). */
  userCostBudget: { maximumAvailable: number; restoreRate: number };
  /** A running operation is stopped after this long (ARREARS_EXECUTION_TIMEOUT_MS). */
  executionTimeoutMs: number;
  /** The largest JSON response (ARREARS_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /** Requests without valid credentials one client address may send per minute (then blocked for a minute). */
  anonymousRequestsPerMinute: number;
  /** Behind a reverse proxy: the client's address is the last hop of X-Forwarded-For (ARREARS_TRUST_PROXY=true). */
  trustProxy: boolean;
  /** Open connections one client address may hold (ARREARS_MAX_CONNECTIONS_PER_ADDRESS). */
  maxConnectionsPerAddress: number;
  /** The bearer token a Prometheus scraper sends to /metrics; unset: no /metrics. */
  metricsToken: string | undefined;
  /** Time to receive a request's headers, and the whole request, in ms. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** The SMS/e-mail gateway webhook; with smsWebhookSecret reminders go there, else they are recorded and logged. */
  smsWebhookUrl: string | undefined;
  /** HMAC secret shared with the gateway: signs what we send, verifies its delivery receipts. */
  smsWebhookSecret: string | undefined;
  /** Where spans go (OTLP over HTTP): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT; unset (or OTEL_SDK_DISABLED=true): no tracing. */
  otelEndpoint: string | undefined;
  /** OTEL_SERVICE_NAME, default `arrears`. */
  otelServiceName: string;
  /** Outside production only: GraphiQL's docs pane and demo sign-in for any address (ARREARS_GRAPHIQL_DEMO=on), not only this machine. */
  graphiqlDemo: boolean;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function str(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = str(env, name);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${v}"`);
}

/** `<bucket>/<restored a second>`; the bucket must hold the largest operation (the cost limit, 20,000). */
function costBudget(v: string | undefined): { maximumAvailable: number; restoreRate: number } {
  if (v === undefined) return { maximumAvailable: 40_000, restoreRate: 1_000 };
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(v);
  const maximumAvailable = Number(m?.[1]);
  const restoreRate = Number(m?.[2]);
  if (!m || maximumAvailable < 20_000 || restoreRate < 1) {
    throw new ConfigError(`ARREARS_USER_COST_BUDGET must be <bucket>/<restored a second> with a bucket of at least 20000, got "${v}"`);
  }
  return { maximumAvailable, restoreRate };
}

function metricsToken(v: string | undefined): string | undefined {
  if (v !== undefined && v.length < 16) throw new ConfigError('ARREARS_METRICS_TOKEN must be at least 16 characters');
  return v;
}

function corsOrigins(raw: string | undefined): string[] {
  const origins = (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of origins) {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError(`ARREARS_CORS_ORIGINS: "${o}" is not an origin (scheme://host[:port])`);
    }
    if (o === '*' || url.origin !== o.replace(/\/$/, '')) throw new ConfigError(`ARREARS_CORS_ORIGINS: "${o}" is not an origin (scheme://host[:port])`);
  }
  return origins.map((o) => o.replace(/\/$/, ''));
}

/** The folder of export files: ARREARS_EXPORTS_DIR, else `<ARREARS_DATA_DIR>/exports` (the export job reads it too). */
export function exportsDirOf(env: NodeJS.ProcessEnv): string {
  return path.resolve(str(env, 'ARREARS_EXPORTS_DIR') ?? path.join(str(env, 'ARREARS_DATA_DIR') ?? './data', 'exports'));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = str(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql:// (unset it for the embedded store)');
  }
  const production = env.NODE_ENV === 'production';
  const jwtSecret = str(env, 'ARREARS_JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('ARREARS_JWT_SECRET must be at least 32 characters');
  }
  for (const name of ['ARREARS_PII_KEY', 'ARREARS_BLIND_INDEX_KEY']) {
    const v = str(env, name);
    if (v !== undefined && Buffer.from(v, 'base64').length !== 32) {
      throw new ConfigError(`${name} must be the base64 of 32 random bytes`);
    }
  }
  const smsWebhookUrl = str(env, 'ARREARS_SMS_WEBHOOK_URL');
  const smsWebhookSecret = str(env, 'ARREARS_SMS_WEBHOOK_SECRET');
  if ((smsWebhookUrl === undefined) !== (smsWebhookSecret === undefined)) throw new ConfigError('ARREARS_SMS_WEBHOOK_URL and ARREARS_SMS_WEBHOOK_SECRET go together');
  if (smsWebhookUrl && !/^https?:\/\//.test(smsWebhookUrl)) throw new ConfigError('ARREARS_SMS_WEBHOOK_URL must be http(s)');
  if (smsWebhookSecret && smsWebhookSecret.length < 16) throw new ConfigError('ARREARS_SMS_WEBHOOK_SECRET must be at least 16 characters');
  const otelEndpoint = bool(env, 'OTEL_SDK_DISABLED', false) ? undefined : (str(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'));
  if (otelEndpoint && !/^https?:\/\//.test(otelEndpoint)) throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (OTLP over HTTP)');
  const graphiqlDemo = bool(env, 'ARREARS_GRAPHIQL_DEMO', false);
  if (graphiqlDemo && production) throw new ConfigError('ARREARS_GRAPHIQL_DEMO is for demo and development servers: not with NODE_ENV=production');
  return {
    otelEndpoint,
    otelServiceName: str(env, 'OTEL_SERVICE_NAME') ?? 'arrears',
    graphiqlDemo,
    smsWebhookUrl,
    smsWebhookSecret,
    port: int(env, 'PORT', 4000, 0, 65535),
    host: str(env, 'HOST') ?? '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(str(env, 'ARREARS_DATA_DIR') ?? './data'),
    jwtSecret,
    jwtIssuer: str(env, 'ARREARS_JWT_ISSUER'),
    jwtAudience: str(env, 'ARREARS_JWT_AUDIENCE'),
    jwksUrl: str(env, 'ARREARS_JWKS_URL'),
    jwtMaxTtlSeconds: int(env, 'ARREARS_JWT_MAX_TTL', 43_200, 60, 30 * 86_400),
    piiKey: str(env, 'ARREARS_PII_KEY'),
    blindIndexKey: str(env, 'ARREARS_BLIND_INDEX_KEY'),
    production,
    logLevel: str(env, 'LOG_LEVEL') ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    redisUrl: str(env, 'REDIS_URL'),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    evidenceDir: path.resolve(str(env, 'ARREARS_EVIDENCE_DIR') ?? path.join(str(env, 'ARREARS_DATA_DIR') ?? './data', 'evidence')),
    evidenceMaxBytes: int(env, 'ARREARS_EVIDENCE_MAX_BYTES', 25 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
    exportsDir: exportsDirOf(env),
    consoleDir: path.resolve(str(env, 'ARREARS_CONSOLE_DIR') ?? projectPath('console', 'dist')),
    publicUrl: (str(env, 'ARREARS_PUBLIC_URL') ?? `http://localhost:${int(env, 'PORT', 4000, 0, 65535)}`).replace(/\/$/, ''),
    jobsEnabled: (str(env, 'ARREARS_JOBS') ?? 'on') !== 'off',
    corsOrigins: corsOrigins(str(env, 'ARREARS_CORS_ORIGINS')),
    userCostBudget: costBudget(str(env, 'ARREARS_USER_COST_BUDGET')),
    executionTimeoutMs: int(env, 'ARREARS_EXECUTION_TIMEOUT_MS', 10_000, 100, 600_000),
    maxResponseBytes: int(env, 'ARREARS_MAX_RESPONSE_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    anonymousRequestsPerMinute: int(env, 'ARREARS_ANONYMOUS_REQUESTS_PER_MINUTE', 30, 1, 1_000_000),
    trustProxy: bool(env, 'ARREARS_TRUST_PROXY', false),
    maxConnectionsPerAddress: int(env, 'ARREARS_MAX_CONNECTIONS_PER_ADDRESS', 64, 1, 100_000),
    metricsToken: metricsToken(str(env, 'ARREARS_METRICS_TOKEN')),
    headersTimeoutMs: int(env, 'ARREARS_HEADERS_TIMEOUT_MS', 10_000, 1_000, 600_000),
    requestTimeoutMs: int(env, 'ARREARS_REQUEST_TIMEOUT_MS', 120_000, 1_000, 3_600_000),
  };
}
