import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { ApiError } from '../errors';
import { assertStorableText, isStorableText } from './validation';

function problemOf(value: unknown): { code: string; param?: string } | undefined {
  try {
    assertStorableText(value);
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    expect(error.status).toBe(400);
    return error.toBody();
  }
}

describe('isStorableText', () => {
  test('NUL and unpaired surrogates are not storable; every other character is', () => {
    for (const bad of ['\u0000', 'a\u0000', '\uD800', 'x\uDBFFy', '\uDC00', 'a\uDFFF', '\uDC00\uD800']) expect(isStorableText(bad)).toBe(false);
    for (const good of ['', 'plain', '\u0001\u001f\u007f\u0085', '\uFEFF', '\u2028\u2029', '\uFFFE\uFFFF', '😀', '\uD83D\uDE00', 'e\u0301', '\u202Eevil']) {
      expect(isStorableText(good)).toBe(true);
    }
  });

  test('agrees with a UTF-8 round trip that is lossless and NUL-free', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('\u0000', '\uD800', '\uDFFF', 'a'), fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code))) }), (text) => {
        const lossless = Buffer.from(text, 'utf8').toString('utf8') === text;
        expect(isStorableText(text)).toBe(lossless && !text.includes('\u0000'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('assertStorableText', () => {
  test('names the field with a dotted path, array elements with [index]', () => {
    expect(problemOf({ description: 'a\u0000b' })).toMatchObject({ code: 'parameter_invalid', param: 'description' });
    expect(problemOf({ metadata: { order_id: '\uD800' } })).toMatchObject({ param: 'metadata.order_id' });
    expect(problemOf({ rules: [{ processors: ['ok', 'sim\u0000'] }] })).toMatchObject({ param: 'rules[0].processors[1]' });
    expect(problemOf(['ok', '\u0000'])).toMatchObject({ param: 'body[1]' });
    expect(problemOf({ payment_method: { card: { holder_name: 'J\uDC00' } } })).toMatchObject({ param: 'payment_method.card.holder_name' });
  });

  test('a bad key names the object that holds it (the key itself cannot be echoed safely)', () => {
    expect(problemOf({ metadata: { 'or\u0000der': 'x' } })).toMatchObject({ param: 'metadata' });
    expect(problemOf({ 'desc\uD800': 'x' })).toMatchObject({ param: 'body' });
  });

  test('storable values of any shape pass untouched', () => {
    const value = { a: ['\u0001', { b: '\uFEFF😀', c: null, d: 1, e: true }], '\u007f': '\u2028' };
    const copy = structuredClone(value);
    expect(problemOf(value)).toBeUndefined();
    expect(value).toEqual(copy);
  });

  test('the message says what is wrong without echoing the text', () => {
    let message = '';
    try {
      assertStorableText({ description: 'secret\u0000' });
    } catch (error) {
      message = (error as ApiError).message;
    }
    expect(message).toContain('NUL');
    expect(message).not.toContain('secret');
  });
});
