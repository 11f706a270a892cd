// The shell: session (token → SDK client → viewer), language, hash routes, navigation by role,
// and the error box every page uses (user errors by code; throttling and outages with a retry).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { createArrearsClient, isArrearsError, type ArrearsClient, type UserError, type ViewerQuery } from '@arrears/sdk';
import { LANGS, translate, userErrorMessage, initialLang, type Lang, type MessageKey } from './i18n.ts';

export type Viewer = ViewerQuery['viewer'];
export type Role = Viewer['role'];

interface Session {
  client: ArrearsClient;
  viewer: Viewer;
  signOut(): void;
}

interface Ui {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
}

const UiContext = createContext<Ui | null>(null);
const SessionContext = createContext<Session | null>(null);

export function useUi(): Ui {
  const ui = useContext(UiContext);
  if (!ui) throw new Error('useUi outside <App>');
  return ui;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

const TOKEN_KEY = 'arrears.token';

export function clientFor(token: string): ArrearsClient {
  return createArrearsClient({ url: new URL('graphql', new URL('/', location.href)).href, token, headers: { 'x-client-name': 'arrears-console' } });
}

// ------------------------------------------------------------------ routes

export type Route =
  | { page: 'queue' }
  | { page: 'cases' }
  | { page: 'case'; id: string }
  | { page: 'visit'; caseId: string; id: string }
  | { page: 'dashboard' }
  | { page: 'audit' }
  | { page: 'admin' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case 'case':
      if (parts[2] === 'visit' && parts[1] && parts[3]) return { page: 'visit', caseId: parts[1], id: parts[3] };
      if (parts[1]) return { page: 'case', id: parts[1] };
      return { page: 'queue' };
    case 'cases':
      return { page: 'cases' };
    case 'dashboard':
      return { page: 'dashboard' };
    case 'audit':
      return { page: 'audit' };
    case 'admin':
      return { page: 'admin' };
    default:
      return { page: 'queue' };
  }
}

export const href = {
  queue: '#/queue',
  cases: '#/cases',
  case: (id: string) => `#/case/${encodeURIComponent(id)}`,
  visit: (caseId: string, id: string) => `#/case/${encodeURIComponent(caseId)}/visit/${encodeURIComponent(id)}`,
  dashboard: '#/dashboard',
  audit: '#/audit',
  admin: '#/admin',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** The pages each role works with (the API enforces the rest). */
export function pagesOf(role: Role): Route['page'][] {
  switch (role) {
    case 'AGENCY_COLLECTOR':
    case 'BANK_COLLECTOR':
      return ['queue'];
    case 'AGENCY_MANAGER':
      return ['queue', 'cases', 'dashboard', 'admin'];
    case 'BANK_SUPERVISOR':
      return ['cases', 'dashboard'];
    case 'BANK_ADMIN':
      return ['cases', 'dashboard', 'audit', 'admin'];
    case 'AUDITOR':
      return ['audit', 'cases'];
    default:
      return ['cases'];
  }
}

// ------------------------------------------------------------------ errors

/** An error or a payload's user errors, as a person understands them; a retry where one helps. */
export function ErrorBox({ error, userErrors, onRetry }: { error?: unknown; userErrors?: readonly UserError[] | null; onRetry?: () => void }) {
  const { t, lang } = useUi();
  const lines: string[] = [];
  let retryable = false;
  if (userErrors?.length) {
    for (const e of userErrors) lines.push(userErrorMessage(lang, e.code, e.message) + (e.field?.length ? ` — ${t('field', { field: e.field.join('.') })}` : ''));
  } else if (error) {
    if (isArrearsError(error)) {
      const code = error.errors[0]?.extensions?.['code'];
      switch (error.kind) {
        case 'UNAUTHENTICATED':
          lines.push(t('errUnauthenticated'));
          break;
        case 'FORBIDDEN':
          lines.push(t('errForbidden'));
          break;
        case 'RATE_LIMITED':
          retryable = true;
          lines.push(error.retryAfterMs ? t('errRateLimitedIn', { s: Math.ceil(error.retryAfterMs / 1000) }) : t('errRateLimited'));
          break;
        case 'NETWORK':
          retryable = true;
          lines.push(t('errNetwork'));
          break;
        case 'TIMEOUT':
          retryable = true;
          lines.push(t('errTimeout'));
          break;
        case 'USER_ERRORS':
          for (const e of error.userErrors) lines.push(userErrorMessage(lang, e.code, e.message));
          break;
        default:
          retryable = error.kind === 'HTTP' || code === 'UNAVAILABLE' || code === 'RETRY' || code === 'INTERNAL_SERVER_ERROR';
          lines.push(retryable ? t('errUnavailable') : t('errOther', { message: error.message }));
      }
      if (error.requestId) lines.push(t('errRequestId', { id: error.requestId }));
    } else {
      lines.push(t('errOther', { message: error instanceof Error ? error.message : String(error) }));
    }
  }
  if (!lines.length) return null;
  return (
    <div role="alert" className="error" data-testid="error">
      {lines.map((l, i) => (
        <p key={i}>{l}</p>
      ))}
      {retryable && onRetry ? (
        <button type="button" onClick={onRetry}>
          {t('retry')}
        </button>
      ) : null}
    </div>
  );
}

// ------------------------------------------------------------------ data hook

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs a query with the session's client; again on reload() or when `deps` change. */
export function useQuery<T>(run: (client: ArrearsClient, signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const { client } = useSession();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    run(client, controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !controller.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, tick, ...deps]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

export function Loading() {
  const { t } = useUi();
  return (
    <p className="muted" role="status">
      {t('loading')}
    </p>
  );
}

// ------------------------------------------------------------------ the app

function readDemoToken(): string | null {
  // /console/demo-sign-in answers with a redirect to #demo-token=…: kept for the tab, then the
  // fragment is cleared from the address bar and the history.
  const m = /^#demo-token=([\w.-]+)$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  return m[1]!;
}

export function App({ pages }: { pages: (route: Route) => ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem('arrears.lang', l);
    setLangState(l);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const ui = useMemo<Ui>(() => ({ lang, setLang, t: (key, vars) => translate(lang, key, vars) }), [lang, setLang]);

  const [token, setToken] = useState<string | null>(() => {
    const demo = readDemoToken();
    if (demo) sessionStorage.setItem(TOKEN_KEY, demo);
    return demo ?? sessionStorage.getItem(TOKEN_KEY);
  });
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    setSession(null);
    setToken(null);
  }, []);

  useEffect(() => {
    if (!token) return;
    const client = clientFor(token);
    let live = true;
    setError(null);
    client.viewer().then(
      ({ viewer }) => {
        if (!live) return;
        sessionStorage.setItem(TOKEN_KEY, token);
        setSession({ client, viewer, signOut });
      },
      (e: unknown) => {
        if (!live) return;
        setError(e);
        if (isArrearsError(e) && e.kind === 'UNAUTHENTICATED') {
          sessionStorage.removeItem(TOKEN_KEY);
          setToken(null);
        }
      },
    );
    return () => {
      live = false;
    };
  }, [token, attempt, signOut]);

  const route = useRoute();
  return (
    <UiContext.Provider value={ui}>
      <a className="skip" href="#main">
        {ui.t('appName')}
      </a>
      <header className="top">
        <strong className="brand">{ui.t('appName')}</strong>
        {session ? <Nav viewer={session.viewer} route={route} /> : null}
        <div className="top-right">
          <label>
            <span className="sr-only">{ui.t('language')}</span>
            <select aria-label={ui.t('language')} value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="lang">
              {LANGS.map((l) => (
                <option key={l} value={l}>
                  {l === 'en' ? 'English' : '简体中文'}
                </option>
              ))}
            </select>
          </label>
          {session ? (
            <>
              <span className="who" data-testid="viewer">
                {ui.t('signedInAs', { name: session.viewer.user.fullName, role: session.viewer.role })}
              </span>
              <button type="button" onClick={signOut}>
                {ui.t('signOut')}
              </button>
            </>
          ) : null}
        </div>
      </header>
      <main id="main">
        {session ? (
          <SessionContext.Provider value={session}>{pages(route)}</SessionContext.Provider>
        ) : token && !error ? (
          <Loading />
        ) : (
          <SignIn error={error} onRetry={() => setAttempt((n) => n + 1)} onToken={setToken} />
        )}
      </main>
    </UiContext.Provider>
  );
}

function Nav({ viewer, route }: { viewer: Viewer; route: Route }) {
  const { t } = useUi();
  const labels: Record<string, MessageKey> = { queue: 'navQueue', cases: 'navCases', dashboard: 'navDashboard', audit: 'navAudit', admin: 'navAdmin' };
  return (
    <nav aria-label={t('nav')}>
      <ul>
        {pagesOf(viewer.role).map((p) => (
          <li key={p}>
            <a href={`#/${p}`} aria-current={route.page === p ? 'page' : undefined}>
              {t(labels[p]!)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

interface DemoUser {
  email: string;
  fullName: string;
  role: string;
}

/** Demo users the server put in the page (outside production, for this machine only). */
function demoUsers(): DemoUser[] {
  const el = document.getElementById('arrears-demo-users');
  if (!el?.textContent) return [];
  try {
    return JSON.parse(el.textContent) as DemoUser[];
  } catch {
    return [];
  }
}

function SignIn({ error, onRetry, onToken }: { error: unknown; onRetry: () => void; onToken: (token: string) => void }) {
  const { t } = useUi();
  const [value, setValue] = useState('');
  const users = useMemo(demoUsers, []);
  return (
    <section className="card narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{t('signInTitle')}</h1>
      <ErrorBox error={error} onRetry={onRetry} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
      >
        <label htmlFor="token">{t('tokenLabel')}</label>
        <textarea id="token" name="token" rows={3} value={value} onChange={(e) => setValue(e.target.value)} aria-describedby="token-help" autoComplete="off" spellCheck={false} />
        <p id="token-help" className="muted">
          {t('tokenHelp')}
        </p>
        <button type="submit">{t('signIn')}</button>
      </form>
      {users.length ? (
        // A plain form: the server signs a token for the demo user and redirects back with it.
        <form method="get" action="demo-sign-in" className="demo">
          <h2>{t('demoUsers')}</h2>
          <label htmlFor="demo-as">{t('demoUser')}</label>
          <select id="demo-as" name="as">
            {users.map((u) => (
              <option key={u.email} value={u.email}>
                {`${u.fullName} · ${u.email} (${u.role})`}
              </option>
            ))}
          </select>
          <button type="submit">{t('demoSignIn')}</button>
        </form>
      ) : null}
    </section>
  );
}
