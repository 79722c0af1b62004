import { createHmac, timingSafeEqual } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { WebhookSignatureError } from '../sdk/errors.ts';
import { WebhookEvent } from '../sdk/model.ts';

/**
 * The callbacks of this connector: not sent by the bank (a bank sends files), but by the
 * bank-files plugin after it read a status file, through the deployment's ordinary
 * POST /v1/processors/bank-files/webhooks, so every outcome takes the one path that
 * dedupes and emits events. Signed like the simulator's: `t=<unix>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`, keyed with a key derived from BANK_FILES_STATE_KEY.
 */
export const SIGNATURE_HEADER = 'bank-files-signature';
const TOLERANCE_S = 300;

function hmac(key: Buffer, timestamp: number, body: string): string {
  return createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
}

export function signedCallbackRequest(key: Buffer, event: WebhookEvent, nowMs: number, url = 'http://localhost/v1/processors/bank-files/webhooks'): Request {
  const timestamp = Math.floor(nowMs / 1000);
  const body = JSON.stringify(event);
  return new Request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: `t=${timestamp},v1=${hmac(key, timestamp, body)}` },
    body,
  });
}

export async function verifyCallback(key: Buffer, request: Request, nowMs: number): Promise<WebhookEvent> {
  const header = request.headers.get(SIGNATURE_HEADER);
  if (!header) throw new WebhookSignatureError('missing_signature', 'The callback carries no signature.');
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || !parts.v1) throw new WebhookSignatureError('malformed', 'The signature header is malformed.');
  if (Math.abs(nowMs / 1000 - timestamp) > TOLERANCE_S) throw new WebhookSignatureError('stale', 'The signature is too old or from the future.');
  const body = await request.text();
  const expected = Buffer.from(hmac(key, timestamp, body), 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new WebhookSignatureError('bad_signature', 'The signature does not match.');
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new WebhookSignatureError('malformed', 'The callback body is not JSON.');
  }
  if (!Value.Check(WebhookEvent, event)) throw new WebhookSignatureError('malformed', 'The callback body is not an event.');
  return event;
}
