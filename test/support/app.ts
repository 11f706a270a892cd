import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/bootstrap.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { Pii } from '../../src/lib/pii.ts';
import { signToken } from '../../src/auth/tokens.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createTestStore } from './store.ts';

export const TEST_NOW = '2026-11-28T02:00:00.000Z'; // 10:00 in Shanghai

export interface GqlResult<T = any> {
  status: number;
  data: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
  headers: Headers;
}

export interface TestApp {
  runtime: Runtime;
  clock: FixedClock;
  prisma: Runtime['store']['prisma'];
  pii: Pii;
  /** A bearer token for a user (by id and e-mail). */
  token(user: { id: string; email: string }): Promise<string>;
  /** POST a GraphQL request through the app's Fetch handler, as a client would over HTTP. */
  gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export async function createTestApp(options: { now?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestApp> {
  const clock = new FixedClock(options.now ?? TEST_NOW);
  const store = await createTestStore();
  const evidenceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-evidence-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    ARREARS_DATA_DIR: '/nonexistent-test-dir',
    ARREARS_EVIDENCE_DIR: evidenceDir,
    // Test files send hundreds of deep queries as one user in seconds: their budget is not under
    // test here (test/server/rate-limit.test.ts tests budgets with its own keys and settings).
    ARREARS_USER_COST_BUDGET: '100000000/10000000',
    ...options.env,
  });
  const secrets = { jwtSecret: 'test-secret-that-is-at-least-32-characters-long', pii: Pii.randomKeys() };
  const runtime = await startRuntime(config, { clock, store, secrets, migrate: false, logger: createLogger('silent') });
  return {
    runtime,
    clock,
    prisma: store.prisma,
    pii: runtime.deps.pii,
    token: (user) => signToken(secrets.jwtSecret, user, { now: clock.now() }),
    async gql(token, query, variables, headers = {}) {
      const response = await runtime.app.fetch(
        new Request('http://arrears.test/graphql', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...headers,
          },
          body: JSON.stringify({ query, variables }),
        }),
      );
      const body = (await response.json()) as { data: unknown; errors?: GqlResult['errors'] };
      return { status: response.status, data: body.data as never, ...(body.errors ? { errors: body.errors } : {}), headers: response.headers };
    },
    async close() {
      await runtime.close();
      fs.rmSync(evidenceDir, { recursive: true, force: true });
    },
  };
}
