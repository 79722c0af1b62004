import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import qs from 'qs';
import contract from './contract/stripe-2023-08-16.json' with { type: 'json' };
import { paymentIntentJson, refundJson, type IntentRecord } from './testing/objects.ts';
import { checkComponent, checkRequest, checkResponse, operationFor } from './testing/index.ts';

/**
 * The vendored contract: derived from Stripe's published description by the committed
 * script (checked whenever the published copy is beside the repository), and strict
 * enough that a green run of the other tests means something.
 */
const ROOT = resolve(import.meta.dir, '..', '..');
const SPEC_DIR = resolve(ROOT, '..', 'shared', 'vendor', 'stripe-openapi-2023-08-16');
const published = existsSync(join(SPEC_DIR, 'spec3.yaml'));

describe('the vendored Stripe contract', () => {
  test.skipIf(!published)('is exactly what the script derives from the published spec3.yaml', async () => {
    const spec = readFileSync(join(SPEC_DIR, 'spec3.yaml'));
    expect(createHash('sha256').update(spec).digest('hex')).toBe(contract.source.sha256);
    const run = Bun.spawn([process.execPath, join(ROOT, 'scripts', 'vendor-stripe-contract.ts'), '--check', SPEC_DIR], { stdout: 'pipe', stderr: 'pipe' });
    const [code, stderr] = await Promise.all([run.exited, new Response(run.stderr).text()]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  }, 120_000);

  test('holds the seven operations the connector calls, pinned to 2023-08-16', () => {
    expect(contract.source.apiVersion).toBe('2023-08-16');
    expect(Object.values(contract.operations).map((operation) => `${operation.method} ${operation.path}`).sort()).toEqual([
      'GET /v1/payment_intents/search',
      'GET /v1/payment_intents/{intent}',
      'GET /v1/refunds/{refund}',
      'POST /v1/payment_intents',
      'POST /v1/payment_intents/{intent}/cancel',
      'POST /v1/payment_intents/{intent}/capture',
      'POST /v1/refunds',
    ]);
    expect(operationFor('GET', '/v1/payment_intents/search')?.id).toBe('searchPaymentIntents');
    expect(operationFor('GET', '/v1/payment_intents/pi_123')).toEqual({ id: 'retrievePaymentIntent', params: { intent: 'pi_123' } });
  });
});

describe('request checks (a form body decoded with qs, as Stripe reads it)', () => {
  const decoded = (form: string) => qs.parse(form, { depth: 10 }) as Record<string, unknown>;

  test('a well-formed create passes, its strings coerced to the declared types', () => {
    const body = decoded('amount=2000&currency=eur&confirm=true&payment_method=pm_card_visa&payment_method_types[0]=card&metadata[k]=v');
    expect(checkRequest('createPaymentIntent', body, {})).toBeUndefined();
    expect(body).toMatchObject({ amount: 2000, confirm: true });
  });

  test.each([
    ['an unknown parameter', 'amount=2000&currency=eur&amount_to_charge=5', 'amount_to_charge'],
    ['a missing required parameter', 'amount=2000', 'currency'],
    ['a non-integer amount', 'amount=20.5&currency=eur', '/amount'],
    ['a nested enum value Stripe does not know', 'amount=2000&currency=eur&payment_method_options[card][request_three_d_secure]=sometimes', '/payment_method_options/card/request_three_d_secure'],
    ['an unknown nested parameter', 'amount=2000&currency=eur&payment_method_options[card][pin]=1234', 'pin'],
    ['a metadata value that is an object', 'amount=2000&currency=eur&metadata[k][x]=1', '/metadata/k'],
  ])('refuses %s', (_what, form, mentioned) => {
    const problem = checkRequest('createPaymentIntent', decoded(form), {});
    expect(problem?.errors.join('\n')).toContain(mentioned);
  });

  test('refund reasons and capture amounts are checked too', () => {
    expect(checkRequest('createRefund', decoded('payment_intent=pi_1&reason=changed_mind'), {})?.errors.join()).toContain('/reason');
    expect(checkRequest('capturePaymentIntent', decoded('amount_to_capture=all'), { intent: 'pi_1' })?.errors.join()).toContain('/amount_to_capture');
    expect(checkRequest('searchPaymentIntents', decoded('limit=1'), {})?.errors.join()).toContain('query');
  });
});

describe("the test server's objects", () => {
  const intent: IntentRecord = {
    id: 'pi_1',
    created: 1_764_000_000,
    amount: 2000,
    currency: 'eur',
    captureMethod: 'manual',
    status: 'requires_capture',
    amountCapturable: 2000,
    amountReceived: 0,
    description: null,
    metadata: {},
    paymentMethod: 'pm_card_visa',
    latestCharge: 'ch_1',
    lastPaymentError: null,
    canceledAt: null,
    cancellationReason: null,
    clientSecret: 'pi_1_secret_x',
  };
  const refund = {
    id: 're_1', created: 1, amount: 5, currency: 'eur', charge: 'ch_1', paymentIntent: 'pi_1', reason: null, metadata: {},
    status: 'failed' as const, failureReason: 'expired_or_canceled_card', balanceTransaction: 'txn_1', failureBalanceTransaction: 'txn_2',
  };
  const known = (name: keyof typeof contract.components.schemas) => Object.keys((contract.components.schemas[name] as { properties: object }).properties);

  test('are schema-valid and use only fields the schema names', () => {
    for (const status of ['requires_capture', 'requires_action', 'canceled', 'succeeded'] as const) {
      const json = paymentIntentJson({ ...intent, status });
      expect(checkComponent('payment_intent', json)).toBeUndefined();
      expect(Object.keys(json).filter((field) => !known('payment_intent').includes(field))).toEqual([]);
    }
    expect(checkComponent('refund', refundJson(refund))).toBeUndefined();
    expect(Object.keys(refundJson(refund)).filter((field) => !known('refund').includes(field))).toEqual([]);
  });

  test('a response Stripe would never send is caught', () => {
    const { status: _status, ...withoutStatus } = paymentIntentJson(intent);
    expect(checkResponse('retrievePaymentIntent', 200, withoutStatus)?.errors.join()).toContain('status');
    expect(checkResponse('retrievePaymentIntent', 200, { ...paymentIntentJson(intent), status: 'authorized' })?.errors.join()).toContain('/status');
    expect(checkResponse('createRefund', 200, { ...refundJson(refund), amount: '5' })?.errors.join()).toContain('/amount');
    expect(checkResponse('createRefund', 400, { error: { type: 'rate_limit_error', message: 'x' } })?.errors.join()).toContain('/error/type');
  });
});
