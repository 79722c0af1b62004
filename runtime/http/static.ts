import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { gzip } from 'node:zlib';
import { Elysia } from 'elysia';

/**
 * Browser UIs that NimbusPay serves itself (the API reference at /docs, later the support
 * console): every file comes from this process, named by its content hash, under one
 * Content-Security-Policy. A payments origin must not run script it did not ship (PCI DSS
 * 6.4.3), and an air-gapped cluster has no CDN to fetch it from.
 */

/** CSP directive name -> sources, e.g. `{ 'script-src': ["'self'"] }`. */
export type ContentSecurityPolicy = Readonly<Record<string, readonly string[]>>;

export interface StaticSiteOptions {
  /** Names the Elysia instance (`nimbus:static:<name>`), so one site is mounted once. */
  name: string;
  /** URL prefix of the files, e.g. `/docs/assets`. */
  prefix: string;
  /** Absolute paths of the files to serve (an npm package's build, a plugin's own folder). */
  files: readonly string[];
  /** Sent with every file and page of the site; only same-origin sources are accepted. */
  csp: ContentSecurityPolicy;
}

export interface StaticSite {
  /** The hashed URL of one of `files`, given its base name (`standalone.js`). */
  url(file: string): string;
  /** Its Subresource Integrity value (`sha384-...`), for `<script integrity>`. */
  integrity(file: string): string;
  /** A page of the site (HTML built around `url()`), sent with the site's headers, never cached stale. */
  page(html: string): Response;
  /** The routes serving the files (hidden from the OpenAPI document). */
  routes(): Elysia;
  readonly headers: Readonly<Record<string, string>>;
}

interface Asset {
  readonly url: string;
  readonly type: string;
  readonly etag: string;
  readonly integrity: string;
  readonly loaded: Loaded;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** A hashed name changes with its content, so a browser may keep it for a year without asking. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Loaded {
  readonly body: Uint8Array;
  readonly digest: Buffer;
  /** Bundles shrink about 3.5 times; compressed once per process, off the event loop. */
  gzip?: Uint8Array;
  gzipping?: boolean;
}
/** Reading and hashing a multi-megabyte bundle once per process, not once per app built (tests build many). */
const loaded = new Map<string, Loaded>();

function load(path: string): Loaded {
  let entry = loaded.get(path);
  if (!entry) {
    const body = new Uint8Array(readFileSync(path));
    // One digest serves both the name (hex prefix) and Subresource Integrity (base64).
    entry = { body, digest: createHash('sha384').update(body).digest() };
    loaded.set(path, entry);
  }
  return entry;
}

/**
 * Starts compressing on the first request that could use it, on zlib's thread pool: a
 * synchronous level-9 gzip of a 3.5 MB bundle would hold every other request for a
 * quarter of a second. Until it is ready the file goes out uncompressed, which is correct.
 */
function gzipped(entry: Loaded): Uint8Array | undefined {
  if (!entry.gzip && !entry.gzipping) {
    entry.gzipping = true;
    gzip(entry.body, { level: 9 }, (error, result) => {
      entry.gzipping = false;
      if (!error) entry.gzip = new Uint8Array(result);
    });
  }
  return entry.gzip;
}

/** The hashed public name: `standalone.js` -> `standalone.3f9c0a1b2d4e5f60.js`. */
function hashedName(path: string, hash: string): string {
  const extension = extname(path);
  return `${basename(path, extension)}.${hash}${extension}`;
}

const KEYWORDS = new Set(["'self'", "'none'", "'unsafe-inline'", 'data:', 'blob:']);
const HASH_OR_NONCE = /^'(sha256|sha384|sha512|nonce)-[A-Za-z0-9+/=_-]+'$/;
const SCRIPT_DIRECTIVES = ['script-src', 'script-src-elem', 'script-src-attr', 'default-src'];

/**
 * The guarantee every site gets, checked when the site is declared rather than trusted to
 * review: no foreign host anywhere, and script only from this origin (no inline, no eval).
 */
export function assertSelfHosted(csp: ContentSecurityPolicy): void {
  const script = csp['script-src'] ?? csp['default-src'];
  if (!script) throw new Error("A static site's CSP must set script-src (or default-src).");
  for (const [directive, sources] of Object.entries(csp)) {
    if (!/^[a-z-]+$/.test(directive)) throw new Error(`CSP directive '${directive}' is not a directive name.`);
    for (const source of sources) {
      if (!KEYWORDS.has(source) && !HASH_OR_NONCE.test(source)) {
        throw new Error(`CSP ${directive} '${source}' is not allowed: a static site names its own origin ('self'), data:, blob:, hashes or nonces, never another host or eval.`);
      }
      const scriptLike = SCRIPT_DIRECTIVES.includes(directive) && (directive !== 'default-src' || !csp['script-src']);
      if (scriptLike && (source === "'unsafe-inline'" || source === 'data:' || source === 'blob:')) {
        throw new Error(`CSP ${directive} '${source}': script runs only from files this process serves.`);
      }
    }
  }
}

export function serializeCsp(csp: ContentSecurityPolicy): string {
  return Object.entries(csp)
    .map(([directive, sources]) => [directive, ...sources].join(' '))
    .join('; ');
}

/** Headers every response of a site carries, pages and files alike. */
function securityHeaders(csp: ContentSecurityPolicy): Record<string, string> {
  return {
    'content-security-policy': serializeCsp(csp),
    'x-content-type-options': 'nosniff',
    // The reference links out (licence, RFCs): those sites need not learn internal URLs.
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  };
}

/** True when `If-None-Match` lists this ETag (or `*`); weak and strong forms compare equal here. */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

function acceptsGzip(request: Request): boolean {
  return /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
}

function serveAsset(asset: Asset, request: Request, headers: Record<string, string>): Response {
  const compressed = acceptsGzip(request) ? gzipped(asset.loaded) : undefined;
  // A different byte sequence needs a different strong ETag (RFC 9110 8.8.3).
  const etag = compressed ? `"${asset.etag}-gz"` : `"${asset.etag}"`;
  const common = { ...headers, 'cache-control': IMMUTABLE, etag, vary: 'accept-encoding' };
  // Either form's ETag revalidates: both are the same file, named by the same hash.
  const ifNoneMatch = request.headers.get('if-none-match');
  if (matches(ifNoneMatch, `"${asset.etag}"`) || matches(ifNoneMatch, `"${asset.etag}-gz"`)) {
    return new Response(null, { status: 304, headers: common });
  }
  if (!compressed) return new Response(asset.loaded.body, { headers: { ...common, 'content-type': asset.type } });
  return new Response(compressed, { headers: { ...common, 'content-type': asset.type, 'content-encoding': 'gzip' } });
}

/** Declares a site: its files are read and hashed now, so a missing file fails at start, not on first visit. */
export function staticSite(options: StaticSiteOptions): StaticSite {
  assertSelfHosted(options.csp);
  const prefix = options.prefix.replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9/_-]+$/.test(prefix)) throw new Error(`Static prefix '${options.prefix}' must be an absolute path.`);
  const headers = securityHeaders(options.csp);
  const byName = new Map<string, Asset>();
  for (const path of options.files) {
    const name = basename(path);
    if (byName.has(name)) throw new Error(`Static site '${options.name}' lists two files named '${name}'.`);
    const entry = load(path);
    const hash = entry.digest.toString('hex').slice(0, 16);
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    const integrity = `sha384-${entry.digest.toString('base64')}`;
    byName.set(name, { url: `${prefix}/${hashedName(path, hash)}`, type, etag: hash, integrity, loaded: entry });
  }

  function asset(file: string): Asset {
    const found = byName.get(file);
    if (!found) throw new Error(`Static site '${options.name}' has no file '${file}'.`);
    return found;
  }

  return {
    headers,
    url: (file) => asset(file).url,
    integrity: (file) => asset(file).integrity,
    page(html) {
      return new Response(html, {
        headers: { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
      });
    },
    routes() {
      const app = new Elysia({ name: `nimbus:static:${options.name}` });
      for (const file of byName.values()) {
        app.get(file.url, ({ request }) => serveAsset(file, request, headers), { detail: { hide: true } });
      }
      return app;
    },
  };
}
