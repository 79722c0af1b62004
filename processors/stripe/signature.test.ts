import { describe, expect, test } from 'bun:test';
import Stripe from 'stripe';
import { WebhookSignatureError } from '../sdk/errors.ts';
import { verifyStripeSignature } from './signature.ts';

/**
 * Stripe-Signature verification against headers made by Stripe's official SDK
 * (`webhooks.generateTestHeaderString`; under Bun the SDK computes HMACs with WebCrypto,
 * so its async variant is the one that runs here).
 */
const stripe = new Stripe('sk_test_only_for_signing');
const SECRET = 'whsec_testSigningSecret0123456789';
const NOW = 1_764_000_000_000;
const T = NOW / 1000;
const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded' }, null, 2);

const header = (options: { secret?: string; timestamp?: number; payload?: string } = {}) =>
  stripe.webhooks.generateTestHeaderStringAsync({ payload: options.payload ?? payload, secret: options.secret ?? SECRET, timestamp: options.timestamp ?? T });

function reason(run: () => void): string {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookSignatureError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('Stripe-Signature', () => {
  test("accepts the official SDK's header, also within the 5-minute tolerance either side", async () => {
    expect(reason(() => verifyStripeSignature(payload, null, SECRET, NOW))).toBe('missing_signature');
    const genuine = await header();
    expect(reason(() => verifyStripeSignature(payload, genuine, SECRET, NOW))).toBe('accepted');
    expect(reason(() => verifyStripeSignature(payload, genuine, SECRET, NOW + 299_000))).toBe('accepted');
    expect(reason(() => verifyStripeSignature(payload, genuine, SECRET, NOW - 299_000))).toBe('accepted');
  });

  test('refuses a wrong secret, a stale timestamp and a tampered body', async () => {
    const wrongSecret = await header({ secret: 'whsec_someoneElsesSecret000000' });
    expect(reason(() => verifyStripeSignature(payload, wrongSecret, SECRET, NOW))).toBe('bad_signature');
    const stale = await header({ timestamp: T - 301 });
    expect(reason(() => verifyStripeSignature(payload, stale, SECRET, NOW))).toBe('stale');
    const genuine = await header();
    expect(reason(() => verifyStripeSignature(payload.replace('succeeded', 'canceled'), genuine, SECRET, NOW))).toBe('bad_signature');
    expect(reason(() => verifyStripeSignature(`${payload} `, genuine, SECRET, NOW))).toBe('bad_signature');
    // The timestamp is signed too: moving it forward breaks the signature.
    expect(reason(() => verifyStripeSignature(payload, genuine.replace(`t=${T}`, `t=${T + 10}`), SECRET, NOW))).toBe('bad_signature');
  });

  test('any one of several v1 signatures may match (secret rolling); v0 alone is never trusted', async () => {
    const genuine = await header();
    const v1 = /v1=([0-9a-f]{64})/.exec(genuine)![1]!;
    const rolled = `t=${T},v1=${'0'.repeat(64)},v1=${v1}`;
    expect(reason(() => verifyStripeSignature(payload, rolled, SECRET, NOW))).toBe('accepted');
    expect(reason(() => verifyStripeSignature(payload, `t=${T},v0=${v1}`, SECRET, NOW))).toBe('malformed');
    expect(reason(() => verifyStripeSignature(payload, `v1=${v1}`, SECRET, NOW))).toBe('malformed');
    expect(reason(() => verifyStripeSignature(payload, `t=${T},v1=${v1.slice(0, 40)}`, SECRET, NOW))).toBe('malformed');
  });

  test("what we accept, Stripe's own verifier accepts too (and the reverse for a tampered body)", async () => {
    const genuine = await header();
    await expect(stripe.webhooks.constructEventAsync(payload, genuine, SECRET, 300, undefined, T)).resolves.toMatchObject({ id: 'evt_1' });
    await expect(stripe.webhooks.constructEventAsync(`${payload} `, genuine, SECRET, 300, undefined, T)).rejects.toThrow();
  });
});
