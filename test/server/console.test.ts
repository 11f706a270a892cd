// The console's static serving (src/server/console.ts) without a browser: cache headers, the
// SPA fallback, traversal, methods, the page shown when nothing is built, and the demo sign-in's
// conditions (never in production, only for this machine unless ARREARS_GRAPHIQL_DEMO). The
// whole console in a browser: console/e2e.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useConsole, type ConsoleOptions } from '../../src/server/console.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-console-'));
fs.mkdirSync(path.join(dir, 'assets'));
fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><!--arrears-demo-users--></head><body><div id="root"></div></body></html>');
fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
fs.writeFileSync(path.join(os.tmpdir(), 'arrears-console-secret.txt'), 'secret');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const demoUsers = [{ id: 'u1', email: 'agent@north.example', fullName: 'North Agent', role: 'AGENCY_COLLECTOR' }];
const fakePrisma = { user: { findMany: async () => demoUsers } } as unknown as NonNullable<ConsoleOptions['demo']>['prisma'];
const demo = { prisma: fakePrisma, clock: { now: () => new Date('2026-11-28T02:00:00Z') }, jwtSecret: 'x'.repeat(40), anyAddress: false, tokenTtlSeconds: 3600 } as NonNullable<ConsoleOptions['demo']>;

async function get(options: Partial<ConsoleOptions> & { address?: string }, pathname: string, method = 'GET'): Promise<Response | undefined> {
  const plugin = useConsole({ dir, production: false, clientAddress: () => options.address ?? '127.0.0.1', ...options });
  const request = new Request(`http://arrears.test${pathname}`, { method });
  let answer: Response | undefined;
  await (plugin.onRequest as (p: unknown) => Promise<void>)({
    request,
    url: new URL(request.url),
    endResponse: (r: Response) => (answer = r),
    fetchAPI: { Response },
    serverContext: {},
  });
  return answer;
}

describe('the console at /console/', () => {
  it('sends index.html no-cache with a strict CSP, and hashed assets immutable', async () => {
    const index = (await get({}, '/console/'))!;
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const asset = (await get({}, '/console/assets/index-abc123.js'))!;
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await asset.text()).toBe('console.log(1)');
  });

  it('answers any other path under it with the app (hash routes), and /console with a redirect', async () => {
    expect(await (await get({}, '/console/case/123'))!.text()).toContain('<div id="root"></div>');
    const r = (await get({}, '/console?x=1'))!;
    expect(r.status).toBe(308);
    expect(r.headers.get('location')).toBe('/console/?x=1');
    expect(await get({}, '/consoles')).toBeUndefined(); // not ours
    expect(await get({}, '/graphql')).toBeUndefined();
  });

  it('serves no file outside its folder, nor a missing asset, and only GET and HEAD', async () => {
    for (const p of ['/console/assets/..%2f..%2farrears-console-secret.txt', '/console/assets/..%2F..%2F..%2Farrears-console-secret.txt', '/console/assets/nope.js', '/console/assets/']) {
      const r = (await get({}, p))!;
      expect(r.status, p).toBe(404);
      expect(await r.text()).not.toContain('secret');
    }
    // Dot segments are resolved by the URL itself: the path leaves /console/ and is not ours.
    expect(await get({}, '/console/assets/%2e%2e/%2e%2e/arrears-console-secret.txt')).toBeUndefined();
    expect((await get({}, '/console/%E0%A4%A'))!.status).toBe(400);
    expect((await get({}, '/console/', 'POST'))!.status).toBe(405);
    const head = (await get({}, '/console/assets/index-abc123.js', 'HEAD'))!;
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('says how to build it when nothing is built (503, not cached)', async () => {
    const r = (await get({ dir: path.join(dir, 'missing') }, '/console/'))!;
    expect(r.status).toBe(503);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await r.text()).toContain('npm run build');
  });

  it('offers the demo sign-in only outside production, to this machine (or anyone with ARREARS_GRAPHIQL_DEMO)', async () => {
    const local = await (await get({ demo }, '/console/'))!.text();
    expect(local).toContain('<script type="application/json" id="arrears-demo-users">[{"email":"agent@north.example","fullName":"North Agent","role":"AGENCY_COLLECTOR"}]</script>');
    const signIn = (await get({ demo }, '/console/demo-sign-in?as=agent@north.example'))!;
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toMatch(/^\/console\/#demo-token=ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await get({ demo }, '/console/demo-sign-in?as=admin@bank.example'))!.status).toBe(404); // not a demo user here

    // From another machine: nothing, unless the shared-demo switch is on.
    expect(await (await get({ demo, address: '10.1.2.3' }, '/console/'))!.text()).not.toContain('arrears-demo-users"');
    expect((await get({ demo, address: '10.1.2.3' }, '/console/demo-sign-in?as=agent@north.example'))!.status).toBe(404);
    expect((await get({ demo: { ...demo, anyAddress: true }, address: '10.1.2.3' }, '/console/demo-sign-in?as=agent@north.example'))!.status).toBe(303);

    // In production: never, even from this machine and with a demo configured.
    expect(await (await get({ demo, production: true }, '/console/'))!.text()).not.toContain('arrears-demo-users"');
    expect((await get({ demo, production: true }, '/console/demo-sign-in?as=agent@north.example'))!.status).toBe(404);
  });
});
