/**
 * The drills' HTTP client: every POST carries an Idempotency-Key and is sent again with
 * the same key, at the next replica, after anything that is not a final answer (network
 * error, client timeout, 5xx other than a final processor_unavailable, 409
 * idempotency_key_in_use, 429), within a bounded horizon. Every request is counted.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Answer {
  status: number;
  body: Json;
  text: string;
  ms: number;
  headers: Headers;
}

/** A final answer, or the last thing seen when the horizon ran out (`unresolved`). */
export interface Final extends Answer {
  attempts: number;
  unresolved: boolean;
  /** What the last attempt got when unresolved: 'network', 'timeout', '409 idempotency_key_in_use', ... */
  last: string;
}

export class Stats {
  requests = 0;
  retried = 0;
  /** Client-side timeouts: the server held a request past `timeoutMs`. */
  hangs = 0;
  networkErrors = 0;
  /** Answers by `status code` (e.g. `503 database_unavailable`). */
  byStatus = new Map<string, number>();
  /** 5xx answers without the API error envelope (or a 500): the drills count these as defects. */
  badErrors: string[] = [];
  latencies: number[] = [];
  /** Latency samples with the time they were taken, for drift over a soak. */
  timed: Array<{ at: number; ms: number }> = [];
  keepTimed = false;
  /** The slowest answer seen per label (e.g. how long a 503 took while the database was gone). */
  slowest = new Map<string, number>();
  /** Requests waiting for an answer, by replica base URL. */
  inFlight = new Map<string, number>();

  count(label: string): void {
    this.byStatus.set(label, (this.byStatus.get(label) ?? 0) + 1);
  }

  statusTable(): string {
    return [...this.byStatus.entries()].sort((a, b) => b[1] - a[1]).map(([label, n]) => `${label}: ${n}`).join(', ');
  }

  of(prefix: string): number {
    let total = 0;
    for (const [label, n] of this.byStatus) if (label === prefix || label.startsWith(`${prefix} `)) total += n;
    return total;
  }
}

export interface ClientOptions {
  /** The replicas to spread requests over; a retry goes to the next one. */
  urls: () => string[];
  token: () => string;
  stats: Stats;
  /** Per attempt: longer than this is a hang (counted, then retried). */
  timeoutMs?: number;
  /** How long one logical request keeps retrying before it is reported unresolved. */
  horizonMs?: number;
}

let roundRobin = 0;

function isEnvelope(body: Json): boolean {
  return Boolean(body && typeof body === 'object' && body.error && typeof body.error.type === 'string' && typeof body.error.code === 'string');
}

export function createClient(options: ClientOptions) {
  const { stats } = options;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const horizonMs = options.horizonMs ?? 60_000;

  async function once(base: string, method: string, path: string, body: unknown, key: string | undefined): Promise<Answer | { failure: 'network' | 'timeout'; ms: number }> {
    const started = performance.now();
    stats.requests += 1;
    stats.inFlight.set(base, (stats.inFlight.get(base) ?? 0) + 1);
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token()}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      let parsed: Json;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      const code = parsed?.error?.code;
      const label = code ? `${response.status} ${code}` : String(response.status);
      stats.count(label);
      stats.slowest.set(label, Math.max(stats.slowest.get(label) ?? 0, ms));
      if (response.status === 503 && code === 'database_unavailable' && !response.headers.get('retry-after') && stats.badErrors.length < 50) {
        stats.badErrors.push(`${method} ${path} -> 503 database_unavailable without Retry-After`);
      }
      if (response.status >= 500 && (response.status === 500 || !isEnvelope(parsed))) {
        if (stats.badErrors.length < 50) stats.badErrors.push(`${method} ${path} -> ${response.status} ${text.slice(0, 300)}`);
      }
      stats.latencies.push(ms);
      if (stats.keepTimed) stats.timed.push({ at: Date.now(), ms });
      return { status: response.status, body: parsed, text, ms, headers: response.headers };
    } catch (error) {
      const ms = performance.now() - started;
      const timeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      if (timeout) stats.hangs += 1;
      else stats.networkErrors += 1;
      stats.count(timeout ? 'timeout' : 'network');
      return { failure: timeout ? 'timeout' : 'network', ms };
    } finally {
      stats.inFlight.set(base, (stats.inFlight.get(base) ?? 1) - 1);
    }
  }

  /** Whether an answer is final for a client that holds an idempotency key. */
  function retryable(answer: Answer): boolean {
    const code = answer.body?.error?.code;
    if (answer.status === 409 && code === 'idempotency_key_in_use') return true;
    if (answer.status === 429) return true;
    if (answer.status === 503 && code === 'processor_unavailable' && !answer.headers.get('retry-after')) return false;
    return answer.status >= 500;
  }

  async function send(method: string, path: string, body?: unknown, key?: string): Promise<Final> {
    const deadline = Date.now() + horizonMs;
    let attempts = 0;
    let last = '';
    let lastAnswer: Answer | undefined;
    for (;;) {
      const urls = options.urls();
      const base = urls[roundRobin++ % urls.length]!;
      attempts += 1;
      if (attempts > 1) stats.retried += 1;
      const result = await once(base, method, path, body, key);
      let waitMs: number;
      if ('failure' in result) {
        last = result.failure;
        waitMs = 200;
      } else {
        lastAnswer = result;
        if (!retryable(result)) return { ...result, attempts, unresolved: false, last: String(result.status) };
        last = `${result.status} ${result.body?.error?.code ?? ''}`.trim();
        const retryAfter = Number(result.headers.get('retry-after'));
        waitMs = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 2000) : 250;
      }
      // A GET has no key: it is simply asked again, like any reader would.
      if (Date.now() + waitMs > deadline) {
        return {
          ...(lastAnswer ?? { status: 0, body: undefined, text: '', ms: 0, headers: new Headers() }),
          attempts,
          unresolved: true,
          last,
        };
      }
      await Bun.sleep(waitMs * (0.75 + Math.random() / 2) * Math.min(attempts, 4) ** 0.5);
    }
  }

  return { send, once };
}

export type DrillClient = ReturnType<typeof createClient>;

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
