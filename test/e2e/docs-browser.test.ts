import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app';
import { freePort } from '../helpers/process';
import { repeatsTheEmbeddedRun } from '../helpers/db';

/**
 * GET /docs in a real browser, offline: Debian's chromium (driven by playwright-core)
 * against a server on a loopback port, with every request to another origin aborted. The
 * reference must render the operations of /docs/json with no CSP violation, no page
 * error and no attempt to reach another host. A screenshot is left in test/artifacts/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? Bun.which('chromium') ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dir, '..', 'artifacts');
const SCREENSHOT = join(ARTIFACTS, 'docs-reference.png');
/** Parsing a 3.5 MB bundle on two shared cores can take a while; still bounded. */
const RENDER_TIMEOUT_MS = 60_000;
/** A fresh database and a browser start, on a machine other suites keep busy. */
const SETUP_TIMEOUT_MS = 90_000;

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.log(`docs-browser.test.ts: SKIPPED, no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

/** Loopback only: the server under test. Anything else is what an air-gapped cluster cannot reach. */
function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** Chromium's console wording for a blocked load, inline script or eval. */
const CSP_MESSAGE = /Content Security Policy|Refused to (load|execute|apply|evaluate|connect|frame)/i;

/** Runs in the page before its own scripts: collects every securitypolicyviolation event. */
const RECORD_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push({ directive: event.effectiveDirective, blocked: event.blockedURI || 'inline', source: event.sourceFile });
  });
`;

interface Violation {
  directive: string;
  blocked: string;
  source: string;
}

/**
 * The one violation the pinned bundle causes on purpose: zod (inside Scalar) probes
 * `new Function("")` in a try/catch to decide whether to compile its validators, and falls
 * back to plain parsing when CSP refuses. Its config is private to the bundle, so the probe
 * cannot be switched off; it shows that eval is refused, and nothing depends on it.
 */
function isZodEvalProbe(violation: Violation): boolean {
  return violation.directive === 'script-src' && violation.blocked === 'eval' && /\/docs\/assets\/standalone\.[0-9a-f]{16}\.js$/.test(violation.source);
}

describe.skipIf(!hasChromium || repeatsTheEmbeddedRun)('/docs in headless Chromium, offline', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    t = await createTestApp({ env: { HOST: '127.0.0.1', PORT: String(port) } });
    t.app.listen({ hostname: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
    // Root in CI: Chromium's sandbox needs user namespaces that containers rarely grant.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.app.stop(true);
    await t?.close();
  });

  test(
    'renders "Create a payment" from /docs/json with no CSP violation and no foreign request',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      const console_: string[] = [];
      const pageErrors: string[] = [];
      const foreign: string[] = [];
      const loaded: string[] = [];
      page.on('console', (message) => console_.push(`${message.type()}: ${message.text()}`));
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (isLoopback(url)) {
          loaded.push(url);
          return route.continue();
        }
        foreign.push(url);
        return route.abort('blockedbyclient');
      });
      // The event sees violations that do not reach the console, e.g. a swallowed eval probe.
      // (Playwright injects init scripts past the page's CSP; source text, as tests have no DOM types.)
      await page.addInitScript(RECORD_VIOLATIONS);

      try {
        const response = await page.goto(`${base}/docs`, { waitUntil: 'domcontentloaded' });
        expect(response?.status()).toBe(200);
        // Scalar opens only the first tag; a reader opens "Payments" from the sidebar.
        const started = Date.now();
        await page.getByText('Payments', { exact: true }).first().click({ timeout: RENDER_TIMEOUT_MS });
        const left = Math.max(5_000, RENDER_TIMEOUT_MS - (Date.now() - started));
        await page.getByText('Create a payment').first().waitFor({ state: 'visible', timeout: left });
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: false });

        const seen = (await page.evaluate('window.__cspViolations')) as Violation[];
        const violations = seen.filter((violation) => !isZodEvalProbe(violation));
        const report = {
          violations,
          cspConsole: console_.filter((line) => CSP_MESSAGE.test(line)),
          // Any other error too, e.g. a same-origin file that failed to load.
          consoleErrors: console_.filter((line) => line.startsWith('error:')),
          pageErrors,
          foreign,
        };
        if (Object.values(report).some((list) => list.length > 0)) console.error('docs in Chromium:', JSON.stringify({ ...report, console: console_ }, null, 2));
        expect(report).toEqual({ violations: [], cspConsole: [], consoleErrors: [], pageErrors: [], foreign: [] });
        // The reference came from this server: the hashed bundle and the document, nothing else needed.
        expect(loaded.some((url) => /\/docs\/assets\/standalone\.[0-9a-f]{16}\.js$/.test(url))).toBe(true);
        expect(loaded.some((url) => url.endsWith('/docs/json'))).toBe(true);
      } catch (error) {
        // Whatever the page showed when it failed is the first thing to look at.
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: SCREENSHOT }).catch(() => undefined);
        console.error('console of the failed page:', console_.join('\n'));
        throw error;
      } finally {
        await context.close();
      }
    },
    RENDER_TIMEOUT_MS + 30_000,
  );
});
