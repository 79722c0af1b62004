import { createHmac, timingSafeEqual } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { WebhookSignatureError } from '../sdk/errors.ts';
import type { WebhookEvent } from '../sdk/model.ts';
import { SimulatorCallback } from './model.ts';

/** `Simulator-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, Stripe style. */
export const SIGNATURE_HEADER = 'simulator-signature';
/** Older callbacks are refused, so a captured one cannot be replayed much later. */
export const TOLERANCE_SECONDS = 300;

function sign(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Builds the signed HTTP request the simulator delivers (and tests forge). */
export function signedCallbackRequest(
  secret: string,
  callback: SimulatorCallback,
  options: { url?: string; timestamp?: number } = {},
): Request {
  const body = JSON.stringify(callback);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return new Request(options.url ?? 'http://localhost/v1/processors/simulator/webhooks', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: `t=${timestamp},v1=${sign(secret, timestamp, body)}`,
    },
    body,
  });
}

function parseHeader(header: string | null): { timestamp: number; signatures: string[] } {
  if (!header) throw new WebhookSignatureError('missing_signature', 'The callback is not signed.');
  const parts = header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const timestamp = Number(parts.find(([key]) => key === 't')?.[1]);
  const signatures = parts.filter(([key, value]) => key === 'v1' && value).map(([, value]) => value as string);
  if (!Number.isInteger(timestamp) || signatures.length === 0) {
    throw new WebhookSignatureError('bad_signature', 'The callback signature header is malformed.');
  }
  return { timestamp, signatures };
}

function mapCallback(callback: SimulatorCallback): WebhookEvent {
  const { reference, status, code, message, decline_code } = callback.data;
  const kind = callback.type === 'payment.updated' ? 'payment' : 'refund';
  const malformed = () => new WebhookSignatureError('malformed', `Unexpected ${kind} status in callback.`);
  switch (status) {
    case 'failed':
      if (!code) throw malformed();
      return kind === 'payment'
        ? { eventId: callback.id, kind, reference, status, code, message: message ?? code, ...(decline_code ? { declineCode: decline_code } : {}) }
        : { eventId: callback.id, kind, reference, status, code, message: message ?? code };
    case 'pending':
    case 'succeeded':
      return { eventId: callback.id, kind, reference, status };
    case 'authorized':
    case 'canceled':
      if (kind !== 'payment') throw malformed();
      return { eventId: callback.id, kind, reference, status };
  }
}

/** Verifies signature and age, then normalises. Everything wrong is a WebhookSignatureError. */
export async function verifyCallback(secret: string, request: Request, nowMs: number): Promise<WebhookEvent> {
  const { timestamp, signatures } = parseHeader(request.headers.get(SIGNATURE_HEADER));
  const body = await request.text();
  const expected = Buffer.from(sign(secret, timestamp, body), 'hex');
  const genuine = signatures.some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!genuine) throw new WebhookSignatureError('bad_signature', 'The callback signature does not match.');
  if (Math.abs(nowMs / 1000 - timestamp) > TOLERANCE_SECONDS) {
    throw new WebhookSignatureError('stale', 'The callback timestamp is outside the tolerance.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new WebhookSignatureError('malformed', 'The callback body is not JSON.');
  }
  if (!Value.Check(SimulatorCallback, parsed)) {
    throw new WebhookSignatureError('malformed', 'The callback body is not a simulator event.');
  }
  return mapCallback(parsed);
}
