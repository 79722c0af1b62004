import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { ApiError } from '../../runtime/errors';
import { idempotencySecrets, openResponseBody, sealResponseBody } from './sealing';
import { canonicalJson, readIdempotencyKey, requestFingerprint } from './store';

const withHeader = (value: string) => new Request('http://localhost/v1/payments', { method: 'POST', headers: { 'Idempotency-Key': value } });
const key = idempotencySecrets('a-server-key-of-enough-length-0123').fingerprint;

describe('idempotency keys', () => {
  test('canonical JSON ignores key order, not values', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}');
    expect(requestFingerprint(key, 'POST', '/v1/x', { a: 1, b: 2 })).toBe(requestFingerprint(key, 'post', '/v1/x', { b: 2, a: 1 }));
    expect(requestFingerprint(key, 'POST', '/v1/x', { a: 1 })).not.toBe(requestFingerprint(key, 'POST', '/v1/y', { a: 1 }));
    expect(requestFingerprint(key, 'POST', '/v1/x', { a: 1 })).not.toBe(requestFingerprint(key, 'POST', '/v1/x', { a: '1' }));
  });

  test('the fingerprint is keyed: no plain hash of a body holding a card number, another key gives another value', () => {
    const body = { payment_method: { card: { number: '4242424242424242', cvc: '123' } } };
    const fingerprint = requestFingerprint(key, 'POST', '/v1/payments', body);
    const plain = createHash('sha256').update(`POST /v1/payments\n${canonicalJson(body)}`).digest('hex');
    expect(fingerprint).not.toContain(plain);
    const otherKey = idempotencySecrets('another-server-key-of-enough-length').fingerprint;
    expect(requestFingerprint(otherKey, 'POST', '/v1/payments', body)).not.toBe(fingerprint);
  });

  test('stored bodies are sealed, bound to their scope and key, and open to the exact text', () => {
    const secrets = idempotencySecrets('a-server-key-of-enough-length-0123');
    const text = '{"id":"cli_1","secret":"cs_topsecret"}';
    const sealed = sealResponseBody(secrets.response, 'ten_1', 'k1', text);
    expect(sealed).not.toContain('topsecret');
    expect(openResponseBody(secrets.response, 'ten_1', 'k1', sealed)).toBe(text);
    expect(() => openResponseBody(secrets.response, 'ten_2', 'k1', sealed)).toThrow();
  });

  test('header: absent, valid, or 400 parameter_invalid on Idempotency-Key', () => {
    expect(readIdempotencyKey(new Request('http://localhost/'))).toBeUndefined();
    expect(readIdempotencyKey(withHeader('order-1234 ~!'))).toBe('order-1234 ~!');
    expect(readIdempotencyKey(withHeader('k'.repeat(255)))).toHaveLength(255);
    for (const bad of ['k'.repeat(256), 'caf\u00e9']) {
      let error: unknown;
      try {
        readIdempotencyKey(withHeader(bad));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).toBody()).toMatchObject({ code: 'parameter_invalid', param: 'Idempotency-Key' });
    }
  });
});
