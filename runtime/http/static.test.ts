import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Elysia } from 'elysia';
import { assertSelfHosted, serializeCsp, staticSite, type ContentSecurityPolicy } from './static';

const CSP: ContentSecurityPolicy = { 'default-src': ["'none'"], 'script-src': ["'self'"], 'style-src': ["'self'"] };

function fixture(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-static-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function siteWith(content = 'console.log("console v1");\n'.repeat(200)) {
  const script = fixture('app.js', content);
  const style = fixture('app.css', 'body { margin: 0 }');
  const site = staticSite({ name: 'console', prefix: '/console/assets', files: [script, style], csp: CSP });
  const app = new Elysia().use(site.routes()).get('/console', () => site.page(`<script src="${site.url('app.js')}"></script>`));
  const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${path}`, { headers }));
  return { site, get, content };
}

describe('staticSite', () => {
  test('names each file by its content hash under the prefix', () => {
    const { site } = siteWith();
    expect(site.url('app.js')).toMatch(/^\/console\/assets\/app\.[0-9a-f]{16}\.js$/);
    expect(site.url('app.css')).toMatch(/^\/console\/assets\/app\.[0-9a-f]{16}\.css$/);
    expect(siteWith('other content').site.url('app.js')).not.toBe(site.url('app.js'));
    expect(() => site.url('missing.js')).toThrow("has no file 'missing.js'");
  });

  test('a file: its bytes, its type, a year of immutable caching, an ETag and the security headers', async () => {
    const { site, get, content } = siteWith();
    const response = await get(site.url('app.js'));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(content);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{16}"$/);
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  test('If-None-Match with the ETag answers 304 with no body; another ETag gets the file', async () => {
    const { site, get } = siteWith();
    const etag = (await get(site.url('app.js'))).headers.get('etag')!;
    const again = await get(site.url('app.js'), { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toContain('immutable');
    expect((await get(site.url('app.js'), { 'if-none-match': `W/${etag}, "other"` })).status).toBe(304);
    expect((await get(site.url('app.js'), { 'if-none-match': '"stale"' })).status).toBe(200);
  });

  test('gzip when the browser accepts it (once compressed, off the event loop), under its own ETag', async () => {
    const { site, get, content } = siteWith('console.log("gzip me");\n'.repeat(500));
    const plain = await get(site.url('app.js'));
    const gzip = { 'accept-encoding': 'gzip, deflate, br' };
    // The first request starts the compression and is answered uncompressed meanwhile.
    const first = await get(site.url('app.js'), gzip);
    expect(first.status).toBe(200);
    if (first.headers.get('content-encoding') !== 'gzip') expect(await first.text()).toBe(content);
    let zipped = first;
    for (let attempt = 0; attempt < 100 && zipped.headers.get('content-encoding') !== 'gzip'; attempt++) {
      await Bun.sleep(20);
      zipped = await get(site.url('app.js'), gzip);
    }
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toBe('accept-encoding');
    expect(zipped.headers.get('etag')).not.toBe(plain.headers.get('etag'));
    const body = new Uint8Array(await zipped.arrayBuffer());
    expect(body.length).toBeLessThan(content.length);
    expect(gunzipSync(body).toString('utf8')).toBe(content);
    const etag = zipped.headers.get('etag')!;
    expect((await get(site.url('app.js'), { 'accept-encoding': 'gzip', 'if-none-match': etag })).status).toBe(304);
    // Same file, same hash: a copy cached in either encoding revalidates.
    expect((await get(site.url('app.js'), { 'if-none-match': etag })).status).toBe(304);
  });

  test('integrity is the sha384 Subresource Integrity value of the bytes served', () => {
    const { site, content } = siteWith();
    expect(site.integrity('app.js')).toBe(`sha384-${createHash('sha384').update(content).digest('base64')}`);
  });

  test('a page carries the same headers and is revalidated, not cached', async () => {
    const { get } = siteWith();
    const response = await get('/console');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('an unknown or outdated name is not served', async () => {
    const { get } = siteWith();
    expect((await get('/console/assets/app.0000000000000000.js')).status).toBe(404);
  });

  test('a missing file or two files with one name fail when the site is declared', () => {
    expect(() => staticSite({ name: 'x', prefix: '/x', files: ['/nonexistent/app.js'], csp: CSP })).toThrow();
    const a = fixture('same.js', 'a');
    const b = fixture('same.js', 'b');
    expect(() => staticSite({ name: 'x', prefix: '/x', files: [a, b], csp: CSP })).toThrow("two files named 'same.js'");
  });
});

describe('assertSelfHosted: the CSP a site may declare', () => {
  test('same-origin policies pass', () => {
    expect(() => assertSelfHosted(CSP)).not.toThrow();
    expect(() =>
      assertSelfHosted({ 'script-src': ["'self'", "'sha256-abc='"], 'style-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'], 'frame-ancestors': ["'none'"] }),
    ).not.toThrow();
  });

  test('another host anywhere is refused', () => {
    expect(() => assertSelfHosted({ ...CSP, 'script-src': ["'self'", 'https://cdn.jsdelivr.net'] })).toThrow('never another host');
    expect(() => assertSelfHosted({ ...CSP, 'font-src': ['https://fonts.scalar.com'] })).toThrow('never another host');
    expect(() => assertSelfHosted({ ...CSP, 'connect-src': ['*'] })).toThrow('never another host');
    expect(() => assertSelfHosted({ ...CSP, 'img-src': ['https:'] })).toThrow('never another host');
  });

  test('inline script, eval and data: script are refused', () => {
    expect(() => assertSelfHosted({ ...CSP, 'script-src': ["'self'", "'unsafe-inline'"] })).toThrow('script runs only');
    expect(() => assertSelfHosted({ ...CSP, 'script-src': ["'self'", "'unsafe-eval'"] })).toThrow('never another host or eval');
    expect(() => assertSelfHosted({ ...CSP, 'script-src-elem': ["'self'", 'data:'] })).toThrow('script runs only');
    expect(() => assertSelfHosted({ 'default-src': ["'self'", "'unsafe-inline'"] })).toThrow('script runs only');
    expect(() => assertSelfHosted({ 'style-src': ["'self'"] })).toThrow('must set script-src');
  });

  test('serializes directives in order', () => {
    expect(serializeCsp({ 'default-src': ["'none'"], 'upgrade-insecure-requests': [] })).toBe("default-src 'none'; upgrade-insecure-requests");
  });
});
