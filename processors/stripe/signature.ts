import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookSignatureError } from '../sdk/errors.ts';

export const SIGNATURE_HEADER = 'stripe-signature';
/** Stripe's own default: an event signed more than 5 minutes ago is a replay. */
export const TOLERANCE_SECONDS = 300;

function parseHeader(header: string): { timestamp: number; signatures: string[] } {
  let timestamp = Number.NaN;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2).map((piece) => piece.trim());
    if (key === 't' && value && /^[0-9]{1,12}$/.test(value)) timestamp = Number(value);
    // Only v1 (HMAC-SHA256); v0 is a test-mode scheme Stripe sends beside it, never trusted alone.
    if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  return { timestamp, signatures };
}

/**
 * Verifies a `Stripe-Signature` header (`t=<unix>,v1=<hex>[,v1=<hex>...]`): HMAC-SHA256
 * of `<t>.<payload>` keyed with the endpoint's signing secret, any one `v1` matching
 * (Stripe sends several while a secret is rolled), compared in constant time, and `t`
 * within the tolerance of our clock. Throws `WebhookSignatureError`; returns nothing.
 */
export function verifyStripeSignature(payload: string, header: string | null, secret: string, nowMs: number, toleranceSeconds = TOLERANCE_SECONDS): void {
  if (!header) throw new WebhookSignatureError('missing_signature', 'The Stripe-Signature header is missing.');
  const { timestamp, signatures } = parseHeader(header);
  if (!Number.isFinite(timestamp) || signatures.length === 0) {
    throw new WebhookSignatureError('malformed', 'The Stripe-Signature header has no timestamp or no v1 signature.');
  }
  const expected = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest();
  const matches = signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
  if (!matches) throw new WebhookSignatureError('bad_signature', 'No v1 signature of the Stripe-Signature header matches.');
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) {
    throw new WebhookSignatureError('stale', 'The Stripe event was signed outside the 5-minute tolerance.');
  }
}
