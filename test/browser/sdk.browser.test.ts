// The SDK in a browser (issue 7, tests): the SDK is built (sdk/dist), a small page
// (test/browser/page) that imports it through the package exports is built with Vite, served
// from its own loopback origin beside the API (a fresh store, on another port: cross-origin, so
// CORS is exercised), and driven in headless Chromium (Debian's chromium package through
// playwright-core; no browser download). The page lists the viewer's cases and uploads a file.
// Without /usr/bin/chromium the test is skipped, saying so (.ci/run installs it).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build as viteBuild, type Rollup } from 'vite';
import type { Browser } from 'playwright-core';
import { build as buildSdk } from '../../sdk/scripts/build.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

/** Debian's chromium package; CHROMIUM_PATH points elsewhere (or nowhere, to see the skip). */
const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`test/browser: skipped: ${CHROMIUM} is missing (apt-get update && apt-get install -y chromium; .ci/run does).`);
}

const root = path.resolve(import.meta.dirname, '../..');
const pageDir = path.join(import.meta.dirname, 'page');
const CASES = 5;

let t: TestApp;
let s: Scenario;
let api: RunningServer;
let site: http.Server;
let siteUrl: string;
let outDir: string;
let browser: Browser | undefined;
let bundledModules: string[] = [];

/** Serves the built page (GET only) from `dir`. */
function serveStatic(dir: string): Promise<{ server: http.Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(dir, pathname === '/' ? 'index.html' : pathname);
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe.skipIf(!haveChromium)('the built SDK in headless Chromium', () => {
  beforeAll(async () => {
    // 1. The SDK as it ships: sdk/dist.
    buildSdk();
    // 2. The page, bundled by Vite for browsers in production mode: '@arrears/sdk' resolves
    //    through the package's exports to sdk/dist (the `source` condition is not asked for).
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-browser-page-'));
    const result = await viteBuild({
      root: pageDir,
      configFile: false,
      logLevel: 'warn',
      mode: 'production',
      base: './',
      build: { outDir, emptyOutDir: true, sourcemap: true, target: 'es2022' },
    });
    const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
    bundledModules = outputs.flatMap((o) => o.output).flatMap((c) => (c.type === 'chunk' ? c.moduleIds : []));

    // 3. The API on a fresh store, and the page on another origin.
    t = await createTestApp();
    s = await createPeople(t.prisma);
    for (let i = 0; i < CASES; i++) await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 30 + i, agencyId: s.north.id });
    await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.south.id }); // not North's: not listed
    api = await listen(t.runtime.app, '127.0.0.1', 0);
    ({ server: site, url: siteUrl } = await serveStatic(outDir));

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
    await api?.close(1000);
    await t?.close();
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('bundles the built SDK (sdk/dist), not its sources', () => {
    const sdkModules = bundledModules.filter((id) => id.includes(`${path.sep}sdk${path.sep}`));
    expect(sdkModules.length).toBeGreaterThan(0);
    expect(sdkModules.every((id) => id.startsWith(path.join(root, 'sdk', 'dist')))).toBe(true);
    expect(sdkModules.some((id) => id.endsWith(path.join('dist', 'core.js')))).toBe(true);
  });

  it('lists the viewer’s cases and uploads a file, cross-origin', async () => {
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : undefined));
    try {
      const token = await t.token(s.users.northManager);
      const query = new URLSearchParams({ api: `${api.url}/graphql`, token });
      expect(new URL(siteUrl).origin).not.toBe(new URL(api.url).origin);
      await page.goto(`${siteUrl}/index.html?${query}`);

      await page.waitForSelector('body[data-state="listed"], body[data-state="error"]', { timeout: 30_000 });
      expect(await page.textContent('#error'), problems.join('\n')).toBe('');
      expect(await page.textContent('#viewer')).toBe('North Manager (AGENCY_MANAGER)');
      expect(await page.textContent('#count')).toBe(String(CASES));
      const rows = await page.locator('#cases li').allTextContents();
      expect(rows).toHaveLength(CASES); // three pages of two
      expect(rows[0]).toMatch(/^C-\d+ · .+ · ¥[\d,]+\.\d\d · 34 days$/);

      const pdf = Buffer.from('%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\n% visit note typed in the browser\ntrailer <</Root 1 0 R>>\n%%EOF\n', 'latin1');
      await page.setInputFiles('#file', { name: 'visit-note.pdf', mimeType: 'application/pdf', buffer: pdf });
      await page.click('#send');
      await page.waitForSelector('body[data-state="uploaded"], body[data-state="error"]', { timeout: 30_000 });
      expect(await page.textContent('#error'), problems.join('\n')).toBe('');
      const sha256 = createHash('sha256').update(pdf).digest('hex');
      expect(await page.textContent('#result')).toBe(`Uploaded visit-note.pdf (application/pdf, ${pdf.length} bytes, sha256 ${sha256})`);

      // The server has it, on the first case listed.
      const firstId = await page.locator('#cases li').first().getAttribute('data-id');
      const stored = await t.prisma.evidence.findMany({ where: { sha256 } });
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ kind: 'NOTE', fileName: 'visit-note.pdf', description: 'Uploaded from the browser' });
      expect(Buffer.from(firstId!, 'base64').toString()).toBe(`Case:${stored[0]!.caseId}`);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
