import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createPlatformClient } from '../../plugins/tenancy/service';
import { type Receiver, startReceiver } from '../../webhooks/test-support';
import { startWebhookWorker, type WebhookWorker } from '../../webhooks/worker';
import { createTestApp, type TestApp } from '../helpers/app';
import { type ClientCredentials, createTenant, platformAdmin, type TestTenant } from '../helpers/auth';
import { CARDS, call, card, eventually, type Json, paymentBody } from '../helpers/payments';
import { freePort } from '../helpers/process';
import { repeatsTheEmbeddedRun } from '../helpers/db';

/**
 * The support console in a real browser, offline: Debian's chromium driven by
 * playwright-core against NimbusPay on a loopback port, every request to another origin
 * aborted, every CSP violation collected. Support signs in, finds a declined payment by
 * filter and reads its timeline; support has no redeliver button and a forged call is
 * 403; an admin redelivers a failed webhook and sees the new attempt succeed. axe-core
 * finds no serious or critical violation on any page. Screenshots of each page are left
 * in test/artifacts/console-*.png.
 */

/** The page's `document`, for callbacks run in the browser by `page.evaluate` (no DOM lib here). */
declare const document: { readonly cookie: string };

const CHROMIUM = process.env.CHROMIUM_PATH ?? Bun.which('chromium') ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dir, '..', 'artifacts');
const STEP_TIMEOUT_MS = 30_000;

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`console-browser.test.ts: SKIPPED, no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

const RECORD_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push({ directive: event.effectiveDirective, blocked: event.blockedURI || 'inline', source: event.sourceFile });
  });
`;

let t: TestApp;
let base: string;
let browser: Browser;
let acme: TestTenant;
let receiver: Receiver;
let worker: WebhookWorker;
let support: ClientCredentials;
let admin: ClientCredentials;
let declined: Json;
let endpointId: string;

/** What every page of a run must not do: break the CSP, throw, or reach another host. */
interface Watch {
  context: BrowserContext;
  page: Page;
  problems: () => Promise<Record<string, string[]>>;
}

async function open(options: { clock?: boolean } = {}): Promise<Watch> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const foreign: string[] = [];
  page.on('console', (message) => {
    // A refused API call (the forged redeliver, 401s) is logged by Chromium as a failed resource: expected.
    if (message.type() === 'error' && !/status of (401|403)/.test(message.text())) consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    foreign.push(url);
    return route.abort('blockedbyclient');
  });
  await page.addInitScript(RECORD_VIOLATIONS);
  if (options.clock) await page.clock.install();
  return {
    context,
    page,
    problems: async () => {
      const violations = ((await page.evaluate('window.__cspViolations').catch(() => [])) as Array<Record<string, string>>).map((v) => JSON.stringify(v));
      return { violations, consoleErrors, pageErrors, foreign };
    },
  };
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
}

/** axe-core over the page as it stands: nothing serious or critical (WCAG 2.1 A/AA and best practices). */
async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const serious = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({ page: name, id: violation.id, impact: violation.impact, nodes: violation.nodes.map((node) => node.target.join(' ')) }));
  expect(serious).toEqual([]);
}

/** Signs in with the keyboard only: type, Tab, type, choose the access with arrows, Enter. */
async function signIn(page: Page, credentials: ClientCredentials, access: 'support' | 'admin', landsOn = 'Payments'): Promise<void> {
  await page.getByLabel('Client id').focus();
  await page.keyboard.type(credentials.clientId);
  await page.keyboard.press('Tab');
  await page.keyboard.type(credentials.clientSecret);
  await page.keyboard.press('Tab');
  if (access === 'admin') await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: landsOn }).waitFor();
}

describe.skipIf(!hasChromium || repeatsTheEmbeddedRun)('the support console in headless Chromium, offline', () => {
  beforeAll(async () => {
    const port = await freePort();
    t = await createTestApp({ env: { HOST: '127.0.0.1', PORT: String(port) } });
    t.app.listen({ hostname: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
    acme = await createTenant(t, { name: 'Acme GmbH' });
    await createTenant(t, { name: 'Globex Ltd' });
    support = await createPlatformClient(t.database, { name: 'Support desk', scopes: ['platform:support'] }).then((client) => ({ clientId: client.id, clientSecret: client.secret }));
    admin = await platformAdmin(t);

    // A receiver that is down: the failed event's webhook fails with 503 and a body.
    receiver = startReceiver();
    receiver.respond = () => new Response('{"error":"maintenance window, try later"}', { status: 503, headers: { 'content-type': 'application/json' } });
    const endpoint = await call(t, 'POST', '/v1/webhook_endpoints', acme.token, { url: receiver.url, enabled_events: ['payment.failed'], description: 'Order service' });
    endpointId = endpoint.body.id;
    worker = startWebhookWorker(
      { database: t.database, logger: t.logger, metrics: t.metrics },
      { allowPrivate: true, pollIntervalMs: 50, leaseMs: 30_000, timeoutMs: 15_000, retry: { delaysMs: [3_600_000], jitter: 0 } },
    );
    for (const [number, amount, order] of [
      [CARDS.visa, 1250, 'A-1001'],
      [CARDS.mastercard, 9900, 'A-1002'],
      [CARDS.insufficientFunds, 4200, 'A-1003'],
      [CARDS.amex, 31000, 'A-1004'],
    ] as const) {
      const created = await call(t, 'POST', '/v1/payments', acme.token, paymentBody(card(number), { amount, description: `Order ${order}`, metadata: { order_id: order } }));
      if (created.body.status === 'failed') declined = created.body;
    }
    await call(t, 'POST', '/v1/refunds', acme.token, { payment: (await call(t, 'GET', '/v1/payments?limit=1&status=succeeded', acme.token)).body.data[0].id, amount: 500 });
    await eventually(async () => {
      const events = await call(t, 'GET', `/v1/events?object_id=${declined.id}&type=payment.failed`, acme.token);
      const deliveries = await call(t, 'GET', `/v1/events/${events.body.data[0].id}/deliveries`, acme.token);
      return deliveries.body.data.some((row: Json) => row.status === 'failed') || undefined;
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    receiver?.stop();
    await t?.app.stop(true);
    await t?.close();
  });

  test(
    'support: signs in, finds the declined payment by filter, reads its timeline; no redeliver button, a forged call is 403',
    async () => {
      const { context, page, problems } = await open();
      try {
        const response = await page.goto(`${base}/console`);
        expect(response?.status()).toBe(200);
        expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
        await expect(page.getByRole('note', { name: 'Environment' }).textContent()).resolves.toBe('Development environment');
        await page.getByRole('heading', { level: 1, name: 'NimbusPay support console' }).waitFor();
        await screenshot(page, 'sign-in');
        await expectAccessible(page, 'sign-in');

        await signIn(page, support, 'support');
        await expect(page.getByText('Support (read-only)').isVisible()).resolves.toBe(true);
        // The token is nowhere but in the script's memory.
        const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]));
        expect(stored).toBe('[{},{},""]');

        // The declined payment, by filters and tenant. The tenant is chosen after the
        // filters are typed and before they are applied: choosing it must keep them (it
        // once reset the form whenever the address changed, and a quick hand lost them).
        await page.getByLabel('Status').selectOption('failed');
        await page.getByLabel('Method').selectOption('card');
        await page.getByLabel('Amount from (minor units)').fill('4000');
        await page.getByLabel('Tenant').selectOption(acme.tenantId);
        await page.waitForURL((url) => url.hash.includes(`tenant=${acme.tenantId}`));
        await expect(page.getByLabel('Status').inputValue()).resolves.toBe('failed');
        await expect(page.getByLabel('Amount from (minor units)').inputValue()).resolves.toBe('4000');
        await page.getByRole('button', { name: 'Apply filters' }).click();
        const row = page.locator('table.data tbody tr');
        await eventually(async () => ((await row.count()) === 1 && (await row.first().textContent())?.includes(declined.id)) || undefined);
        await expect(row.first().textContent()).resolves.toContain('card_declined: insufficient_funds');
        await screenshot(page, 'payments');
        await expectAccessible(page, 'payments');

        await page.getByRole('link', { name: declined.id }).click();
        await page.getByRole('heading', { level: 1, name: `Payment ${declined.id}` }).waitFor();
        const timeline = page.locator('ol.timeline');
        await timeline.waitFor();
        const text = (await timeline.textContent()) ?? '';
        // In order: created, the declined authorization with its code, failed, and the failed webhook with its status code.
        const order = ['payment.created', 'authorize', 'insufficient_funds', 'payment.failed', 'HTTP 503'].map((needle) => text.indexOf(needle));
        expect(order.every((index) => index >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        const page_ = (await page.locator('main').textContent()) ?? '';
        expect(page_).toContain('VISA •••• 9995');
        await screenshot(page, 'payment');
        await page.getByText('Raw JSON', { exact: true }).click();
        const raw = JSON.parse((await page.locator('details.raw pre').first().textContent()) ?? '{}');
        expect(raw.payment_method.card).toEqual({ brand: 'visa', last4: '9995' });
        await expectAccessible(page, 'payment');

        // Webhooks: the failed delivery with its response, and no way to redeliver.
        await page.getByRole('link', { name: 'Webhooks' }).click();
        await page.getByRole('link', { name: receiver.url }).click();
        await page.getByRole('heading', { name: `Delivery attempts to ${endpointId}` }).waitFor();
        const deliveries = page.locator('section[aria-labelledby="deliveries"]');
        await deliveries.locator('tbody tr').first().waitFor();
        await expect(deliveries.textContent()).resolves.toContain('503');
        await expect(deliveries.textContent()).resolves.toContain('maintenance window');
        expect(await page.getByRole('button', { name: /Redeliver/ }).count()).toBe(0);
        await screenshot(page, 'webhooks-support');
        await expectAccessible(page, 'webhooks');

        // A forged call from the page with a support token: 403 on the platform route and on the tenant route.
        const forged = await page.evaluate(
          async ({ clientId, clientSecret, tenant, endpoint }) => {
            const token = await fetch('/oauth/token', {
              method: 'POST',
              headers: { authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
              body: 'grant_type=client_credentials',
            }).then((r) => r.json() as Promise<{ access_token: string }>);
            const events = await fetch('/v1/events?type=payment.failed&limit=1', { headers: { authorization: `Bearer ${token.access_token}`, 'nimbus-tenant': tenant } }).then(
              (r) => r.json() as Promise<{ data: Array<{ id: string }> }>,
            );
            const event = events.data[0]!.id;
            const statuses: Array<[number, string]> = [];
            for (const path of [`/v1/support/events/${event}/redeliver`, `/v1/events/${event}/redeliver`]) {
              const answer = await fetch(path, {
                method: 'POST',
                headers: { authorization: `Bearer ${token.access_token}`, 'nimbus-tenant': tenant, 'content-type': 'application/json' },
                body: JSON.stringify({ endpoint }),
              });
              statuses.push([answer.status, ((await answer.json()) as { error: { code: string } }).error.code]);
            }
            return statuses;
          },
          { ...support, tenant: acme.tenantId, endpoint: endpointId },
        );
        expect(forged).toEqual([
          [403, 'scope_missing'],
          [403, 'scope_missing'],
        ]);

        await page.getByRole('link', { name: 'Health' }).click();
        await page.getByRole('heading', { level: 1, name: 'Health' }).waitFor();
        await page.locator('figure.chart canvas').first().waitFor();
        await expect(page.locator('section[aria-labelledby="processors"]').textContent()).resolves.toContain('simulator');
        await screenshot(page, 'health');
        await expectAccessible(page, 'health');

        await page.getByRole('link', { name: 'Audit' }).click();
        await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
        await page.getByText('payment.create').first().waitFor();
        await screenshot(page, 'audit');
        await expectAccessible(page, 'audit');

        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByText('Signed out.').waitFor();
        expect(await problems()).toEqual({ violations: [], consoleErrors: [], pageErrors: [], foreign: [] });
      } catch (error) {
        await screenshot(page, 'failure-support').catch(() => undefined);
        console.error('console (support) problems:', JSON.stringify(await problems()));
        throw error;
      } finally {
        await context.close();
      }
    },
    240_000,
  );

  test(
    'admin: redelivers the failed webhook and sees the new attempt succeed; it is in the audit trail',
    async () => {
      const { context, page, problems } = await open();
      try {
        await page.goto(`${base}/console#/webhooks?tenant=${acme.tenantId}&endpoint=${endpointId}`);
        // Signing in lands on the view in the address.
        await signIn(page, admin, 'admin', 'Webhooks');
        await expect(page.getByText('Admin', { exact: true }).isVisible()).resolves.toBe(true);
        await page.getByRole('heading', { name: `Delivery attempts to ${endpointId}` }).waitFor();
        const rows = page.locator('section[aria-labelledby="deliveries"] tbody tr');
        await eventually(async () => ((await rows.count()) > 0) || undefined);
        const before = await rows.count();
        receiver.respond = () => new Response('{"received":true}', { headers: { 'content-type': 'application/json' } });
        await page.getByRole('button', { name: /^Redeliver evt_/ }).first().click();
        await page.getByText(/Redelivery of evt_\w+ queued as wd_\w+/).waitFor();
        // The new attempt shows, and once the worker has sent it, with the receiver's 200.
        await eventually(
          async () => {
            await page.getByRole('button', { name: 'Refresh' }).click();
            await page.waitForTimeout(300);
            const first = (await rows.first().textContent()) ?? '';
            return ((await rows.count()) === before + 1 && first.includes('succeeded') && first.includes('200')) || undefined;
          },
          { timeoutMs: 20_000, stepMs: 200 },
        );
        await screenshot(page, 'webhooks-admin');
        await expectAccessible(page, 'webhooks-admin');

        await page.getByRole('link', { name: 'Audit' }).click();
        await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
        // Typed, then the tenant changed, then applied: the typed action survives the tenant change.
        await page.getByLabel('Action').fill('event.redeliver');
        await page.getByLabel('Tenant').selectOption('');
        await page.waitForURL((url) => url.hash.startsWith('#/audit') && !url.hash.includes('tenant='));
        await expect(page.getByLabel('Action').inputValue()).resolves.toBe('event.redeliver');
        await page.getByRole('button', { name: 'Apply filters' }).click();
        await page.waitForURL((url) => url.hash.includes('action=event.redeliver'));
        await page.getByText(admin.clientId).first().waitFor();
        expect(await problems()).toEqual({ violations: [], consoleErrors: [], pageErrors: [], foreign: [] });
      } catch (error) {
        await screenshot(page, 'failure-admin').catch(() => undefined);
        console.error('console (admin) problems:', JSON.stringify(await problems()));
        throw error;
      } finally {
        await context.close();
      }
    },
    180_000,
  );

  test(
    'the session ends when the token expires (15 minutes by default): back to sign-in, saying why',
    async () => {
      const { context, page, problems } = await open({ clock: true });
      try {
        await page.goto(`${base}/console`);
        await signIn(page, support, 'support');
        await page.clock.fastForward('15:01');
        await page.getByText('Your session expired: sign in again.').waitFor();
        await expect(page.getByLabel('Client secret').inputValue()).resolves.toBe('');
        expect(await problems()).toEqual({ violations: [], consoleErrors: [], pageErrors: [], foreign: [] });
      } finally {
        await context.close();
      }
    },
    120_000,
  );
});
