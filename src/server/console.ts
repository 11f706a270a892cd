/**
 * The Arrears Console (console/, built to console/dist by `npm run build`) at /console/, same
 * origin as the API:
 * - /console/assets/*: the build's hashed files, cached for a year (`immutable`);
 * - /console/ (and any other path under it): index.html, `no-cache` (always revalidated, so a
 *   new build is picked up at once);
 * - outside production, for callers on this machine (or ARREARS_GRAPHIQL_DEMO): the demo users
 *   are written into index.html, and /console/demo-sign-in?as=<e-mail> signs a one-hour token for
 *   one of them and redirects to /console/#demo-token=… (a fragment: never sent to a server or
 *   logged). In production neither exists.
 * Without a build (a fresh clone that never ran `npm run build`/`npm start`), /console/ answers
 * 503 with a page that says how to build it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Clock } from '../lib/time.ts';
import { signToken } from '../auth/tokens.ts';
import { isLoopback } from './graphiql.ts';

export const CONSOLE_PATH = '/console';

export interface ConsoleOptions {
  /** The built console (console/dist). */
  dir: string;
  production: boolean;
  /** Outside production: the demo sign-in (as GraphiQL's, src/server/graphiql.ts). */
  demo?: { prisma: PrismaClient; clock: Clock; jwtSecret: string; anyAddress: boolean; tokenTtlSeconds: number };
  clientAddress: (request: Request, serverContext: Record<string, unknown>) => string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

// Spread into every response's headers, never passed as is: the Fetch implementation may keep the
// object it is given and write content-type and content-length into it.
const SECURITY: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Arrears Console: not built</title></head>
<body style="font:16px system-ui,sans-serif;max-width:40em;margin:3em auto"><h1>The console is not built yet</h1>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds what is missing), then reload this page.</p></body></html>`;

const escapeJsonForHtml = (s: string) => s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

export function useConsole(o: ConsoleOptions): Plugin {
  const root = path.resolve(o.dir);
  let demoEmails: Promise<readonly string[]> | undefined;
  const demoFor = (address: string) => (!o.production && o.demo && (o.demo.anyAddress || isLoopback(address)) ? o.demo : undefined);

  async function demoUsers(demo: NonNullable<ConsoleOptions['demo']>) {
    demoEmails ??= import('../seed/demo.ts').then((m) => m.DEMO_USER_EMAILS);
    return demo.prisma.user.findMany({
      where: { email: { in: [...(await demoEmails)] }, active: true },
      select: { id: true, email: true, fullName: true, role: true },
      orderBy: { email: 'asc' },
    });
  }

  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      const p = url.pathname;
      if (p !== CONSOLE_PATH && !p.startsWith(`${CONSOLE_PATH}/`)) return;
      const R = fetchAPI.Response;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return endResponse(new R('Method not allowed', { status: 405, headers: { allow: 'GET, HEAD', ...SECURITY } }));
      }
      if (p === CONSOLE_PATH) return endResponse(new R(null, { status: 308, headers: { location: `${CONSOLE_PATH}/${url.search}` } }));
      const address = o.clientAddress(request, (serverContext ?? {}) as Record<string, unknown>);
      let rest: string;
      try {
        rest = decodeURIComponent(p.slice(CONSOLE_PATH.length + 1));
      } catch {
        return endResponse(new R('Bad path', { status: 400, headers: { ...SECURITY } }));
      }

      if (rest === 'demo-sign-in') {
        const demo = demoFor(address);
        if (!demo) return endResponse(new R('Not found', { status: 404, headers: { ...SECURITY } }));
        const email = url.searchParams.get('as')?.toLowerCase() ?? '';
        const user = (await demoUsers(demo)).find((u) => u.email === email);
        if (!user) return endResponse(new R('No such demo user', { status: 404, headers: { ...SECURITY } }));
        const token = await signToken(demo.jwtSecret, user, { now: demo.clock.now(), expiresInSeconds: demo.tokenTtlSeconds });
        return endResponse(new R(null, { status: 303, headers: { location: `${CONSOLE_PATH}/#demo-token=${token}`, 'cache-control': 'no-store', ...SECURITY } }));
      }

      // A file of the build: only under assets/, only inside the folder.
      if (rest.startsWith('assets/')) {
        const file = path.resolve(root, rest);
        if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
          return endResponse(new R('Not found', { status: 404, headers: { 'cache-control': 'no-store', ...SECURITY } }));
        }
        const body = request.method === 'HEAD' ? null : await fs.promises.readFile(file);
        return endResponse(
          new R(body, {
            status: 200,
            headers: { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'public, max-age=31536000, immutable', ...SECURITY },
          }),
        );
      }

      // Anything else is the app (hash routes): index.html, revalidated every time.
      const index = path.join(root, 'index.html');
      const htmlHeaders = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CSP, 'x-frame-options': 'DENY', ...SECURITY };
      if (!fs.existsSync(index)) return endResponse(new R(NOT_BUILT, { status: 503, headers: { ...htmlHeaders, 'cache-control': 'no-store' } }));
      let html = await fs.promises.readFile(index, 'utf8');
      const demo = demoFor(address);
      if (demo) {
        const users = (await demoUsers(demo)).map((u) => ({ email: u.email, fullName: u.fullName, role: u.role }));
        html = html.replace('<!--arrears-demo-users-->', `<script type="application/json" id="arrears-demo-users">${escapeJsonForHtml(JSON.stringify(users))}</script>`);
      }
      return endResponse(new R(request.method === 'HEAD' ? null : html, { status: 200, headers: htmlHeaders }));
    },
  };
}
