import qs from 'qs';
import Stripe from 'stripe';
import { checkComponent, checkEvent, checkRequest, checkResponse, compileContract, operationFor, STRIPE_API_VERSION, type ContractProblem, type OperationId } from './contract.ts';
import { errorBody, eventJson, stripeId, type EventRecord } from './objects.ts';
import type { TestPaymentMethod } from './payment-methods.ts';
import { createStripeState, StripeApiError, type StripeState } from './state.ts';

/**
 * A stateful Stripe test server on loopback: Stripe's HTTP conventions (Bearer secret key,
 * Stripe-Version, form bodies, error envelope, idempotency keys) over the state machine of
 * state.ts. Every request is decoded with `qs` and checked against Stripe's own request
 * schema, every answer and every event against Stripe's response schemas; what fails is
 * kept in `violations` (tests assert it stays empty) and refused.
 */

export type RecordedRequest = {
  method: string;
  path: string;
  operation?: OperationId;
  params: Record<string, unknown>;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  status: number;
  replayed: boolean;
};

export type StripeTestServerOptions = {
  secretKey?: string;
  webhookSecret?: string;
  /** Clock in ms for `created` and signatures. */
  now?: () => number;
  /** Time each keyed POST spends "in flight" (a second request with its key meanwhile gets 409). */
  latencyMs?: number;
  /** Extra PaymentMethods (e.g. a `pm_...` an integrator's front end would have created). */
  paymentMethods?: Record<string, TestPaymentMethod>;
};

type Stored = { fingerprint: string; status: number; body: unknown; requestId: string } | { fingerprint: string; inFlight: true };

const stripeSdk = new Stripe('sk_test_signing_only');

export const TEST_SECRET_KEY = 'sk_test_nimbusStripeTestServer0001';
export const TEST_WEBHOOK_SECRET = 'whsec_nimbusStripeTestServerSecret0001';

function fingerprint(method: string, path: string, params: unknown): string {
  const canonical = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
      : Array.isArray(value) ? value.map(canonical) : value;
  return JSON.stringify([method, path, canonical(params)]);
}

export async function startStripeTestServer(options: StripeTestServerOptions = {}) {
  compileContract();
  const secretKey = options.secretKey ?? TEST_SECRET_KEY;
  const webhookSecret = options.webhookSecret ?? TEST_WEBHOOK_SECRET;
  const now = options.now ?? Date.now;
  const requests: RecordedRequest[] = [];
  const violations: ContractProblem[] = [];
  const events: Array<Record<string, unknown>> = [];
  const idempotency = new Map<string, Stored>();
  let currentKey: string | null = null;

  function record(event: EventRecord): void {
    const json = eventJson(event, STRIPE_API_VERSION);
    for (const problem of [checkEvent(json), event.type.startsWith('payment_intent.') ? checkComponent('payment_intent', event.object) : checkComponent('refund', event.object)]) {
      if (problem) violations.push(problem);
    }
    events.push(json);
  }

  const state: StripeState = createStripeState({
    now,
    paymentMethods: options.paymentMethods,
    emit: ({ type, object }) => record({ id: stripeId('evt'), type, created: Math.floor(now() / 1000), object, idempotencyKey: currentKey }),
  });

  /** An event as Stripe POSTs it to a webhook endpoint, signed by Stripe's own SDK. */
  async function signedEventRequest(event: Record<string, unknown>, timestamp = Math.floor(now() / 1000)): Promise<Request> {
    const payload = JSON.stringify(event, null, 2);
    const header = await stripeSdk.webhooks.generateTestHeaderStringAsync({ payload, secret: webhookSecret, timestamp });
    return new Request('http://127.0.0.1/v1/processors/stripe/webhooks', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      body: payload,
    });
  }

  function dispatch(operation: OperationId, params: Record<string, unknown>, path: Record<string, string>): unknown {
    switch (operation) {
      case 'createPaymentIntent':
        return state.createIntent(params);
      case 'retrievePaymentIntent':
        return state.retrieveIntent(path.intent!);
      case 'capturePaymentIntent':
        return state.captureIntent(path.intent!, params);
      case 'cancelPaymentIntent':
        return state.cancelIntent(path.intent!, params);
      case 'searchPaymentIntents':
        return state.searchIntents(params);
      case 'createRefund':
        return state.createRefund(params);
      case 'retrieveRefund':
        return state.retrieveRefund(path.refund!);
    }
  }

  type Answer = { status: number; body: unknown; headers?: Record<string, string> };

  function checked(operation: OperationId | undefined, answer: Answer): Answer {
    if (operation) {
      const problem = checkResponse(operation, answer.status, answer.body);
      if (problem) violations.push(problem);
    }
    return answer;
  }

  const fail = (status: number, details: Parameters<typeof errorBody>[0], headers?: Record<string, string>): Answer => ({ status, body: errorBody(details), headers });

  async function handle(request: Request, entry: Omit<RecordedRequest, 'status'>): Promise<Answer> {
    const url = new URL(request.url);
    if (request.headers.get('authorization') !== `Bearer ${secretKey}`) {
      return fail(401, { type: 'invalid_request_error', message: 'Invalid API Key provided.' });
    }
    const found = operationFor(request.method, url.pathname);
    if (!found) {
      violations.push({ where: `${request.method} ${url.pathname}`, errors: ['not an operation of the vendored contract'] });
      return fail(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${request.method}: ${url.pathname}).` });
    }
    const operation = found.id;
    entry.operation = operation;
    if (entry.stripeVersion !== STRIPE_API_VERSION) {
      violations.push({ where: operation, errors: [`Stripe-Version ${entry.stripeVersion ?? '(none)'} instead of ${STRIPE_API_VERSION}`] });
      return checked(operation, fail(400, { type: 'invalid_request_error', message: `Only Stripe-Version ${STRIPE_API_VERSION} is served here.` }));
    }
    const isPost = request.method === 'POST';
    if (isPost && !request.headers.get('content-type')?.startsWith('application/x-www-form-urlencoded')) {
      violations.push({ where: operation, errors: ['POST body is not application/x-www-form-urlencoded'] });
    }
    const raw = qs.parse(isPost ? await request.text() : url.search.slice(1), { depth: 10, arrayLimit: 100 }) as Record<string, unknown>;
    entry.params = structuredClone(raw);
    const problem = checkRequest(operation, raw, found.params);
    if (problem) {
      violations.push(problem);
      // Refused before any endpoint ran: Stripe stores no idempotent result for it.
      return checked(operation, fail(400, { type: 'invalid_request_error', code: 'parameter_invalid', message: problem.errors.join('; ') }));
    }
    if (!isPost) return checked(operation, run(operation, raw, found.params, null));
    if (!entry.idempotencyKey) {
      violations.push({ where: operation, errors: ['POST without an Idempotency-Key'] });
      return checked(operation, run(operation, raw, found.params, null));
    }
    return checked(operation, await runOnce(operation, raw, found.params, entry));
  }

  function run(operation: OperationId, params: Record<string, unknown>, path: Record<string, string>, key: string | null): Answer {
    currentKey = key;
    try {
      return { status: 200, body: dispatch(operation, params, path) };
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      return fail(error.status, error.details);
    } finally {
      currentKey = null;
    }
  }

  /** Stripe's idempotency layer: replay a finished key, refuse a key in flight or reused with other parameters. */
  async function runOnce(operation: OperationId, params: Record<string, unknown>, path: Record<string, string>, entry: Omit<RecordedRequest, 'status'>): Promise<Answer> {
    const key = entry.idempotencyKey!;
    const print = fingerprint(entry.method, entry.path, entry.params);
    const stored = idempotency.get(key);
    const keyHeader = { 'idempotency-key': key };
    if (stored && stored.fingerprint !== print) {
      const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`;
      return fail(400, { type: 'idempotency_error', message }, keyHeader);
    }
    if (stored && 'inFlight' in stored) {
      const message = 'There is currently another in-progress request using this Idempotent Key. Please try again later.';
      return fail(409, { type: 'idempotency_error', code: 'idempotency_key_in_use', message }, { ...keyHeader, 'stripe-should-retry': 'true' });
    }
    if (stored) {
      entry.replayed = true;
      return { status: stored.status, body: stored.body, headers: { ...keyHeader, 'idempotent-replayed': 'true', 'original-request': stored.requestId } };
    }
    idempotency.set(key, { fingerprint: print, inFlight: true });
    if (options.latencyMs) await Bun.sleep(options.latencyMs);
    const result = run(operation, params, path, key);
    const requestId = stripeId('req', 14);
    // Stripe keeps the result of every request whose endpoint ran (4xx and 5xx too), except 401 and 429.
    if (result.status === 429) idempotency.delete(key);
    else idempotency.set(key, { fingerprint: print, status: result.status, body: result.body, requestId });
    return { ...result, headers: { ...result.headers, ...keyHeader, 'request-id': requestId } };
  }

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const entry: Omit<RecordedRequest, 'status'> = {
        method: request.method,
        path: new URL(request.url).pathname,
        params: {},
        idempotencyKey: request.headers.get('idempotency-key'),
        stripeVersion: request.headers.get('stripe-version'),
        replayed: false,
      };
      const { status, body, headers } = await handle(request, entry);
      requests.push({ ...entry, status });
      return Response.json(body, { status, headers: { 'request-id': stripeId('req', 14), 'stripe-version': STRIPE_API_VERSION, ...headers } });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port as number,
    secretKey,
    webhookSecret,
    requests,
    violations,
    events,
    state,
    signedEventRequest,
    /** Stripe's "some time later": pending refunds settle, failing refunds fail (and their events go out). */
    settle: () => state.settle(),
    async stop(): Promise<void> {
      await server.stop(true);
    },
  };
}

export type StripeTestServer = Awaited<ReturnType<typeof startStripeTestServer>>;
