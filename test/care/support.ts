/**
 * Shared set-up of the care tests (issue 13): an app on a fresh store, the people of every role,
 * tokens re-signed when the clock moves, and SDK clients over real HTTP on a loopback port.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createArrearsClient, type ArrearsClient } from '../../sdk/src/index.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { createTestApp, type GqlResult, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type CaseSpec, type Scenario } from '../support/scenario.ts';

export type Who = keyof Scenario['users'];

export interface CareWorld {
  t: TestApp;
  s: Scenario;
  tok: Record<Who, string>;
  /** An SDK client of one user over HTTP (tokens follow the clock). */
  sdk(who: Who): ArrearsClient;
  gql<T = any>(who: Who | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  setClock(at: string): Promise<void>;
  /** A GraphQL multipart request with one file at `variables.input.file`. */
  upload<T = any>(who: Who, query: string, input: Record<string, unknown>, file: Buffer, fileName: string): Promise<GqlResult<T>>;
  /** A POST to a path of the app (webhooks), as the gateway sends it. */
  post(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
  newCase(spec?: Partial<Omit<CaseSpec, 'now'>> & { agency?: 'north' | 'south'; collector?: Who }): Promise<{ id: string; gid: string; debtorId: string; debtorGid: string; contactPointId: string; contactPointGid: string; phone: string }>;
  close(): Promise<void>;
}

export const gid = (type: string, id: string) => encodeGlobalID(type, id);

/** The gateway's shared secret in these tests (ARREARS_SMS_WEBHOOK_SECRET). */
export const SMS_SECRET = 'gateway-shared-secret-0123456789';

export async function createCareWorld(options: { now?: string } = {}): Promise<CareWorld> {
  const t = await createTestApp({
    ...(options.now ? { now: options.now } : {}),
    // The gateway is configured (never reached here: no job dispatches): inbound replies are signed with its secret.
    env: { ARREARS_SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms', ARREARS_SMS_WEBHOOK_SECRET: SMS_SECRET, ARREARS_JOBS: 'off' },
  });
  const s = await createPeople(t.prisma);
  const tok = {} as Record<Who, string>;
  const sign = async () => {
    for (const [k, u] of Object.entries(s.users)) tok[k as Who] = await t.token(u);
  };
  await sign();
  let server: RunningServer | null = null;
  const clients = new Map<Who, ArrearsClient>();
  const world: CareWorld = {
    t,
    s,
    tok,
    sdk(who) {
      let c = clients.get(who);
      if (!c) {
        if (!server) throw new Error('the server is not listening yet');
        c = createArrearsClient({ url: `${server.url}/graphql`, getToken: async () => tok[who] });
        clients.set(who, c);
      }
      return c;
    },
    gql: (who, query, variables) => t.gql(who ? tok[who] : null, query, variables),
    async upload(who, query, input, file, fileName) {
      const form = new FormData();
      form.set('operations', JSON.stringify({ query, variables: { input: { ...input, file: null } } }));
      form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
      form.set('0', new Blob([new Uint8Array(file)]), fileName);
      const response = await t.runtime.app.fetch(new Request('http://arrears.test/graphql', { method: 'POST', headers: { authorization: `Bearer ${tok[who]}`, 'x-graphql-yoga-csrf': '1' }, body: form }));
      const body = (await response.json()) as { data: unknown; errors?: GqlResult['errors'] };
      return { status: response.status, data: body.data as never, ...(body.errors ? { errors: body.errors } : {}), headers: response.headers };
    },
    post: (path, body, headers = {}) => t.runtime.app.fetch(new Request(`http://arrears.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })),
    async setClock(at) {
      t.clock.set(at);
      await sign();
    },
    async newCase(spec = {}) {
      const { agency, collector, ...rest } = spec;
      const c = await createCase(t.prisma, t.pii, {
        now: t.clock.now(),
        daysPastDue: 40,
        principal: 1_000_000n,
        ...rest,
        agencyId: agency ? s[agency].id : (rest.agencyId ?? null),
        collectorId: collector ? s.users[collector].id : (rest.collectorId ?? (agency ? null : s.users.collector.id)),
      });
      const cp = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.debtorId } });
      return { id: c.id, gid: gid('Case', c.id), debtorId: c.debtorId, debtorGid: gid('Debtor', c.debtorId), contactPointId: cp.id, contactPointGid: gid('ContactPoint', cp.id), phone: cp.value };
    },
    async close() {
      await server?.close(1000);
      await t.close();
    },
  };
  server = await listen(t.runtime.app, '127.0.0.1', 0);
  return world;
}

/** Exactly one user error of this code (and field), and nothing returned. */
export function refusedWith(payload: { userErrors: { code: string; field?: string[] | null }[] }, code: string, field?: string[]) {
  if (payload.userErrors.length !== 1 || payload.userErrors[0]!.code !== code || (field && JSON.stringify(payload.userErrors[0]!.field) !== JSON.stringify(field))) {
    throw new Error(`expected ${code}${field ? ` on ${field.join('.')}` : ''}, got ${JSON.stringify(payload.userErrors)}`);
  }
}
