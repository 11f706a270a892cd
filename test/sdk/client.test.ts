// The SDK client against a fake fetch: what it sends, what it returns, how each failure maps to
// its error class. No server here (the end-to-end test of the SDK is separate).
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { parse } from 'graphql';
import {
  ArrearsError,
  AuthenticationError,
  CasesDocument,
  ForbiddenError,
  GraphQLRequestError,
  HttpError,
  NetworkError,
  RateLimitedError,
  ViewerDocument,
  createArrearsClient,
  isArrearsError,
  operations,
  type ArrearsClientOptions,
  type CaseDetailQuery,
  type CasesQuery,
  type CasesQueryVariables,
  type DocumentNode,
  type FetchFunction,
  type FetchRequestInit,
  type ViewerQuery,
} from '../../sdk/src/index.ts';

const ENDPOINT = 'https://arrears.example/graphql';

/** A document's AST as JSON, block strings and plain strings alike (the same value to a server). */
const astOf = (text: string): string => JSON.stringify(parse(text, { noLocation: true }), (key, value: unknown) => (key === 'block' ? undefined : value));

interface Call {
  url: string;
  init: FetchRequestInit;
  body: { query: string; operationName?: string; variables?: Record<string, unknown> };
}

/** A fetch that records each call and answers with `respond`. */
function fakeFetch(respond: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = vi.fn<FetchFunction>(async (url, init) => {
    const call: Call = { url, init, body: typeof init.body === 'string' ? JSON.parse(init.body) : { query: '(multipart)' } };
    calls.push(call);
    return respond(call);
  });
  return { fetch, calls };
}

function graphqlResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/graphql-response+json; charset=utf-8', ...headers },
  });
}

function client(respond: (call: Call) => Response | Promise<Response>, options: Partial<ArrearsClientOptions> = {}) {
  const fake = fakeFetch(respond);
  // No retries here: each failure maps to its error at once (retries: test/sdk/retry.test.ts).
  return { ...fake, client: createArrearsClient({ url: ENDPOINT, token: 'tok-1', fetch: fake.fetch, retries: 0, ...options }) };
}

/** The rejection of `promise`, which must reject. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

const VIEWER: ViewerQuery = {
  viewer: {
    role: 'AGENCY_MANAGER',
    authMethod: 'JWT',
    user: { id: 'VXNlcjox', email: 'manager@north.example', fullName: 'Li Na', role: 'AGENCY_MANAGER', agency: { id: 'QWdlbmN5OjE=', name: 'North Recovery' } },
  },
};

const CASES: CasesQuery = {
  cases: {
    totalCount: 1,
    pageInfo: { hasNextPage: false, endCursor: 'Y3Vyc29yOjE=' },
    nodes: [
      {
        id: 'Q2FzZTox',
        number: 'C-000001',
        stage: 'EARLY_REMINDER',
        status: 'OPEN',
        priority: 'NORMAL',
        overdue: { minorUnits: 1234567, currency: 'CNY', formatted: '¥12,345.67' },
        dueDate: '2026-09-01',
        daysPastDue: 88,
        bucket: 'M3',
        version: 3,
        debtor: { id: 'RGVidG9yOjE=', fullName: '王伟', nationalIdMasked: '1101**********1234' },
        assignedAgency: { id: 'QWdlbmN5OjE=', name: 'North Recovery' },
        assignedCollector: null,
      },
    ],
  },
};

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('requests', () => {
  it('POSTs the generated document text as JSON with the bearer token and headers', async () => {
    const { client: c, calls } = client(() => graphqlResponse({ data: CASES }), { headers: { 'X-Client-Name': 'web', Authorization: 'ignored' } });
    await c.cases({ first: 10, filter: { bucket: ['M3'], search: '王伟' } }, { headers: { 'x-request-id': 'req-abc-123' } });

    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.url).toBe(ENDPOINT);
    expect(call!.init.method).toBe('POST');
    expect(call!.init.headers).toEqual({
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
      authorization: 'Bearer tok-1',
      'x-client-name': 'web',
      'x-request-id': 'req-abc-123',
    });
    expect(call!.body).toEqual({
      query: CasesDocument.toString(),
      operationName: 'Cases',
      variables: { first: 10, filter: { bucket: ['M3'], search: '王伟' } },
    });
    // The text is the operation with the fragments it spreads.
    expect(call!.body.query).toMatch(/query Cases\(/);
    expect(call!.body.query).toMatch(/fragment CaseSummary on Case/);
    expect(call!.body.query).toMatch(/fragment Money on Money/);
  });

  it('sends no variables and no Authorization when there are none', async () => {
    const { client: c, calls } = client(() => graphqlResponse({ data: VIEWER }), { token: undefined });
    await c.viewer();
    expect(calls[0]!.init.headers).not.toHaveProperty('authorization');
    expect(calls[0]!.body).toEqual({ query: ViewerDocument.toString(), operationName: 'Viewer' });
  });

  it('asks an async getToken before every request', async () => {
    const tokens = ['jwt-a', 'jwt-b'];
    const getToken = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return tokens.shift();
    });
    const { client: c, calls } = client(() => graphqlResponse({ data: VIEWER }), { token: undefined, getToken });
    await c.viewer();
    await c.viewer();
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(calls.map((x) => x.init.headers['authorization'])).toEqual(['Bearer jwt-a', 'Bearer jwt-b']);
  });

  it('accepts a synchronous getToken, and one that has no token', async () => {
    const { client: c, calls } = client(() => graphqlResponse({ data: VIEWER }), { token: undefined, getToken: () => null });
    await c.viewer();
    expect(calls[0]!.init.headers).not.toHaveProperty('authorization');
  });

  it('refuses token and getToken together, and a missing url', () => {
    expect(() => createArrearsClient({ url: ENDPOINT, token: 'a', getToken: () => 'b' })).toThrow(TypeError);
    expect(() => createArrearsClient({ url: '' })).toThrow(/url/);
  });

  it('uses the global fetch by default, looked up at each request', async () => {
    const { fetch, calls } = fakeFetch(() => graphqlResponse({ data: VIEWER }));
    const c = createArrearsClient({ url: ENDPOINT, token: 'tok-1' });
    vi.stubGlobal('fetch', fetch);
    await expect(c.viewer()).resolves.toEqual(VIEWER);
    expect(calls).toHaveLength(1);
  });

  it('has one method per operation of operations.ts, each sending its operation', async () => {
    const { client: c, calls } = client(() => graphqlResponse({ data: {} }));
    expect(Object.keys(operations)).toEqual(expect.arrayContaining(['agencies', 'caseByNumber', 'caseDetail', 'cases', 'node', 'viewer', 'uploadEvidence']));
    expect(Object.keys(operations)).not.toContain('caseEvents'); // a subscription: client.subscribe.caseEvents
    for (const [name, document] of Object.entries(operations)) {
      const method = (c as unknown as Record<string, (variables: unknown) => Promise<unknown>>)[name]!;
      await method({ id: 'Q2FzZTox', number: 'C-000001' });
      expect(calls.at(-1)!.body.query).toBe(document.toString());
      expect(calls.at(-1)!.body.operationName).toBe(name[0]!.toUpperCase() + name.slice(1));
    }
    expect(c.url).toBe(ENDPOINT);
  });
});

describe('typed results', () => {
  it('returns the data of each operation, typed by its document', async () => {
    const { client: c, calls } = client(({ body }) => {
      switch (body.operationName) {
        case 'Cases':
          return graphqlResponse({ data: CASES });
        case 'CaseByNumber':
          return graphqlResponse({ data: { caseByNumber: CASES.cases.nodes[0] } });
        case 'Agencies':
          return graphqlResponse({ data: { agencies: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } });
        case 'Node':
          return graphqlResponse({ data: { node: { __typename: 'Case', id: 'Q2FzZTox' } } });
        default:
          return graphqlResponse({ data: VIEWER });
      }
    });

    const cases = await c.cases({ first: 10 });
    expectTypeOf(cases).toEqualTypeOf<CasesQuery>();
    expect(cases).toEqual(CASES);
    expect(cases.cases.nodes[0]!.overdue.minorUnits).toBe(1234567);

    const viewer = await c.viewer();
    expectTypeOf(viewer.viewer.role).toEqualTypeOf<
      'AGENCY_COLLECTOR' | 'AGENCY_MANAGER' | 'AUDITOR' | 'BANK_ADMIN' | 'BANK_COLLECTOR' | 'BANK_SUPERVISOR'
    >();
    expect(viewer.viewer.user.agency?.name).toBe('North Recovery');

    const byNumber = await c.caseByNumber({ number: 'C-000001' });
    expect(byNumber.caseByNumber?.number).toBe('C-000001');
    expect(calls.at(-1)!.body.variables).toEqual({ number: 'C-000001' });

    const agencies = await c.agencies();
    expect(agencies.agencies.totalCount).toBe(0);

    const node = await c.node({ id: 'Q2FzZTox' });
    expect(node.node?.__typename).toBe('Case');

    // Variables are checked against the operation; required ones cannot be left out.
    expectTypeOf(c.cases).parameter(0).toEqualTypeOf<CasesQueryVariables | undefined>();
    const typeErrors = () => {
      // @ts-expect-error number is required
      void c.caseByNumber();
      // @ts-expect-error id is required
      void c.caseDetail({});
      // @ts-expect-error not a variable of Cases
      void c.cases({ frist: 10 });
      // @ts-expect-error not a Bucket
      void c.cases({ filter: { bucket: ['M9'] } });
    };
    expect(typeErrors).toBeTypeOf('function');
  });

  it('narrows a node by __typename', async () => {
    const { client: c } = client(() =>
      graphqlResponse({ data: { node: { __typename: 'Agency', id: 'QWdlbmN5OjE=' } } }),
    );
    const detail: CaseDetailQuery = await c.caseDetail({ id: 'QWdlbmN5OjE=' });
    const node = detail.node;
    if (node?.__typename === 'Case') {
      expectTypeOf(node.debtor.contactPoints[0]!.value).toEqualTypeOf<string>();
      expectTypeOf(node.timeline.nodes[0]!.data).toEqualTypeOf<unknown>();
    }
    expect(node?.__typename).toBe('Agency');
  });

  it('sends any document through request(), string or parsed node', async () => {
    const { client: c, calls } = client(() => graphqlResponse({ data: CASES }));
    await c.request(CasesDocument, { first: 5 });
    expect(calls[0]!.body.query).toBe(CasesDocument.toString());

    // A TypedDocumentNode (graphql-js AST, no source text needed): printed by the client.
    const node = parse(CasesDocument.toString(), { noLocation: true }) as unknown as DocumentNode<CasesQuery, CasesQueryVariables>;
    const result = await c.request(node, { first: 5 });
    expectTypeOf(result).toEqualTypeOf<CasesQuery>();
    expect(calls[1]!.body.operationName).toBe('Cases');
    expect(astOf(calls[1]!.body.query)).toBe(astOf(CasesDocument.toString()));

    // A plain string: untyped.
    const untyped = await c.request('{ viewer { role } }');
    expectTypeOf(untyped).toEqualTypeOf<unknown>();
    expect(calls[2]!.body).toEqual({ query: '{ viewer { role } }' });
  });

  it('prints every generated document and every kind of syntax faithfully', async () => {
    const { client: c, calls } = client(() => graphqlResponse({ data: {} }));
    const tricky = `
      mutation Tricky($a: [ID!]! = ["x", "y"], $b: CaseFilter = {search: "line\\nbreak \\"quoted\\" \\u00e9", minDaysPastDue: -3}, $c: Float = 1.5e3, $d: Boolean = false) @dir(x: null) {
        first: doThing(input: {ids: $a, filter: $b, ratio: $c, on: $d, kind: ENUM_VALUE, list: [], obj: {}}) @include(if: true) {
          ... on Thing { id }
          ... @skip(if: $d) { name }
          ...ThingFields @defer
        }
      }
      fragment ThingFields on Thing @frag { description: text(format: """block "string" here""") }
    `;
    for (const text of [...Object.values(operations).map(String), tricky]) {
      await c.request(parse(text, { noLocation: true }) as unknown as DocumentNode<unknown, unknown>);
      expect(astOf(calls.at(-1)!.body.query)).toBe(astOf(text));
    }
  });
});

describe('errors', () => {
  it('maps HTTP 401 to AuthenticationError', async () => {
    const { client: c } = client(() =>
      graphqlResponse(
        { errors: [{ message: 'Authentication required: send Authorization: Bearer <token>.', extensions: { code: 'UNAUTHENTICATED' } }] },
        401,
        { 'x-request-id': 'req-401-0001' },
      ),
    );
    const error = await rejectionOf(c.viewer());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toBeInstanceOf(ArrearsError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      kind: 'UNAUTHENTICATED',
      name: 'AuthenticationError',
      status: 401,
      requestId: 'req-401-0001',
      operationName: 'Viewer',
      message: 'Authentication required: send Authorization: Bearer <token>.',
    });
  });

  it('maps a bare 401 (no GraphQL body) and the UNAUTHENTICATED code on 200 to AuthenticationError', async () => {
    const bare = client(() => new Response('Unauthorized', { status: 401 }));
    expect(await rejectionOf(bare.client.viewer())).toBeInstanceOf(AuthenticationError);
    const coded = client(() => graphqlResponse({ data: null, errors: [{ message: 'Token expired', extensions: { code: 'UNAUTHENTICATED' } }] }));
    expect(await rejectionOf(coded.client.viewer())).toMatchObject({ kind: 'UNAUTHENTICATED', status: 200, message: 'Token expired' });
  });

  it('maps the FORBIDDEN extension to ForbiddenError, with the errors and request id', async () => {
    const errors = [{ message: 'Not allowed for this viewer.', path: ['agencies'], locations: [{ line: 2, column: 3 }], extensions: { code: 'FORBIDDEN', requestId: 'req-forbidden-1' } }];
    const { client: c } = client(() => graphqlResponse({ data: null, errors }, 200, { 'x-request-id': 'req-forbidden-1' }));
    const error = await rejectionOf(c.agencies());
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ kind: 'FORBIDDEN', status: 200, requestId: 'req-forbidden-1', errors, message: 'Not allowed for this viewer.' });
  });

  it('maps a bare HTTP 403 to ForbiddenError', async () => {
    const { client: c } = client(() => new Response('<h1>Forbidden</h1>', { status: 403, headers: { 'content-type': 'text/html' } }));
    expect(await rejectionOf(c.viewer())).toMatchObject({ kind: 'FORBIDDEN', status: 403 });
  });

  it('maps 429 to RateLimitedError with Retry-After in seconds', async () => {
    const { client: c } = client(() => new Response('Too Many Requests', { status: 429, headers: { 'retry-after': '30', 'x-request-id': 'req-429-0001' } }));
    const error = await rejectionOf(c.cases({ first: 10 }));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ kind: 'RATE_LIMITED', status: 429, retryAfterMs: 30_000, requestId: 'req-429-0001' });
  });

  it('maps 429 to RateLimitedError with Retry-After as an HTTP date', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-28T10:00:00.000Z') });
    const { client: c } = client(() =>
      graphqlResponse({ errors: [{ message: 'Slow down' }] }, 429, { 'retry-after': 'Sat, 28 Nov 2026 10:01:30 GMT' }),
    );
    const error = await rejectionOf(c.viewer());
    expect(error).toMatchObject({ kind: 'RATE_LIMITED', retryAfterMs: 90_000, errors: [{ message: 'Slow down' }] });
  });

  it.each([
    ['absent', undefined, null],
    ['a date in the past', 'Sat, 28 Nov 2026 09:00:00 GMT', 0],
    ['unreadable', 'soon', null],
  ])('gives retryAfterMs for a Retry-After %s', async (_what, header, expected) => {
    vi.useFakeTimers({ now: new Date('2026-11-28T10:00:00.000Z') });
    const { client: c } = client(() => new Response('', { status: 429, headers: header === undefined ? {} : { 'retry-after': header } }));
    expect(await rejectionOf(c.viewer())).toMatchObject({ kind: 'RATE_LIMITED', retryAfterMs: expected });
  });

  it('maps a fetch that throws to NetworkError, keeping the cause', async () => {
    const cause = new TypeError('fetch failed');
    const { client: c } = client(() => Promise.reject(cause));
    const error = await rejectionOf(c.viewer());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ kind: 'NETWORK', status: null, requestId: null, operationName: 'Viewer' });
    expect((error as NetworkError).cause).toBe(cause);
    expect((error as NetworkError).message).toContain('fetch failed');
  });

  it('maps a body that breaks off to NetworkError', async () => {
    const { client: c } = client(() => ({ status: 200, headers: new Headers(), text: () => Promise.reject(new TypeError('terminated')) }) as unknown as Response);
    expect(await rejectionOf(c.viewer())).toMatchObject({ kind: 'NETWORK', status: 200 });
  });

  it('rejects with the abort reason, not a NetworkError, when the caller cancels', async () => {
    const controller = new AbortController();
    const { client: c } = client(
      ({ init }) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal!.reason));
        }),
    );
    const pending = rejectionOf(c.viewer(undefined, { signal: controller.signal }));
    controller.abort();
    const error = await pending;
    expect(error).toBe(controller.signal.reason);
    expect(isArrearsError(error)).toBe(false);
  });

  it('maps other GraphQL errors to GraphQLRequestError with the request id from the extensions', async () => {
    const errors = [{ message: 'Unexpected error.', path: ['cases'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-from-extensions' } }];
    const { client: c } = client(() => graphqlResponse({ data: null, errors }, 200, { 'x-request-id': 'req-from-header' }));
    const error = await rejectionOf(c.cases());
    expect(error).toBeInstanceOf(GraphQLRequestError);
    expect(error).toMatchObject({ kind: 'GRAPHQL', status: 200, errors, requestId: 'req-from-extensions', partialData: null, message: 'Unexpected error.' });
  });

  it('takes the request id from the x-request-id header when the errors carry none, and keeps partial data', async () => {
    const errors = [
      { message: 'Variable "$first" got invalid value "x"; Int cannot represent non-integer value: "x"', extensions: { code: 'BAD_USER_INPUT' } },
      { message: 'second' },
    ];
    const { client: c } = client(() => graphqlResponse({ data: { cases: null }, errors }, 400, { 'x-request-id': 'req-from-header' }));
    const error = await rejectionOf(c.cases());
    expect(error).toMatchObject({ kind: 'GRAPHQL', status: 400, requestId: 'req-from-header', partialData: { cases: null } });
    expect((error as GraphQLRequestError).errors).toHaveLength(2);
    expect((error as GraphQLRequestError).message).toContain('; second');
  });

  it('maps a response that is not GraphQL to HttpError', async () => {
    const { client: c } = client(() => new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }));
    const error = await rejectionOf(c.viewer());
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ kind: 'HTTP', status: 502 });
    expect((error as HttpError).message).toContain('text/html');
  });

  it('lets a caller switch on kind', async () => {
    const { client: c } = client(() => new Response('', { status: 429, headers: { 'retry-after': '2' } }));
    const error = await rejectionOf(c.viewer());
    if (!isArrearsError(error)) throw error;
    let waitMs = -1;
    switch (error.kind) {
      case 'RATE_LIMITED':
        expectTypeOf(error).toEqualTypeOf<RateLimitedError>();
        waitMs = error.retryAfterMs ?? 1000;
        break;
      case 'UNAUTHENTICATED':
      case 'FORBIDDEN':
      case 'NETWORK':
      case 'GRAPHQL':
      case 'HTTP':
        break;
    }
    expect(waitMs).toBe(2000);
  });
});
