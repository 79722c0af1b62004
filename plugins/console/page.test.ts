import { describe, expect, test } from 'bun:test';
import { assertSelfHosted, serializeCsp } from '../../runtime/http/static';
import { CONSOLE_CSP, renderConsolePage } from './page';

const ASSETS = { js: '/console/assets/console.0123456789abcdef.js', jsIntegrity: 'sha384-abc', css: '/console/assets/console.0123456789abcdef.css', cssIntegrity: 'sha384-def' };

describe('the console page', () => {
  test.each([
    ['production', 'env-production', 'PRODUCTION'],
    ['staging', 'env-staging', 'Staging environment'],
    ['development', 'env-development', 'Development environment'],
  ] as const)('%s: the banner is in the HTML itself, before any script runs', (env, className, text) => {
    const html = renderConsolePage(env, ASSETS);
    expect(html).toContain(`<div class="env-banner ${className}" role="note" aria-label="Environment">${text}`);
    expect(html).toContain(`data-environment="${env}"`);
  });

  test('no inline script or style; the bundle and stylesheet with Subresource Integrity', () => {
    const html = renderConsolePage('production', ASSETS);
    expect(html.match(/<script\b[^>]*>/g)).toEqual([`<script type="module" src="${ASSETS.js}" integrity="sha384-abc">`]);
    expect(/<style|\sstyle=|\son[a-z]+=/i.test(html)).toBe(false);
    expect(html).toContain(`<link rel="stylesheet" href="${ASSETS.css}" integrity="sha384-def">`);
  });

  test("the CSP: script and style from this origin only, connect-src 'self', nothing inline, no framing", () => {
    expect(() => assertSelfHosted(CONSOLE_CSP)).not.toThrow();
    const header = serializeCsp(CONSOLE_CSP);
    expect(header).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(header).not.toContain('unsafe');
  });
});
