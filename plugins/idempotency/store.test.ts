import { describe, expect, test } from 'bun:test';
import { ApiError } from '../../runtime/errors';
import { canonicalJson, readIdempotencyKey, requestFingerprint } from './store';

const withHeader = (value: string) => new Request('http://localhost/v1/payments', { method: 'POST', headers: { 'Idempotency-Key': value } });

describe('idempotency keys', () => {
  test('canonical JSON ignores key order, not values', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}');
    expect(requestFingerprint('POST', '/v1/x', { a: 1, b: 2 })).toBe(requestFingerprint('post', '/v1/x', { b: 2, a: 1 }));
    expect(requestFingerprint('POST', '/v1/x', { a: 1 })).not.toBe(requestFingerprint('POST', '/v1/y', { a: 1 }));
    expect(requestFingerprint('POST', '/v1/x', { a: 1 })).not.toBe(requestFingerprint('POST', '/v1/x', { a: '1' }));
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
