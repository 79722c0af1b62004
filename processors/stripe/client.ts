import ky, { type KyInstance } from 'ky';
import qs from 'qs';
import { ProcessorError } from '../sdk/errors.ts';
import { STRIPE_API_BASE, STRIPE_API_VERSION, type StripeCredentials } from './model.ts';

/**
 * The HTTP side of the connector: form-encoded requests over ky, pinned to one API
 * version, and the classification of what comes back. Timeouts, retries and the circuit
 * breaker are the SDK call wrapper's, so ky's own are off; the wrapper's AbortSignal
 * cancels a request it gave up on.
 */

export type StripeAnswer = { status: number; body: unknown; headers: Headers };

export type StripeRequest = {
  method: 'GET' | 'POST';
  /** Without the leading slash: `v1/payment_intents`. */
  path: string;
  /** Form body (POST) or query (GET); encoded like Stripe's own libraries (`a[b][0]=c`). */
  params?: Record<string, unknown>;
  /** Sent on every POST: the same key never acts twice at Stripe. Stripe ignores it on GET. */
  idempotencyKey?: string;
  signal: AbortSignal;
};

/**
 * Stripe answered in a way that says nothing about the outcome: 409 (this idempotency key
 * is in flight in another request, which may still succeed) or a 500 Stripe saved against
 * the key (`Stripe-Should-Retry: false`). A plain Error: the call wrapper reports it as
 * "outcome unknown" and reconciliation asks again; failing over could charge twice.
 */
export class StripeOutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StripeOutcomeUnknownError';
  }
}

/** Connection errors that happen before a request is sent: nothing reached Stripe. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ConnectionRefused', 'ENOTFOUND', 'EAI_AGAIN', 'FailedToOpenSocket', 'EHOSTUNREACH', 'ENETUNREACH']);

function encode(params: Record<string, unknown> | undefined): string {
  return qs.stringify(params ?? {}, { arrayFormat: 'indices' });
}

const clients = new WeakMap<StripeCredentials, KyInstance>();

function clientFor(credentials: StripeCredentials): KyInstance {
  let client = clients.get(credentials);
  if (!client) {
    client = ky.create({
      prefixUrl: credentials.baseUrl ?? STRIPE_API_BASE,
      timeout: false,
      retry: 0,
      throwHttpErrors: false,
      headers: {
        authorization: `Bearer ${credentials.secretKey}`,
        'stripe-version': STRIPE_API_VERSION,
        'user-agent': 'NimbusPay-Stripe-Connector/1',
      },
    });
    clients.set(credentials, client);
  }
  return client;
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined; // a proxy's HTML error page, say: classified by status alone
  }
}

/** Sends one request; answers any HTTP status, throws only for transport failures. */
export async function send(credentials: StripeCredentials, request: StripeRequest): Promise<StripeAnswer> {
  const client = clientFor(credentials);
  const encoded = encode(request.params);
  let response: Response;
  try {
    response =
      request.method === 'POST'
        ? await client.post(request.path, {
            body: encoded,
            signal: request.signal,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
            },
          })
        : await client.get(request.path, { searchParams: encoded, signal: request.signal });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT.has(code) && !request.signal.aborted) {
      throw new ProcessorError('Stripe could not be reached.', { retryable: true, code: 'stripe_unreachable', cause: error });
    }
    // Timeouts (the wrapper's abort) and connections cut mid-request: the outcome is unknown.
    throw error;
  }
  return { status: response.status, body: await parseBody(response), headers: response.headers };
}

function errorFields(body: unknown): { type?: string; code?: string; param?: string } {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const field = (name: string) => (typeof error?.[name] === 'string' && /^[A-Za-z0-9_.[\]-]{1,80}$/.test(error[name] as string) ? (error[name] as string) : undefined);
  return { type: field('type'), code: field('code'), param: field('param') };
}

/**
 * An answer the operation did not expect, as the SDK's error vocabulary: 429 and 5xx
 * are retryable (the wrapper retries with the same key, routing may fail over), other
 * 4xx are not. Messages are ours, naming only Stripe's codes and parameter names: Stripe's
 * own texts can quote ids and tokens.
 */
export function unexpected(answer: StripeAnswer, operation: string): Error {
  const { status } = answer;
  const { type, code, param } = errorFields(answer.body);
  const detail = [code ?? type, param ? `param ${param}` : undefined].filter(Boolean).join(', ');
  const message = `Stripe answered ${status} to ${operation}${detail ? ` (${detail})` : ''}.`;
  if (status === 409) return new StripeOutcomeUnknownError(message);
  if (status === 500 && answer.headers.get('stripe-should-retry') === 'false') return new StripeOutcomeUnknownError(message);
  if (status === 429) return new ProcessorError(message, { retryable: true, code: 'rate_limited' });
  if (status >= 500) return new ProcessorError(message, { retryable: true, code: code ?? `stripe_${status}` });
  if (status >= 400) return new ProcessorError(message, { retryable: false, code: code ?? type ?? `stripe_${status}` });
  return new Error(message);
}

/** Stripe's `code` of an error answer, when it has one. */
export function errorCode(answer: StripeAnswer): string | undefined {
  return errorFields(answer.body).code;
}
