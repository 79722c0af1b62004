import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/app';

/**
 * GET /docs without a browser: the page loads no third-party script, runs no inline one,
 * names no other host, and its bundle is the pinned npm package's, served cacheably from
 * this origin (issue 18). docs-browser.test.ts renders it in Chromium.
 */

const ROOT = join(import.meta.dir, '..', '..');

let t: TestApp;
let html: string;
let page: Response;
beforeAll(async () => {
  t = await createTestApp();
  page = await t.request('GET', '/docs');
  html = await page.text();
});
afterAll(() => t.close());

/** Every `<tag ...>` opening tag of the page, with its attributes as written. */
function tags(name: string): string[] {
  return [...html.matchAll(new RegExp(`<${name}\\b[^>]*>`, 'gi'))].map((match) => match[0]);
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag)?.[1];
}

function bundleUrl(): string {
  const [script] = tags('script');
  return attribute(script!, 'src')!;
}

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));
}

describe('GET /docs', () => {
  test('an HTML page with the security headers', () => {
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('x-request-id')).toMatch(/^req_/);
    expect(html).toContain('<div id="api-reference"');
  });

  test('its CSP allows script from this origin only: no inline, no eval, no other host', () => {
    const csp = directives(page.headers.get('content-security-policy') ?? '');
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    for (const [directive, sources] of csp) {
      for (const source of sources) expect(`${directive} ${source}`).toMatch(/ ('self'|'none'|'unsafe-inline'|data:)$/);
    }
  });

  test('no inline script, no inline style, no event handler attribute', () => {
    const scripts = tags('script');
    expect(scripts).toHaveLength(1);
    expect(attribute(scripts[0]!, 'src')).toBeDefined();
    // Only whitespace may sit between <script src> and </script>: no code of its own.
    expect([...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)].map((match) => match[1]!.trim())).toEqual(['']);
    expect(tags('style')).toEqual([]);
    expect(html).not.toMatch(/\sstyle="/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  test('names no host: every URL is a path on this origin (or the empty data: favicon)', () => {
    expect(html).not.toMatch(/https?:|\/\/[a-z0-9]/i);
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/gi)].map((match) => match[1]!);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^(\/(?!\/)|data:,$)/);
    expect(bundleUrl()).toMatch(/^\/docs\/assets\/standalone\.[0-9a-f]{16}\.js$/);
  });

  test('tells the reference to fetch /docs/json and switches off every call to scalar.com', () => {
    const raw = attribute(tags('div').find((tag) => tag.includes('id="api-reference"'))!, 'data-configuration')!;
    const configuration = JSON.parse(raw.replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as Record<string, unknown>;
    expect(configuration).toMatchObject({
      url: '/docs/json',
      proxyUrl: '',
      withDefaultFonts: false,
      showDeveloperTools: 'never',
      hideClientButton: true,
      agent: { disabled: true },
    });
  });
});

describe('GET /docs/assets/...', () => {
  test('the bundle of the @scalar/api-reference version package-lock.json pins, with its SRI hash', async () => {
    const response = await t.request('GET', bundleUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const body = Buffer.from(await response.arrayBuffer());
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    const pinned = lock.packages['node_modules/@scalar/api-reference']!.version;
    expect(body.subarray(0, 1000).toString('utf8')).toContain(`@scalar/api-reference ${pinned}`);
    const integrity = attribute(tags('script')[0]!, 'integrity');
    expect(integrity).toBe(`sha384-${createHash('sha384').update(body).digest('base64')}`);
  });

  test('cacheable: immutable for a year, an ETag, and 304 for If-None-Match', async () => {
    const response = await t.request('GET', bundleUrl());
    await response.arrayBuffer();
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = response.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    expect(response.headers.get('content-security-policy')).toBe(page.headers.get('content-security-policy'));
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const again = await t.request('GET', bundleUrl(), { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  test('the asset routes are not part of the OpenAPI document', async () => {
    const document = (await (await t.request('GET', '/docs/json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/docs'))).toEqual([]);
    expect(Object.keys(document.paths)).toContain('/v1/payments');
  });
});
