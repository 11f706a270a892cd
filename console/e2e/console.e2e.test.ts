// The Arrears Console end to end (issue 17): the built console (console/dist) served by a real
// server on a fresh store, driven in headless Chromium (Debian's package through playwright-core).
// An agency collector signs in on a phone, opens the first case of the work queue, checks
// permission, logs a call, and walks a visit to its report with a real upload; a supervisor
// decides it on a desktop; a manager's dashboard shows the API's figures. Every page is checked
// with axe-core (no serious or critical violation) and photographed at phone and desktop widths
// (console/e2e/screenshots/, git-ignored). Without /usr/bin/chromium the suite is skipped, saying so.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { listen, type RunningServer } from '../../src/server.ts';
import { pngImage } from '../../src/seed/files.ts';
import { createTestApp, type GqlResult, type TestApp } from '../../test/support/app.ts';
import { createCase, createPeople, type Scenario } from '../../test/support/scenario.ts';
import { buildConsole, consoleIsCurrent, describeInitialJs } from '../../scripts/build.mjs';

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`console e2e: skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does).`);

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = path.join(import.meta.dirname, 'screenshots');
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const DESKTOP = { viewport: { width: 1280, height: 900 } };

let t: TestApp;
let s: Scenario;
let api: RunningServer;
let browser: Browser | undefined;
let base: string;
let visitUrl = '';
let fieldCaseId = '';
const problems: string[] = [];

async function gqlAs<T = any>(who: keyof Scenario['users'], query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
  return t.gql<T>(await t.token(s.users[who]), query, variables);
}

async function newPage(kind: 'phone' | 'desktop'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext({ ...(kind === 'phone' ? PHONE : DESKTOP), locale: 'en-US', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => (m.type() === 'error' && !/status of (4|5)\d\d/.test(m.text()) ? problems.push(`console: ${m.text()}`) : undefined));
  return { context, page };
}

/** Signs in through the demo picker (the server signs the token; outside production only). */
async function signIn(page: Page, email: string, name: string) {
  await page.goto(`${base}/console/`);
  await page
    .locator('#demo-as')
    .waitFor({ timeout: 15_000 })
    .catch(async (e: unknown) => {
      throw new Error(`no demo picker: ${String(e)}\n${problems.join('\n')}\n${(await page.content()).slice(0, 2000)}`);
    });
  await page.selectOption('#demo-as', email);
  await page.getByRole('button', { name: 'Sign in as this demo user' }).click();
  await expect.poll(() => page.getByTestId('viewer').textContent(), { timeout: 20_000 }).toContain(name);
}

/** axe-core on the page as it is: no serious or critical violation. */
async function checkA11y(page: Page, label: string) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `${label}: ${JSON.stringify(bad)}`).toEqual([]);
}

async function shoot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function visitStatus(page: Page, status: string) {
  try {
    await expect.poll(() => page.getByTestId('visit').getAttribute('data-status'), { timeout: 20_000 }).toBe(status);
  } catch (e) {
    const shown = await page.getByTestId('error').allTextContents();
    throw new Error(`visit not ${status}: ${shown.join(' | ')} ${problems.join(' | ')}`, { cause: e });
  }
}

describe.skipIf(!haveChromium)('the Arrears Console in headless Chromium', () => {
  beforeAll(async () => {
    if (!consoleIsCurrent()) {
      const c = await buildConsole();
      console.log(`console built in ${c.ms} ms; ${describeInitialJs(c.initial)}`);
    }
    t = await createTestApp();
    s = await createPeople(t.prisma);
    const now = t.clock.now();
    // North's queue for North Agent: the case in FIELD_VISIT is the most overdue (first).
    await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, collectorId: s.users.northAgent.id, stage: 'FIELD_VISIT', daysPastDue: 95 });
    for (const dpd of [40, 33]) await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, collectorId: s.users.northAgent.id, daysPastDue: dpd });
    await createCase(t.prisma, t.pii, { now, agencyId: s.south.id, daysPastDue: 61 });
    await createCase(t.prisma, t.pii, { now, daysPastDue: 12 });
    api = await listen(t.runtime.app, '127.0.0.1', 0);
    base = api.url;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close(1000);
    await t?.close();
  });

  it('serves the build: index.html no-cache, hashed assets immutable, demo users only outside production', async () => {
    const index = await fetch(`${base}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await index.text();
    expect(html).toContain('id="arrears-demo-users"');
    const asset = /src="\/console\/(assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${base}/console/${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${base}/console/assets/../../package.json`)).status).not.toBe(200);
    expect((await fetch(`${base}/console/demo-sign-in?as=nobody@example.com`)).status).toBe(404);
    const redirect = await fetch(`${base}/console/demo-sign-in?as=agent@north.example`, { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toMatch(/^\/console\/#demo-token=ey/);
  });

  it('an agency collector, on a phone: work queue → first case → permission → call → visit to its report with an upload', async () => {
    const { context, page } = await newPage('phone');
    try {
      await signIn(page, 'agent@north.example', 'North Agent');
      await page.getByTestId('queue').waitFor();
      const queue = await gqlAs('northAgent', '{ viewer { workQueue(first: 5) { nodes { id number } } } }');
      const first = queue.data.viewer.workQueue.nodes[0];
      fieldCaseId = first.id;
      const rows = page.locator('[data-testid="queue"] tbody tr');
      await expect.poll(() => rows.count()).toBe(3);
      expect(await rows.first().getAttribute('data-id')).toBe(first.id);
      await checkA11y(page, 'queue (phone)');
      await shoot(page, 'queue-phone');

      await rows.first().getByRole('link').click();
      await expect.poll(() => page.locator('h1').textContent()).toBe(`Case ${first.number}`);
      await expect.poll(() => page.getByTestId('live').textContent(), { timeout: 20_000 }).toContain('Live');

      // Pre-dial check: 10:00 in Shanghai, a weekday: allowed.
      await page.getByRole('button', { name: 'Check permission' }).click();
      await expect.poll(() => page.getByTestId('permission').getAttribute('data-allowed')).toBe('true');

      // The call in which the debtor agrees to a visit; the live timeline shows it.
      const before = await page.locator('[data-testid="timeline"] li').count();
      await page.locator('#sec-predial').locator('..').getByLabel('Outcome').selectOption('VISIT_CONSENT_GIVEN');
      await page.locator('#sec-predial').locator('..').getByLabel('Notes').fill('Debtor agrees to a home visit');
      await page.getByRole('button', { name: 'Log a contact attempt' }).click();
      await expect.poll(() => page.locator('#sec-predial').locator('..').getByTestId('ok').textContent()).toContain('Attempt logged (Completed)');
      await expect.poll(() => page.locator('[data-testid="timeline"] li').count()).toBeGreaterThan(before);
      const attempts = await t.prisma.contactAttempt.findMany({ where: { outcome: 'VISIT_CONSENT_GIVEN' } });
      expect(attempts).toHaveLength(1);
      await checkA11y(page, 'case (phone)');
      await shoot(page, 'case-phone');

      // Step 1: plan the visit; the wizard opens.
      await page.locator('#sec-visits').locator('..').getByLabel('Purpose').fill('Discuss the overdue balance');
      await page.getByRole('button', { name: 'Plan a visit' }).click();
      await visitStatus(page, 'PREPARING');
      visitUrl = page.url();

      // Step 2: the consent gate (the call above), for today and the week after.
      await page.fill('input[name="consentFrom"]', '2026-11-28T10:00');
      await page.fill('input[name="consentTo"]', '2026-12-05T21:00');
      await page.getByRole('button', { name: 'Record consent' }).click();
      await expect.poll(() => page.getByRole('button', { name: 'Schedule' }).count(), { timeout: 20_000 }).toBe(1);

      // Step 3: two collectors, 10:20–12:20 today.
      await page.getByLabel('North Agent', { exact: true }).check();
      await page.getByLabel('North Agent Two', { exact: true }).check();
      await page.fill('input[name="visitFrom"]', '2026-11-28T10:20');
      await page.fill('input[name="visitTo"]', '2026-11-28T12:20');
      await page.getByRole('button', { name: 'Schedule' }).click();
      await visitStatus(page, 'SCHEDULED');

      // Step 4 on site, at 10:40: credentials shown (their numbers come filled in), then the outcome.
      t.clock.set('2026-11-28T02:40:00.000Z'); // demo tokens last an hour
      await page.getByRole('button', { name: 'Check in' }).click();
      await visitStatus(page, 'IN_PROGRESS');
      await page.selectOption('select[name="visitOutcome"]', 'REFUSED');
      await page.selectOption('select[name="delinquencyReason"]', 'JOB_LOSS');
      await page.check('input[name="consequencesExplained"]');
      await page.getByLabel('Instalments').check();
      await checkA11y(page, 'visit on site (phone)');
      await shoot(page, 'visit-phone');
      await page.getByRole('button', { name: 'Record the outcome' }).click();
      await visitStatus(page, 'COMPLETED');

      // Step 5: a photo from the phone's camera input, then the report.
      expect(await page.getAttribute('input[name="file"]', 'capture')).toBe('environment');
      const photo = pngImage(64, 48, 7);
      await page.setInputFiles('input[name="file"]', { name: 'doorstep.png', mimeType: 'image/png', buffer: photo });
      await page.getByRole('button', { name: 'Upload' }).click();
      await expect.poll(() => page.locator('#sec-evidence').locator('..').getByTestId('evidence').textContent(), { timeout: 20_000 }).toContain('doorstep.png');
      const sha256 = createHash('sha256').update(photo).digest('hex');
      const stored = await t.prisma.evidence.findMany({ where: { sha256 } });
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ kind: 'PHOTO', fileName: 'doorstep.png' });
      expect(stored[0]!.visitId).not.toBeNull();

      await page.fill('textarea[name="report"]', 'Met the debtor at home; refused to pay for now, lost his job in October.');
      await page.getByRole('button', { name: 'File the report' }).click();
      await visitStatus(page, 'REPORTED');
      await checkA11y(page, 'visit reported (phone)');
      await shoot(page, 'visit-reported-phone');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a supervisor, on a desktop, decides the visit', async () => {
    expect(visitUrl).toContain('/visit/');
    const { context, page } = await newPage('desktop');
    try {
      await signIn(page, 'supervisor@bank.example', 'Supervisor');
      await page.goto(visitUrl);
      await visitStatus(page, 'REPORTED');
      await checkA11y(page, 'visit decision (desktop)');
      await shoot(page, 'visit-desktop');
      await page.selectOption('select[name="decision"]', 'CONTINUE');
      await page.fill('textarea[name="decisionNote"]', 'Keep calling; offer instalments again next month.');
      await page.getByRole('button', { name: 'Decide' }).click();
      await visitStatus(page, 'DECIDED');
      const visit = await t.prisma.visit.findFirstOrThrow({ where: { status: 'DECIDED' } });
      expect(visit).toMatchObject({ decision: 'CONTINUE', decisionNote: 'Keep calling; offer instalments again next month.' });
      // The case page at desktop width, identity revealed by the supervisor (audited).
      await page.goto(`${base}/console/#/case/${encodeURIComponent(fieldCaseId)}`);
      await page.getByLabel('Reason for the reveal (audited)').fill('Visit decision: identity check');
      await page.getByRole('button', { name: 'Reveal identity' }).click();
      await expect.poll(() => page.getByTestId('national-id').textContent()).toMatch(/^\d{17}[\dX]$/);
      expect(await t.prisma.auditEvent.count({ where: { reason: 'Visit decision: identity check' } })).toBe(1);
      // A payment received today: on the case, and (below) in the manager's collections.
      const payments = page.locator('#sec-payments').locator('..');
      await payments.getByLabel('Amount (CNY)').fill('1,234.50');
      await payments.getByLabel('Received at').fill('2026-11-28T09:30');
      await payments.getByLabel('Reference').fill('BT-2026-11-28-001');
      await page.getByRole('button', { name: 'Record a payment' }).click();
      await expect.poll(() => payments.getByTestId('ok').textContent()).toBe('Payment recorded.');
      const paid = await t.prisma.payment.findFirstOrThrow({ where: { externalReference: 'BT-2026-11-28-001' } });
      expect(paid.amount).toBe(123450n);
      await expect.poll(() => payments.locator('li').first().textContent()).toContain('CN¥1,234.50');
      await checkA11y(page, 'case (desktop)');
      await shoot(page, 'case-desktop');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a manager’s dashboard shows the figures the API gives, at both widths and in both languages', async () => {
    const portfolio = await gqlAs('northManager', '{ portfolio(groupBy: [BUCKET]) { groups { bucket currency caseCount overdue { minorUnits } } } }');
    const groups = portfolio.data.portfolio.groups as { bucket: string; currency: string; caseCount: number; overdue: { minorUnits: number | string } }[];
    expect(groups.length).toBeGreaterThan(0);
    const collections = await gqlAs('northManager', '{ collections(interval: DAY, groupBy: []) { points { start currency amount { minorUnits } } } }');
    const points = (collections.data.collections.points as { currency: string; amount: { minorUnits: number | string } }[]).filter((p) => p.currency === 'CNY');
    expect(points.map((p) => Number(p.amount.minorUnits)).reduce((a, b) => a + b, 0)).toBe(123450);
    const scorecards = await gqlAs('northManager', '{ agencyScorecards { scorecards { agency { name } placed { caseCount } } } }');
    for (const kind of ['desktop', 'phone'] as const) {
      const { context, page } = await newPage(kind);
      try {
        await signIn(page, 'manager@north.example', 'North Manager');
        await page.goto(`${base}/console/#/dashboard`);
        await page.getByTestId('by-bucket').waitFor({ timeout: 20_000 });
        const rows = page.locator('[data-testid="by-bucket"] tbody tr');
        expect(await rows.count()).toBe(groups.length);
        for (const g of groups) {
          const row = page.locator(`[data-testid="by-bucket"] tbody tr[data-key="${g.bucket}"][data-currency="${g.currency}"]`);
          expect(await row.getAttribute('data-count')).toBe(String(g.caseCount));
          expect(await row.getAttribute('data-overdue')).toBe(String(g.overdue.minorUnits));
          const shown = new Intl.NumberFormat('en-US', { style: 'currency', currency: g.currency, minimumFractionDigits: 2 }).format(Number(g.overdue.minorUnits) / 100);
          expect(await row.locator('td').nth(1).textContent()).toBe(shown);
        }
        for (const sc of scorecards.data.agencyScorecards.scorecards as { agency: { name: string }; placed: { caseCount: number }[] }[]) {
          const placed = sc.placed.reduce((n, p) => n + p.caseCount, 0);
          expect(await page.locator(`[data-testid="scorecards"] tr[data-key="${sc.agency.name}"]`).getAttribute('data-placed')).toBe(String(placed));
        }
        await page.getByTestId('collections-chart').waitFor({ timeout: 20_000 }); // the lazy chart chunk loaded
        const rowsShown = page.locator('[data-testid="collections"] tbody tr');
        expect(await rowsShown.count()).toBe(points.length);
        expect(await page.getByTestId('collections').textContent()).toContain('CN¥1,234.50'); // the supervisor's payment
        await checkA11y(page, `dashboard (${kind})`);
        await shoot(page, `dashboard-${kind}`);
        await page.goto(`${base}/console/#/queue`);
        await page.getByTestId('queue').waitFor();
        await checkA11y(page, `cases (${kind})`);
        await shoot(page, `queue-${kind === 'phone' ? 'manager-phone' : 'desktop'}`);
        await page.goto(`${base}/console/#/admin`);
        await page.getByTestId('users-NORTH').waitFor();
        await checkA11y(page, `agencies and users (${kind})`);
        await shoot(page, `admin-${kind}`);
        if (kind === 'desktop') {
          await page.goto(`${base}/console/#/dashboard`);
          await page.getByTestId('lang').selectOption('zh-CN');
          await expect.poll(() => page.locator('h1').textContent()).toBe('仪表板');
          const g = groups[0]!;
          const zh = new Intl.NumberFormat('zh-CN', { style: 'currency', currency: g.currency, minimumFractionDigits: 2 }).format(Number(g.overdue.minorUnits) / 100);
          expect(await page.locator(`[data-testid="by-bucket"] tr[data-key="${g.bucket}"] td`).nth(1).textContent()).toBe(zh);
          await checkA11y(page, 'dashboard (zh-CN)');
          await shoot(page, 'dashboard-zh-desktop');
        }
      } finally {
        await context.close();
      }
    }
    expect(problems).toEqual([]);
  });

  it('an auditor reads the audit log (the reveal is there); a throttled request shows a retry that works', async () => {
    for (const kind of ['desktop', 'phone'] as const) {
      const { context, page } = await newPage(kind);
      try {
        await signIn(page, 'auditor@bank.example', 'Auditor');
        await page.goto(`${base}/console/#/audit`);
        await expect.poll(() => page.locator('[data-testid="audit"] tbody tr').count(), { timeout: 20_000 }).toBeGreaterThan(0);
        expect(await page.locator('[data-testid="audit"]').textContent()).toContain('Visit decision: identity check');
        await checkA11y(page, `audit (${kind})`);
        await shoot(page, `audit-${kind}`);
        if (kind === 'desktop') {
          // Every request throttled (429, Retry-After 1 s): the SDK retries, then the page offers a retry.
          let throttle = true;
          await page.route('**/graphql', (route) =>
            throttle
              ? route.fulfill({ status: 429, headers: { 'retry-after': '0', 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ message: 'Slow down', extensions: { code: 'THROTTLED' } }] }) })
              : route.continue(),
          );
          await page.goto(`${base}/console/#/cases`);
          await expect.poll(() => page.getByTestId('error').textContent(), { timeout: 30_000 }).toContain('Too many requests');
          await shoot(page, 'throttled-desktop');
          throttle = false;
          await page.getByTestId('error').getByRole('button', { name: 'Retry' }).click();
          await page.getByTestId('queue').waitFor({ timeout: 20_000 });
          expect(await page.getByTestId('error').count()).toBe(0);
        }
      } finally {
        await context.close();
      }
    }
  });
});
