import { isIP } from 'node:net';
import { BlockedTarget, hostOf, resolveDeliveryTarget, type Resolver } from './ssrf';

/** What one HTTP attempt came to; an exhaustive set the worker switches on. */
export type SendOutcome =
  | { kind: 'response'; status: number; body: string; retryAfterMs?: number; durationMs: number }
  | { kind: 'network'; error: string; durationMs: number }
  | { kind: 'blocked'; error: string; durationMs: number };

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  resolve?: Resolver;
  /** Extra TLS options (tests pass a CA for a self-signed receiver). */
  tls?: { ca?: string };
  /** Aborts the send from outside (shutdown). */
  signal?: AbortSignal;
}

export const MAX_STORED_RESPONSE_BYTES = 4096;

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Reads at most `limit` bytes of a body, then lets go of the rest. */
async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  // Cut on a byte boundary, then drop a trailing partial UTF-8 sequence.
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8').replace(/\uFFFD+$/, '');
}

/** A short, secret-free description of a network failure (no URL: it may carry a token). */
function describe(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `timeout: no response within ${timeoutMs} ms`;
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (code ? `${code}: ${message}` : message).slice(0, 500);
}

/**
 * POSTs one signed webhook. The host is resolved and checked here, then the request is
 * sent to that exact IP with `Host` and TLS SNI/certificate name set to the original
 * host, so what was checked is what is connected to. Redirects are never followed (a
 * 3xx is an answer like any other), the whole exchange is bounded by `timeoutMs`.
 */
export async function sendWebhook(
  target: string,
  body: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let url: URL;
  try {
    url = new URL(target);
    const resolved = await resolveDeliveryTarget(url, { allowPrivate: options.allowPrivate, resolve: options.resolve });
    const pinned = new URL(url);
    pinned.hostname = resolved.family === 6 ? `[${resolved.address}]` : resolved.address;
    const response = await fetch(pinned, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal,
      headers: {
        ...headers,
        host: url.host,
        'content-type': 'application/json',
        'user-agent': 'NimbusPay-Webhooks/1',
      },
      // SNI and the certificate check use the real host name (never an IP literal).
      tls: { ...(isIP(hostOf(url)) ? {} : { serverName: hostOf(url) }), ...(options.tls ?? {}) },
    } as RequestInit);
    const text = await readCapped(response, MAX_STORED_RESPONSE_BYTES);
    const retryAfterMs = response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
    return { kind: 'response', status: response.status, body: text, retryAfterMs, durationMs: elapsed() };
  } catch (error) {
    if (error instanceof BlockedTarget) return { kind: 'blocked', error: error.message, durationMs: elapsed() };
    return { kind: 'network', error: describe(error, options.timeoutMs), durationMs: elapsed() };
  }
}
