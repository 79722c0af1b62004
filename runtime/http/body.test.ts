import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { ApiError } from '../errors';
import { assertJsonShape, jsonBody, MAX_JSON_DEPTH, MAX_JSON_VALUES, RawBody } from './body';

/** The exact measures assertJsonShape bounds: container depth, and every value (keys not counted). */
function measure(value: unknown): { depth: number; values: number } {
  if (value === null || typeof value !== 'object') return { depth: 0, values: 1 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let depth = 0;
  let values = 1;
  for (const child of children) {
    const inner = measure(child);
    depth = Math.max(depth, inner.depth);
    values += inner.values;
  }
  return { depth: depth + 1, values };
}

function refusedAsTooComplex(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'body_too_complex') return true;
    throw error;
  }
}

const json = (text: string) => new RawBody(text, 'application/json');

describe('assertJsonShape', () => {
  test('refuses exactly the documents over the depth or value limit (any layout, strings full of brackets)', () => {
    const value = fc.jsonValue({ maxDepth: 6 });
    const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', ',', '"', '\\', ':', 'a', ' ') });
    const document = fc.oneof(value, fc.array(fc.oneof(value, tricky), { maxLength: 8 }), fc.dictionary(tricky, value, { maxKeys: 6 }));
    fc.assert(
      fc.property(document, fc.constantFrom(undefined, 1, 2, '\t'), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 40 }), (doc, indent, depth, values) => {
        const text = JSON.stringify(doc, null, indent);
        const exact = measure(JSON.parse(text));
        const expected = exact.depth > depth || exact.values > values;
        expect(refusedAsTooComplex(() => assertJsonShape(text, { depth, values }))).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  test('the documented limits: depth 32 passes, 33 is refused; 10000 values pass, 10001 are refused', () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(() => jsonBody(json(nested(MAX_JSON_DEPTH)))).not.toThrow();
    expect(refusedAsTooComplex(() => jsonBody(json(nested(MAX_JSON_DEPTH + 1))))).toBe(true);
    const flat = (count: number) => `[${Array.from({ length: count }, () => '0').join(',')}]`;
    expect(() => jsonBody(json(flat(MAX_JSON_VALUES - 1)))).not.toThrow(); // plus the array itself
    expect(refusedAsTooComplex(() => jsonBody(json(flat(MAX_JSON_VALUES))))).toBe(true);
  });

  test('a 40 KB body of 20,000 nested arrays is refused before JSON.parse sees it, as a 400', () => {
    let error: unknown;
    try {
      jsonBody(json('['.repeat(20_000) + ']'.repeat(20_000)));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).toBody()).toMatchObject({ type: 'invalid_request_error', code: 'body_too_complex' });
    expect((error as ApiError).message).toContain(`${MAX_JSON_DEPTH} levels`);
  });

  test('malformed text within the limits is still body_not_json', () => {
    for (const text of ['{"a": ', '[1,,2]', '"\\', ']]]]']) {
      expect(() => jsonBody(json(text))).toThrow(expect.objectContaining({ code: 'body_not_json' }));
    }
  });
});
