/**
 * Helpers for the field tests (issue 13, points 5–8): the SDK wired to the app's own Fetch
 * handler (no port), tokens signed at the clock's current time on every request.
 */
import { createArrearsClient, type ArrearsClient } from '../../sdk/src/index.ts';
import type { TestApp } from '../support/app.ts';
import type { ScenarioUser } from '../support/scenario.ts';

export function sdkAs(t: TestApp, user: ScenarioUser, app: { fetch(request: Request): Response | Promise<Response> } = t.runtime.app): ArrearsClient {
  return createArrearsClient({
    url: 'http://arrears.test/graphql',
    getToken: () => t.token(user),
    fetch: async (url, init) => app.fetch(new Request(url, init as RequestInit)),
    retries: 0,
  });
}

/** Text as a reader compares it: runs of white space (line breaks of a PDF) as nothing. */
export const squash = (s: string) => s.replace(/\s+/g, '');
