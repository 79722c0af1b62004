import { join } from 'node:path';
import { Elysia } from 'elysia';
import type { Config } from '../../runtime/config';
import { type ContentSecurityPolicy, staticSite } from '../../runtime/http/static';
import type { AnyRegistry } from '../../runtime/registry';
import { PAYMENT_STATUSES } from '../payments/model';
// The import attribute lets Deno load the JSON too (main.deno.ts).
import pkg from '../../package.json' with { type: 'json' };
import { BUNDLE_FILES, DIST_DIR } from './bundle';

export const CONSOLE_PATH = '/console';
export const CONSOLE_ASSETS = '/console/assets';
export const CONSOLE_CONFIG = '/console/config.json';

/**
 * Stricter than the API reference's: the console's own bundle injects no style element,
 * so no 'unsafe-inline' anywhere; the API it calls is this origin (connect-src 'self');
 * forms go nowhere by themselves (form-action 'none'), so a sign-in form submitted
 * without script cannot put a secret in a URL.
 */
export const CONSOLE_CSP: ContentSecurityPolicy = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

const BANNERS = {
  production: 'PRODUCTION: changes here affect real merchants and real money',
  staging: 'Staging environment',
  development: 'Development environment',
} as const;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);

/**
 * The one HTML page: the environment banner is rendered here, outside the app, so it
 * shows on every view, before the script runs and even if it fails. No inline script or
 * style; the bundle and stylesheet carry Subresource Integrity.
 */
export function renderConsolePage(env: Config['env'], assets: { js: string; jsIntegrity: string; css: string; cssIntegrity: string }): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>NimbusPay support console</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="${escapeHtml(assets.css)}" integrity="${escapeHtml(assets.cssIntegrity)}">
    <script type="module" src="${escapeHtml(assets.js)}" integrity="${escapeHtml(assets.jsIntegrity)}"></script>
  </head>
  <body data-environment="${escapeHtml(env)}">
    <div class="env-banner env-${escapeHtml(env)}" role="note" aria-label="Environment">${escapeHtml(BANNERS[env])}</div>
    <div id="app"><noscript><p>The support console needs JavaScript.</p></noscript></div>
  </body>
</html>
`;
}

/** `GET /console` (the page), `/console/assets/*` (the hashed bundle) and `/console/config.json`. */
export function consolePages(deps: { config: Config; registry: Pick<AnyRegistry, 'paymentMethodTypes' | 'processorIds'> }) {
  const site = staticSite({ name: 'console', prefix: CONSOLE_ASSETS, files: BUNDLE_FILES.map((file) => join(DIST_DIR, file)), csp: CONSOLE_CSP });
  const page = renderConsolePage(deps.config.env, {
    js: site.url('console.js'),
    jsIntegrity: site.integrity('console.js'),
    css: site.url('console.css'),
    cssIntegrity: site.integrity('console.css'),
  });
  // What the page needs to know before sign-in: nothing secret, nothing of a tenant (the
  // methods and processors are in the public OpenAPI document too).
  const settings = JSON.stringify({
    environment: deps.config.env,
    version: pkg.version,
    payment_methods: deps.registry.paymentMethodTypes,
    processors: deps.registry.processorIds,
    statuses: PAYMENT_STATUSES,
  });
  const hidden = { detail: { hide: true } };
  return new Elysia({ name: 'nimbus:console:pages' })
    .use(site.routes())
    .get(CONSOLE_PATH, () => site.page(page), hidden)
    .get(`${CONSOLE_PATH}/`, () => site.page(page), hidden)
    .get(
      CONSOLE_CONFIG,
      () => new Response(settings, { headers: { ...site.headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' } }),
      hidden,
    );
}
