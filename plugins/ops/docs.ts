import { createRequire } from 'node:module';
import { openapi } from '@elysiajs/openapi';
import { Elysia } from 'elysia';
import { staticSite, type ContentSecurityPolicy } from '../../runtime/http/static';
// The import attribute lets Deno load the JSON too (main.deno.ts).
import pkg from '../../package.json' with { type: 'json' };

export const DOCS_PATH = '/docs';
export const SPEC_PATH = '/docs/json';
export const DOCS_ASSETS = '/docs/assets';

/**
 * Scalar's browser bundle, from the version package-lock.json pins (never a CDN's
 * "latest"): @elysiajs/openapi's own page loads it from jsDelivr, so a blank page offline
 * and third-party script on the payments origin.
 */
const SCALAR_BUNDLE = createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');

/**
 * Script only from this origin, and nothing fetched from anywhere else. Styles allow
 * 'unsafe-inline' because the bundle injects its stylesheet and theme as <style> elements
 * at run time (Vue components, contents vary with the theme, so no stable hash); with
 * every fetch directive limited to 'self', injected CSS cannot send data off the origin.
 * data: images and fonts are icons the bundle inlines.
 */
export const DOCS_CSP: ContentSecurityPolicy = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  // The document, and "Send request" from the reference straight to this API.
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * What the bundle reads from `#api-reference[data-configuration]`. Every option here
 * switches off something that would call scalar.com: "Send request" goes through
 * proxy.scalar.com unless proxyUrl is set (an empty one means direct), the Inter font
 * comes from fonts.scalar.com, the developer toolbar (shown on localhost) uploads the
 * document to share it, the agent talks to Scalar's API, and the client button opens
 * client.scalar.com.
 */
const SCALAR_CONFIGURATION = {
  url: SPEC_PATH,
  proxyUrl: '',
  withDefaultFonts: false,
  showDeveloperTools: 'never',
  hideClientButton: true,
  agent: { disabled: true },
  telemetry: false,
  _integration: 'elysiajs',
} as const;

/** Attribute-safe text: the configuration is JSON inside a double-quoted attribute. */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

/**
 * The reference page: no inline script (the bundle mounts itself next to #api-reference
 * and reads its configuration from the data attribute), no inline style, no foreign URL.
 * The favicon is an empty data: URL so the browser does not ask for /favicon.ico.
 */
export function renderDocsPage(bundleUrl: string, integrity: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(`NimbusPay API reference (v${pkg.version})`)}</title>
    <link rel="icon" href="data:,">
  </head>
  <body>
    <div id="api-reference" hidden data-configuration="${escapeHtml(JSON.stringify(SCALAR_CONFIGURATION))}"></div>
    <script src="${escapeHtml(bundleUrl)}" integrity="${escapeHtml(integrity)}"></script>
  </body>
</html>
`;
}

type OpenapiOptions = NonNullable<Parameters<typeof openapi>[0]>;

const DOCUMENTATION: OpenapiOptions['documentation'] = {
  info: {
    title: 'NimbusPay',
    version: pkg.version,
    description:
      'Multi-tenant B2B payments: card payments and bank transfers through one REST API. ' +
      'Authenticate with OAuth2 client credentials (POST /oauth/token) and send the JWT as a Bearer token. ' +
      'Money is in integer minor units. Every POST under /v1 accepts an Idempotency-Key header.',
    license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
  },
  tags: [{ name: 'Operations', description: 'Health, metrics and documentation.' }],
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /oauth/token.' },
    },
  },
};

/**
 * The OpenAPI document at /docs/json (from @elysiajs/openapi, its page switched off) and
 * our own reference page at /docs over the self-hosted bundle.
 */
export function docsPlugin() {
  const site = staticSite({ name: 'docs', prefix: DOCS_ASSETS, files: [SCALAR_BUNDLE], csp: DOCS_CSP });
  const page = renderDocsPage(site.url('standalone.js'), site.integrity('standalone.js'));
  return new Elysia({ name: 'nimbus:docs' })
    .use(
      openapi({
        path: DOCS_PATH,
        specPath: SPEC_PATH,
        provider: null,
        // What the document declares (and the version its schemas are written for: JSON
        // Schema 2020-12, nullable as `type: [T, "null"]`). `documentation.openapi` is ignored.
        openapiVersion: '3.1.2',
        // staticFile: false, or every path with a dot is left out, /.well-known/* included
        // (static assets hide themselves).
        exclude: { paths: [DOCS_PATH, SPEC_PATH], staticFile: false },
        documentation: DOCUMENTATION,
      }),
    )
    .use(site.routes())
    .get(DOCS_PATH, () => site.page(page), { detail: { hide: true } });
}
