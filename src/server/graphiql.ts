/**
 * GraphiQL for newcomers, outside production only (README, "A first query"):
 * - a first tab with a useful query;
 * - a sign-in box that picks a demo user (`npm run seed:demo`) and fills the Authorization header
 *   with a token for them (one hour);
 * - the docs pane without a token: an introspection-only document may be sent without
 *   credentials (src/server/guard.ts).
 * The sign-in box and the anonymous introspection answer only callers on this machine
 * (a loopback address), or anyone when ARREARS_GRAPHIQL_DEMO is on (a shared demo server). In
 * production none of this exists: no GraphiQL, no anonymous introspection.
 */
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Clock } from '../lib/time.ts';
import { signToken } from '../auth/tokens.ts';

export const FIRST_QUERY = `# Welcome to Arrears.
# 1. "Sign in as" (bottom right): pick a demo user;
#    it fills the Authorization header (Headers).
# 2. Run this query (▶). Docs: the book, top left.
# An agency's user sees its own cases only.
query FirstLook {
  viewer { user { fullName role agency { name } } }
  cases(first: 5, filter: { bucket: [M2, M3] }, orderBy: { field: OVERDUE_AMOUNT, direction: DESC }) {
    totalCount
    nodes {
      number stage status daysPastDue bucket
      overdue { formatted }
      debtor { fullName nationalIdMasked }
      assignedAgency { name }
    }
  }
}
`;

/** The socket's peer is this machine (an in-process call has no address and is not). */
export function isLoopback(address: string): boolean {
  return /^(127(\.\d{1,3}){3}|::1|::ffff:127(\.\d{1,3}){3})$/.test(address);
}

interface DemoUser {
  id: string;
  email: string;
  fullName: string;
  role: string;
}

interface SignInBox {
  users: DemoUser[];
  current: DemoUser | undefined;
}

/** Yoga's GraphiQL also reads `query` (the `?query=` of the page's URL wins over it). */
type PageOptions = GraphiQLOptions & { query?: string; arrearsSignIn?: SignInBox };

export interface NewcomerGraphiQLOptions {
  prisma: PrismaClient;
  clock: Clock;
  jwtSecret: string;
  /** ARREARS_GRAPHIQL_DEMO: the helpers answer any address, not only this machine. */
  demo: boolean;
  /** Lifetime of a sign-in token (at most ARREARS_JWT_MAX_TTL). */
  tokenTtlSeconds: number;
}

export interface NewcomerGraphiQL {
  /** May this caller use the sign-in box and introspect without a token? */
  helpsAddress(address: string): boolean;
  /** GraphiQL's options for one page load (`?as=<demo e-mail>` signs in). */
  options(request: Request, address: string): Promise<PageOptions>;
  /** The page: Yoga's GraphiQL, with the sign-in box when it applies. */
  render(options: PageOptions): string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function newcomerGraphiQL(o: NewcomerGraphiQLOptions): NewcomerGraphiQL {
  const helpsAddress = (address: string) => o.demo || isLoopback(address);
  let demoEmails: Promise<readonly string[]> | undefined;

  return {
    helpsAddress,

    async options(request, address) {
      const base: PageOptions = {
        title: 'Arrears',
        defaultQuery: FIRST_QUERY,
        defaultTabs: [{ query: FIRST_QUERY }],
      };
      if (!helpsAddress(address)) {
        return { ...base, headers: '{"Authorization": "Bearer <paste a token: npm run token -- admin@bank.example>"}' };
      }
      // Only the demo data set's users: never a real account, even on a shared demo server.
      demoEmails ??= import('../seed/demo.ts').then((m) => m.DEMO_USER_EMAILS);
      const users = await o.prisma.user.findMany({
        where: { email: { in: [...(await demoEmails)] }, active: true },
        select: { id: true, email: true, fullName: true, role: true },
        orderBy: { email: 'asc' },
      });
      const as = new URL(request.url).searchParams.get('as')?.toLowerCase();
      const current = users.find((u) => u.email === as);
      const headers = current
        ? JSON.stringify({ Authorization: `Bearer ${await signToken(o.jwtSecret, current, { now: o.clock.now(), expiresInSeconds: o.tokenTtlSeconds })}` }, null, 2)
        : '{}';
      // GraphiQL opens (or finds) a tab with this query and these headers: signing in keeps the
      // editor's query (the box carries the page's `?query=`, which GraphiQL keeps up to date).
      return {
        ...base,
        ...(current ? { query: FIRST_QUERY } : {}),
        headers,
        defaultEditorToolsVisibility: 'headers',
        arrearsSignIn: { users, current },
      };
    },

    render(options) {
      const { arrearsSignIn, ...graphiql } = options;
      const html = renderGraphiQL(graphiql);
      return arrearsSignIn ? html.replace('<div id="root"></div>', `${signInBox(arrearsSignIn)}<div id="root"></div>`) : html;
    },
  };
}

function signInBox({ users, current }: SignInBox): string {
  const style =
    'position:fixed;right:16px;bottom:16px;z-index:1000;background:#fff;color:#222;border:1px solid #bbb;border-radius:6px;' +
    'padding:8px 12px;font:13px system-ui,sans-serif;box-shadow:0 2px 8px rgba(0,0,0,.25)';
  if (!users.length) {
    return `<div id="arrears-sign-in" style="${style}">No demo users here: run <code>npm run seed:demo</code> (server stopped), then reload.</div>`;
  }
  const options = users
    .map((u) => `<option value="${escapeHtml(u.email)}"${u.email === current?.email ? ' selected' : ''}>${escapeHtml(`${u.email} (${u.role})`)}</option>`)
    .join('');
  // The page's URL keeps its other parameters (GraphiQL's `query`): only `as` changes. (window.URL:
  // in an inline handler a bare URL is document.URL.)
  const onChange = "var u=new window.URL(location.href);if(this.value)u.searchParams.set('as',this.value);else u.searchParams.delete('as');location.assign(u)";
  return (
    `<div id="arrears-sign-in" style="${style}">` +
    `<label>Sign in as <select name="as" onchange="${onChange}"><option value="">nobody (docs only)</option>${options}</select></label>` +
    (current ? ` <span title="a token valid for one hour">✓ ${escapeHtml(current.fullName)}</span>` : '') +
    `</div>`
  );
}
