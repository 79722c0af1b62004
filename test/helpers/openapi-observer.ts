import { contractFor, type Exchange, isJsonMediaType, mediaTypeOf, type Violation, violationTable } from './openapi-contract';

/**
 * Every response a test receives from NimbusPay is checked against the OpenAPI document
 * the app serves (see ./openapi-contract.ts):
 * - in-process: apps made by test/helpers/app.ts have their `handle` wrapped
 *   ({@link observeApp}), which also covers simulator callbacks delivered in-process;
 * - real sockets: test/setup/openapi.ts wraps `fetch` ({@link observeFetch}); a
 *   response counts as NimbusPay's when it comes from a loopback address and carries
 *   `X-Request-Id` (every NimbusPay response does; webhook receivers and the Stripe test
 *   server do not), and its path is an operation of the document.
 *
 * Violations are collected for the whole run; test/setup/openapi.ts prints them as a
 * table after the last file and fails the run when NIMBUS_OPENAPI_STRICT=1 (or CI=true).
 */

export const SPEC_PATH = '/docs/json';

/** NIMBUS_OPENAPI_CONTRACT=off observes nothing (to tell whether the observer changes an outcome). */
export const observing = process.env.NIMBUS_OPENAPI_CONTRACT !== 'off';

/** Whether violations fail the run (otherwise they are only printed): in CI, or when asked; NIMBUS_OPENAPI_STRICT=0 never. */
export function strictContract(env: Record<string, string | undefined> = process.env): boolean {
  if (env.NIMBUS_OPENAPI_STRICT === '1') return true;
  if (env.NIMBUS_OPENAPI_STRICT === '0') return false;
  return env.CI === 'true';
}

export interface Ledger {
  checked: number;
  /** Responses to paths that are no operation of the document (unknown URLs, /docs assets). */
  unmatched: number;
  violations: Violation[];
  /** Failures of the observer itself (a document that could not be read): reported, never swallowed. */
  errors: string[];
}

const GLOBAL_KEY = Symbol.for('nimbus.openapi.ledger');
const holder = globalThis as unknown as Record<symbol, Ledger | undefined>;
/** One ledger per process, whichever way this module was imported. */
export const ledger: Ledger = (holder[GLOBAL_KEY] ??= { checked: 0, unmatched: 0, violations: [], errors: [] });

/** Apps (and socket origins) whose violations a test collects itself (the test that breaks a schema on purpose). */
const diverted = new WeakMap<object, Violation[]>();
const divertedOrigins = new Map<string, Violation[]>();

/**
 * From now on, the violations of `target` (an app, or the origin of a server, e.g.
 * `http://127.0.0.1:4321`) go to the returned list instead of the run's ledger.
 */
export function divertViolations(target: object | string): Violation[] {
  const sink: Violation[] = [];
  if (typeof target === 'string') divertedOrigins.set(new URL(target).origin, sink);
  else diverted.set(target, sink);
  return sink;
}

/**
 * `test/e2e/refunds.test.ts:42`: the first test-file frame of the current stack, else the
 * first frame of the project outside this observer (a helper that sent the request).
 */
export function callerOf(stack: string | undefined): string | undefined {
  const frames = (stack ?? '').split('\n');
  for (const line of frames) {
    const match = /((?:test|runtime|plugins|processors|webhooks)\/[^\s():]+\.test\.ts):(\d+)/.exec(line);
    if (match) return `${match[1]}:${match[2]}`;
  }
  for (const line of frames) {
    if (line.includes('node_modules') || line.includes('openapi-observer') || line.includes('helpers/app.ts')) continue;
    const match = /((?:test|runtime|plugins|processors|webhooks)\/[^\s():]+\.ts):(\d+)/.exec(line);
    if (match) return `${match[1]}:${match[2]}`;
  }
  return undefined;
}

interface Observed {
  document: Promise<string>;
  exchange: Exchange;
  sink: Violation[];
}

/**
 * Responses waiting to be checked. Checking is deferred to {@link flushObserved} (run
 * after the last file, or by a test that wants its verdict): compiling schemas while a
 * test runs would slow the very requests some tests time against the simulator.
 */
const queue: Observed[] = [];

async function enqueue(document: Promise<string>, exchange: Omit<Exchange, 'body'>, response: Response, sink: Violation[]): Promise<void> {
  const body = isJsonMediaType(mediaTypeOf(response.headers.get('content-type'))) ? await response.clone().text() : undefined;
  queue.push({ document, exchange: { ...exchange, headers: new Headers(response.headers), body }, sink });
}

/** Checks every response observed so far against its document; violations land in their sinks. */
export async function flushObserved(): Promise<void> {
  while (queue.length > 0) {
    const { document, exchange, sink } = queue.shift()!;
    try {
      const violations = contractFor(await document).check(exchange);
      if (violations === undefined || exchange.method === 'HEAD') {
        ledger.unmatched++;
        continue;
      }
      ledger.checked++;
      sink.push(...violations);
    } catch (error) {
      ledger.errors.push(`${exchange.method} ${new URL(exchange.url).pathname}: ${failure(error)}`);
    }
  }
}

function failure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Handle = (request: Request) => Promise<Response>;

/** How an observed app finds its document: its own /docs/json, else the default app's. */
export interface ObserveOptions {
  /** Apps sharing a key serve the same document (built from the same definition): it is read once. */
  documentKey?: string;
  /** The document of an app that serves none (a worker app, a definition without the docs plugin). */
  fallbackDocument?: () => Promise<string>;
}

const documents = new Map<string, Promise<string>>();

async function documentOf(handle: Handle, options: ObserveOptions): Promise<string> {
  const response = await handle(new Request(`http://localhost${SPEC_PATH}`));
  if (response.status === 200) return response.text();
  await response.arrayBuffer().catch(() => undefined);
  if (options.fallbackDocument) return options.fallbackDocument();
  throw new Error(`GET ${SPEC_PATH} answered ${response.status} and no fallback document was given`);
}

/**
 * Wraps `app.handle` so that every response it gives is checked against the app's
 * document. The document is read through the unwrapped handle, once per app (or once per
 * `documentKey`), on the first response.
 */
export function observeApp<A extends { handle: Handle }>(app: A, options: ObserveOptions = {}): A {
  if (!observing) return app;
  const original: Handle = app.handle.bind(app);
  let document: Promise<string> | undefined;
  const load = () => {
    if (options.documentKey) {
      let shared = documents.get(options.documentKey);
      if (!shared) {
        shared = documentOf(original, options);
        documents.set(options.documentKey, shared);
        shared.catch(() => documents.delete(options.documentKey!));
      }
      return shared;
    }
    return (document ??= documentOf(original, options));
  };
  app.handle = async (request: Request) => {
    const where = callerOf(new Error().stack);
    const { method, url } = request;
    const response = await original(request);
    try {
      await enqueue(load(), { method, url, status: response.status, headers: response.headers, where }, response, diverted.get(app) ?? ledger.violations);
    } catch (error) {
      ledger.errors.push(`${method} ${new URL(url).pathname}: ${failure(error)}`);
    }
    return response;
  };
  return app;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const socketDocuments = new Map<string, Promise<string>>();

/**
 * Wraps `fetch` for responses that NimbusPay servers give over real sockets (app.listen,
 * `nimbus serve` in a child process, Deno). The document is the server's own
 * /docs/json, else `fallbackDocument` (a `nimbus worker` serves none).
 */
export function observeFetch(fallbackDocument: () => Promise<string>): () => void {
  if (!observing) return () => {};
  const original = globalThis.fetch;
  const observed = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const where = callerOf(new Error().stack);
    const response = await original(input, init);
    try {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (!LOOPBACK.has(url.hostname) || !response.headers.has('x-request-id')) return response;
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      let document = socketDocuments.get(url.origin);
      if (!document) {
        // The server's own document; a `nimbus worker` serves none, and a server that has
        // already stopped (SIGTERM tests) cannot: both are apps of nimbus.config.ts.
        document = original(`${url.origin}${SPEC_PATH}`).then(
          (answer) => (answer.status === 200 ? answer.text() : answer.arrayBuffer().then(() => fallbackDocument())),
          () => fallbackDocument(),
        );
        socketDocuments.set(url.origin, document);
        document.catch(() => socketDocuments.delete(url.origin));
      }
      const sink = divertedOrigins.get(url.origin) ?? ledger.violations;
      await enqueue(document, { method, url: url.href, status: response.status, headers: response.headers, where }, response, sink);
    } catch (error) {
      ledger.errors.push(`${String(input instanceof Request ? input.url : input)}: ${failure(error)}`);
    }
    return response;
  };
  globalThis.fetch = Object.assign(observed, original) as typeof fetch;
  return () => {
    globalThis.fetch = original;
  };
}

/** A server on a loopback port has stopped: the next one there may serve another document. */
export function forgetSocketDocuments(): void {
  socketDocuments.clear();
}

/** The end-of-run report: always a summary line, the table when there are violations. */
export function ledgerReport(strict: boolean): string {
  const { checked, unmatched, violations, errors } = ledger;
  const mode = strict ? 'strict: violations fail the run' : 'report only: CI=true or NIMBUS_OPENAPI_STRICT=1 makes violations fail the run';
  const lines = [
    `OpenAPI contract: ${checked} responses checked against the served ${SPEC_PATH}, ${violations.length} violations, ${unmatched} responses to no documented operation (${mode}).`,
  ];
  if (violations.length > 0) lines.push('', violationTable(violations));
  if (errors.length > 0) lines.push('', `The observer could not check ${errors.length} responses; first: ${errors[0]}`);
  return lines.join('\n');
}
