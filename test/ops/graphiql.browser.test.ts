// GraphiQL for a newcomer, in headless Chromium (Debian's chromium through playwright-core, as
// test/browser does; skipped, saying so, without /usr/bin/chromium): the docs pane loads with no
// token, "Sign in as" fills the Authorization header, and the first tab's query runs.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { listen, type RunningServer } from '../../src/server.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople } from '../support/scenario.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`test/ops/graphiql.browser: skipped: ${CHROMIUM} is missing (apt-get install -y chromium).`);

let t: TestApp;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  t = await createTestApp();
  await createPeople(t.prisma);
  await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 45 });
  server = await listen(t.runtime.app, '127.0.0.1', 0);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await server?.close(100);
  await t?.close();
});

describe.skipIf(!haveChromium)('GraphiQL in a browser, before and after signing in', () => {
  it('shows the docs with no token, then signs in as a demo user and runs the first query', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/graphql`);
    // The first tab holds the example query; nobody is signed in.
    await page.getByText('query FirstLook').first().waitFor({ timeout: 20_000 });
    await page.locator('[aria-label="Show Documentation Explorer"]').click();
    await page.getByText('Root Types').waitFor({ timeout: 20_000 });

    await Promise.all([page.waitForURL(/as=admin%40bank\.example/), page.selectOption('#arrears-sign-in select', 'admin@bank.example')]);
    await page.getByText('query FirstLook').first().waitFor({ timeout: 20_000 });
    await page.locator('.graphiql-execute-button').click();
    await page.getByText('"totalCount": 1').waitFor({ timeout: 20_000 });
    expect(await page.locator('.graphiql-response').innerText()).toContain('BANK_ADMIN');
    expect(errors).toEqual([]);
    await page.close();
  });
});
