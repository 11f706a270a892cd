// The SDK's features against a fake fetch: user errors (returned or thrown), uploads as
// multipart requests, persisted documents (hash-only), pagination, subscriptions over
// server-sent events (parsing, completion, reconnection, errors), and how a document's
// operation is recognised.
import fs from 'node:fs';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { parse } from 'graphql';
import {
  AuthenticationError,
  CasesDocument,
  GraphQLRequestError,
  NetworkError,
  UserErrorsError,
  ViewerDocument,
  connections,
  createArrearsClient,
  createGraphQLClient,
  operations,
  subscriptions,
  type ArrearsClientOptions,
  type CaseEventsSubscription,
  type CasesQuery,
  type FetchFunction,
  type FetchRequestInit,
  type FetchResponse,
  type HoldCaseMutation,
  type UserError,
  type UserErrorCode,
} from '../../sdk/src/index.ts';
import { scanDefinitions, sourceOf } from '../../sdk/src/document.ts';
import { extractFiles } from '../../sdk/src/upload.ts';
import { eventParser, utf8Decoder } from '../../sdk/src/sse.ts';

const ENDPOINT = 'https://arrears.example/graphql';
const manifest = JSON.parse(fs.readFileSync(new URL('../../sdk/src/generated/persisted-documents.json', import.meta.url), 'utf8')) as Record<string, string>;

type Respond = (init: FetchRequestInit, n: number) => FetchResponse | Promise<FetchResponse>;

function fake(respond: Respond, options: Partial<ArrearsClientOptions> = {}) {
  const calls: FetchRequestInit[] = [];
  const fetch = vi.fn<FetchFunction>(async (_url, init) => {
    calls.push(init);
    return respond(init, calls.length);
  });
  return { calls, client: createArrearsClient({ url: ENDPOINT, token: 'tok', fetch, retries: 0, ...options }) };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const bodyOf = (init: FetchRequestInit) => JSON.parse(init.body as string) as Record<string, unknown>;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('user errors', () => {
  const refused: HoldCaseMutation = {
    holdCase: {
      case: null,
      hold: null,
      userErrors: [{ code: 'STALE_VERSION', field: ['input', 'expectedVersion'], message: 'The case changed: read it again' }],
    },
  };
  const input = { input: { caseId: 'Q2FzZTox', reason: 'DISPUTE' as const, expectedVersion: 3 } };

  it('come back typed by code in the payload by default', async () => {
    const { client } = fake(() => json({ data: refused }));
    const { holdCase } = await client.holdCase(input);
    expectTypeOf(holdCase.userErrors[0]!.code).toEqualTypeOf<UserErrorCode>();
    expectTypeOf(holdCase.userErrors[0]!).toMatchTypeOf<UserError>();
    expect(holdCase.userErrors[0]!.code).toBe('STALE_VERSION');
  });

  it('are thrown as a UserErrorsError with throwOnUserErrors (client or request), and a request can turn it off', async () => {
    const strict = fake(() => json({ data: refused }), { throwOnUserErrors: true });
    const error = (await strict.client.holdCase(input).catch((e: unknown) => e)) as UserErrorsError;
    expect(error).toBeInstanceOf(UserErrorsError);
    expect(error).toMatchObject({ kind: 'USER_ERRORS', operationName: 'HoldCase', status: 200, userErrors: refused.holdCase.userErrors, data: refused });
    expect(error.has('STALE_VERSION')).toBe(true);
    expect(error.has('NOT_FOUND')).toBe(false);
    expect(error.message).toBe('STALE_VERSION: The case changed: read it again (HoldCase)');
    await expect(strict.client.holdCase(input, { throwOnUserErrors: false })).resolves.toEqual(refused);

    const lenient = fake(() => json({ data: refused }));
    await expect(lenient.client.holdCase(input, { throwOnUserErrors: true })).rejects.toBeInstanceOf(UserErrorsError);
  });

  it('an empty userErrors list throws nothing', async () => {
    const ok = { holdCase: { case: { id: 'Q2FzZTox', version: 4 }, hold: null, userErrors: [] } };
    const { client } = fake(() => json({ data: ok }), { throwOnUserErrors: true });
    await expect(client.request('mutation { holdCase(input: {}) { userErrors { code } } }')).resolves.toEqual(ok);
  });
});

describe('uploads', () => {
  const uploaded = { uploadEvidence: { evidence: null, case: null, userErrors: [] } };

  it('send a Node Buffer as a multipart request (operations, map, the file part)', async () => {
    const { client, calls } = fake(() => json({ data: uploaded }));
    const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
    const seen: boolean[] = [];
    const withHook = createArrearsClient({ url: ENDPOINT, fetch: async (url, init) => (calls.push(init), json({ data: uploaded })), onRequest: (r) => void seen.push(r.upload), retries: 0 });
    await withHook.uploadEvidence({ input: { caseId: 'Q2FzZTox', kind: 'NOTE', file: pdf } });
    await client.uploadEvidence({ input: { caseId: 'Q2FzZTox', kind: 'NOTE', file: pdf } });
    expect(seen).toEqual([true]);

    for (const init of calls) {
      expect(init.body).toBeInstanceOf(FormData);
      expect(init.headers).not.toHaveProperty('content-type'); // fetch sets multipart/form-data with its boundary
      const form = init.body as FormData;
      expect([...form.keys()]).toEqual(['operations', 'map', '0']);
      const operationsPart = JSON.parse(form.get('operations') as string);
      expect(operationsPart).toEqual({
        query: operations.uploadEvidence.toString(),
        operationName: 'UploadEvidence',
        variables: { input: { caseId: 'Q2FzZTox', kind: 'NOTE', file: null } },
      });
      expect(JSON.parse(form.get('map') as string)).toEqual({ 0: ['variables.input.file'] });
      const file = form.get('0') as File;
      expect(Buffer.from(await file.arrayBuffer())).toEqual(pdf);
    }
  });

  it('keep a File’s name, send one part for a file used twice, and never retry a mutation without a key', async () => {
    const { client, calls } = fake(() => json({ data: uploaded }), { retries: 3 });
    const file = new File(['%PDF-1.4'], '还款承诺书.pdf', { type: 'application/pdf' });
    await client.request('mutation Two($a: File!, $b: File!) { two(a: $a, b: $b) }', { a: file, b: file });
    const form = calls[0]!.body as FormData;
    expect(JSON.parse(form.get('map') as string)).toEqual({ 0: ['variables.a', 'variables.b'] });
    expect((form.get('0') as File).name).toBe('还款承诺书.pdf');
  });

  it('find files anywhere in the variables, Blobs, bytes and React Native file references', () => {
    const blob = new Blob(['x']);
    const rn = { uri: 'file:///photo.jpg', name: 'photo.jpg', type: 'image/jpeg' };
    const found = extractFiles({ input: { files: [blob, new Uint8Array([1, 2])], photo: rn, note: 'kept', when: new Date(0) } })!;
    expect(found.variables).toEqual({ input: { files: [null, null], photo: null, note: 'kept', when: new Date(0) } });
    expect(found.files.map((f) => f.paths)).toEqual([['variables.input.files.0'], ['variables.input.files.1'], ['variables.input.photo']]);
    expect(found.files[2]!.file).toBe(rn);
    expect(extractFiles({ input: { caseId: 'x', n: 1 } })).toBeNull();
    expect(extractFiles(undefined)).toBeNull();
  });
});

describe('persisted documents', () => {
  it('hash-only sends the hash of a generated document instead of its text', async () => {
    const { client, calls } = fake(() => json({ data: { cases: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 } } }), {
      persistedDocuments: 'hash-only',
    });
    await client.cases({ first: 5 });
    const body = bodyOf(calls[0]!);
    const hash = (CasesDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(body).toEqual({
      documentId: hash,
      operationName: 'Cases',
      variables: { first: 5 },
      extensions: { persistedQuery: { version: 1, sha256Hash: hash.slice('sha256:'.length) } },
    });
    expect(body).not.toHaveProperty('query');
  });

  it('the manifest holds every generated operation under its hash, as the same operation', () => {
    const all = { ...operations, ...subscriptions };
    for (const document of Object.values(all)) {
      const { hash, operationName } = sourceOf(document);
      expect(manifest[hash!], operationName).toBeDefined();
      const stored = parse(manifest[hash!]!);
      const names = stored.definitions.flatMap((d) => (d.kind === 'OperationDefinition' ? [d.name?.value] : []));
      expect(names).toEqual([operationName]);
    }
    expect(Object.keys(manifest)).toHaveLength(Object.keys(all).length);
  });

  it('off (the default) sends the text; documents without a hash are sent as text in hash-only mode too', async () => {
    const off = fake(() => json({ data: {} }));
    await off.client.viewer();
    expect(bodyOf(off.calls[0]!)).toEqual({ query: ViewerDocument.toString(), operationName: 'Viewer' });

    const hashOnly = fake(() => json({ data: {} }), { persistedDocuments: 'hash-only' });
    await hashOnly.client.request('{ viewer { role } }');
    expect(bodyOf(hashOnly.calls[0]!)).toEqual({ query: '{ viewer { role } }' });
    expect(() => createArrearsClient({ url: ENDPOINT, persistedDocuments: 'always' as never })).toThrow(TypeError);
  });
});

describe('pagination', () => {
  const page = (numbers: string[], endCursor: string | null, hasNextPage: boolean) => ({
    cases: { totalCount: 5, pageInfo: { hasNextPage, endCursor }, nodes: numbers.map((number) => ({ id: `id-${number}`, number })) },
  });

  it('follows endCursor until hasNextPage is false, keeping the other variables', async () => {
    const { client, calls } = fake((init) => {
      const after = (bodyOf(init)['variables'] as { after?: string }).after;
      return json({ data: after === undefined ? page(['C-1', 'C-2'], 'c2', true) : after === 'c2' ? page(['C-3', 'C-4'], 'c4', true) : page(['C-5'], 'c5', false) });
    });
    const seen: string[][] = [];
    for await (const p of client.paginate.cases({ first: 2, filter: { bucket: ['M2'] } })) {
      expectTypeOf(p).toEqualTypeOf<CasesQuery['cases']>();
      seen.push(p.nodes.map((c) => c.number));
    }
    expect(seen).toEqual([['C-1', 'C-2'], ['C-3', 'C-4'], ['C-5']]);
    expect(calls.map((c) => bodyOf(c)['variables'])).toEqual([
      { first: 2, filter: { bucket: ['M2'] } },
      { first: 2, filter: { bucket: ['M2'] }, after: 'c2' },
      { first: 2, filter: { bucket: ['M2'] }, after: 'c4' },
    ]);

    const numbers: string[] = [];
    for await (const c of client.paginate.cases({ first: 2 }).nodes()) numbers.push(c.number);
    expect(numbers).toEqual(['C-1', 'C-2', 'C-3', 'C-4', 'C-5']);
  });

  it('stops early when the caller breaks out, and refuses a cursor that repeats', async () => {
    const { client, calls } = fake(() => json({ data: page(['C-1'], 'same', true) }));
    for await (const _ of client.paginate.cases()) break;
    expect(calls).toHaveLength(1);
    const pages = async () => {
      for await (const _ of client.paginate.cases()) {
        /* the server sends `same` again */
      }
    };
    await expect(pages()).rejects.toThrow(/cursor same twice/);
  });

  it('has a paginator for each operation with a connection, and one for any document', async () => {
    expect(Object.keys(connections).sort()).toEqual([
      'agencies',
      'auditEvents',
      'caseCardStatements',
      'caseCardTransactions',
      'caseEvidence',
      'caseLetters',
      'caseTimeline',
      'cases',
      'commissionStatement',
      'commissionStatements',
      'dunningRuleVersions',
      'dunningRules',
      'exports',
      'messageTemplateVersions',
      'messageTemplates',
      'strategies',
      'workQueue',
      'writeOffs',
    ]);
    expect(connections.workQueue).toEqual(['viewer', 'workQueue']);

    const { client } = fake(() => json({ data: { viewer: { workQueue: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [{ id: 'a' }] } } } }));
    const found = [];
    for await (const p of client.paginate('query Q($after: String) { viewer { workQueue(after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }')) found.push(p);
    expect(found).toEqual([{ pageInfo: { hasNextPage: false, endCursor: null }, nodes: [{ id: 'a' }] }]);
    const byPath: unknown[] = [];
    const document = 'query Queue($after: String) { viewer { workQueue(after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }';
    for await (const n of client.paginate(document, {}, { path: ['viewer', 'workQueue'] }).nodes()) byPath.push(n);
    expect(byPath).toEqual([{ id: 'a' }]);
  });

  it('ends without a page when the connection is not there (a node that is not found)', async () => {
    const { client } = fake(() => json({ data: { node: null } }));
    const pages = [];
    for await (const p of client.paginate.caseTimeline({ id: 'missing' })) pages.push(p);
    expect(pages).toEqual([]);
  });
});

// ------------------------------------------------------------------ subscriptions

interface Stream {
  response: Response;
  send(text: string | Uint8Array): void;
  close(): void;
  fail(error: Error): void;
}

function stream(): Stream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    send: (text) => controller.enqueue(typeof text === 'string' ? encoder.encode(text) : text),
    close: () => controller.close(),
    fail: (error) => controller.error(error),
  };
}

const event = (type: string) => ({ caseEvents: { id: `e-${type}`, type, summary: type, actorLabel: 'system', occurredAt: '2026-11-28T02:00:00Z', data: {} } });
const next = (data: unknown) => `event: next\ndata: ${JSON.stringify({ data })}\n\n`;

describe('subscriptions', () => {
  it('POST the subscription asking for text/event-stream, yield each `next`, and end at `complete`', async () => {
    const s = stream();
    const { client, calls } = fake(() => s.response);
    const events = client.subscribe.caseEvents({ caseId: 'Q2FzZTox' });
    const first = events.next();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.headers).toMatchObject({ accept: 'text/event-stream', 'content-type': 'application/json', authorization: 'Bearer tok' });
    expect(bodyOf(calls[0]!)).toEqual({ query: subscriptions.caseEvents.toString(), operationName: 'CaseEvents', variables: { caseId: 'Q2FzZTox' } });

    s.send(':\n\n'); // a ping
    s.send(next(event('HOLD_PLACED')));
    const got = await first;
    expectTypeOf(got.value!).toEqualTypeOf<CaseEventsSubscription>();
    expect(got).toEqual({ done: false, value: event('HOLD_PLACED') });

    // An event split across chunks, inside a multi-byte character and a CRLF.
    const text = next({ caseEvents: { ...event('NOTE').caseEvents, summary: '王伟 promised' } }).replace(/\n/g, '\r\n');
    const bytes = new TextEncoder().encode(text);
    const cut = bytes.indexOf(0xe4) + 1;
    s.send(bytes.slice(0, cut));
    s.send(bytes.slice(cut, bytes.length - 1));
    s.send(bytes.slice(bytes.length - 1));
    expect((await events.next()).value).toMatchObject({ caseEvents: { summary: '王伟 promised' } });

    s.send('event: complete\ndata:\n\n');
    expect(await events.next()).toEqual({ done: true, value: undefined });
    expect(calls).toHaveLength(1);
  });

  it('reconnect with backoff after a dropped connection (stream ended or broken), not after complete', async () => {
    const streams = [stream(), stream(), stream()];
    const connected: number[] = [];
    const { client, calls } = fake((_init, n) => (n === 2 ? Promise.reject(new TypeError('fetch failed')) : streams[n === 1 ? 0 : 1]!.response));
    const events = client.subscribe.caseEvents({}, { reconnect: { baseDelayMs: 5, maxDelayMs: 20 }, onConnected: ({ attempt }) => void connected.push(attempt) });
    const received: string[] = [];
    const reading = (async () => {
      for await (const e of events) received.push(e.caseEvents.type);
    })();
    await vi.waitFor(() => expect(connected).toEqual([1]));
    streams[0]!.send(next(event('A')));
    await vi.waitFor(() => expect(received).toEqual(['A']));
    streams[0]!.close(); // dropped without `complete`
    await vi.waitFor(() => expect(connected).toEqual([1, 3])); // the 2nd attempt could not connect
    streams[1]!.send(next(event('B')));
    streams[1]!.send('event: complete\ndata:\n\n');
    await reading;
    expect(received).toEqual(['A', 'B']);
    expect(calls).toHaveLength(3);
  });

  it('throw GraphQL errors of an event and an authentication failure, without reconnecting', async () => {
    const s = stream();
    const { client, calls } = fake(() => s.response);
    const events = client.subscribe.caseEvents({ caseId: 'nope' });
    const first = events.next();
    s.send(`event: next\ndata: ${JSON.stringify({ errors: [{ message: 'No such case', extensions: { code: 'NOT_FOUND', requestId: 'req-1' } }] })}\n\n`);
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLRequestError);
    expect(error).toMatchObject({ requestId: 'req-1', operationName: 'CaseEvents' });
    expect(await events.next()).toEqual({ done: true, value: undefined });

    const denied = fake(() => json({ errors: [{ message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } }] }, 401));
    await expect(denied.client.subscribe.caseEvents().next()).rejects.toBeInstanceOf(AuthenticationError);
    expect(denied.calls).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });

  it('take a silent connection as dropped (idleTimeoutMs), and give up after maxAttempts', async () => {
    const { client, calls } = fake(() => stream().response); // never sends a byte
    const events = client.subscribe.caseEvents({}, { idleTimeoutMs: 20, reconnect: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const error = await events.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toMatch(/No data for 20 ms/);
    expect(calls).toHaveLength(3);

    const once = fake(() => Promise.reject(new TypeError('offline')));
    await expect(once.client.subscribe.caseEvents({}, { reconnect: false }).next()).rejects.toBeInstanceOf(NetworkError);
    expect(once.calls).toHaveLength(1);
  });

  it('close the connection on return(), and say so when fetch cannot stream', async () => {
    const s = stream();
    let signal: AbortSignal | undefined;
    const { client } = fake((init) => ((signal = init.signal), s.response));
    const events = client.subscribe.caseEvents();
    const pending = events.next();
    await vi.waitFor(() => expect(signal).toBeDefined());
    await events.return();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(signal!.aborted).toBe(true);

    const noStream = fake(() => ({ status: 200, headers: new Headers({ 'content-type': 'text/event-stream' }), text: async () => '', body: null }));
    await expect(noStream.client.subscribe.caseEvents().next()).rejects.toThrow(/does not stream response bodies/);
  });

  it('the generic subscribe() takes any subscription document', async () => {
    const s = stream();
    const core = createGraphQLClient({ url: ENDPOINT, fetch: async () => s.response });
    const events = core.subscribe('subscription { caseEvents { type } }');
    s.send(next({ caseEvents: { type: 'X' } }));
    s.send('event: complete\ndata:\n\n');
    const all = [];
    for await (const e of events) all.push(e);
    expect(all).toEqual([{ caseEvents: { type: 'X' } }]);
  });
});

describe('server-sent events', () => {
  it('parse fields, multi-line data, comments and every kind of line end', () => {
    const parse = eventParser();
    expect(parse(': ping\n\nevent: next\ndata: {"a":\ndata: 1}\n\n')).toEqual([{ event: 'next', data: '{"a":\n1}' }]);
    expect(parse('data:x\r')).toEqual([]);
    expect(parse('\n\r\n')).toEqual([{ event: 'message', data: 'x' }]);
    expect(parse('event: complete\rdata:\r\r')).toEqual([{ event: 'complete', data: '' }]);
  });

  it('decode UTF-8 split across chunks (and without TextDecoder)', () => {
    const bytes = new TextEncoder().encode('还款 ✓ 😀 ok');
    for (const useOwn of [false, true]) {
      if (useOwn) vi.stubGlobal('TextDecoder', undefined);
      const decode = utf8Decoder();
      let text = '';
      for (let i = 0; i < bytes.length; i++) text += decode(bytes.subarray(i, i + 1));
      expect(text).toBe('还款 ✓ 😀 ok');
      vi.unstubAllGlobals();
    }
  });
});

describe('documents', () => {
  it('know the type and name of the operation of every generated document', () => {
    for (const [method, document] of Object.entries(operations)) {
      const { operationType, operationName } = sourceOf(document);
      expect(operationName).toBe(method[0]!.toUpperCase() + method.slice(1));
      expect(operationType).toBe(document.toString().trimStart().startsWith('mutation') ? 'mutation' : 'query');
    }
    expect(sourceOf(subscriptions.caseEvents).operationType).toBe('subscription');
  });

  it('read the definitions of a text without a parser', () => {
    expect(scanDefinitions('{ viewer { role } }')).toEqual([{ kind: 'query' }]);
    expect(scanDefinitions('fragment F on Case { id }\n# query Fake {\nmutation M($x: [Int] = [1], $f: F = {a: "query Q {"}) @d(a: "}") { m }')).toEqual([
      { kind: 'fragment', name: 'F' },
      { kind: 'mutation', name: 'M' },
    ]);
    expect(scanDefinitions('query """block { "quoted" }"""')).toEqual([]);
    expect(sourceOf('subscription S { caseEvents { id } }')).toMatchObject({ operationType: 'subscription', operationName: 'S' });
    expect(sourceOf('query A { a } query B { b }').operationName).toBeUndefined();
  });
});
