import { describe, expect, test } from 'bun:test';
import { scrubDatabaseMessage, serializeError } from './log-errors';

describe('scrubDatabaseMessage', () => {
  test.each([
    ['invalid input syntax for type integer: "whsec_abc"', 'invalid input syntax for type integer: [redacted]'],
    ['invalid byte sequence for encoding "UTF8": 0xe2 0x82', 'invalid byte sequence for encoding "UTF8": [redacted]'],
    ['value "4242424242424242" is out of range for type integer', 'value "[redacted]" is out of range for type integer'],
    ['malformed array literal: "{whsec_x"', 'malformed array literal: [redacted]'],
    ['syntax error at or near "whsec_x"', 'syntax error at or near "[redacted]"'],
    ['Key (name)=(whsec_x) already exists.', 'Key (name)=([redacted]) already exists.'],
    // Names are kept: they say what failed and hold no value.
    ['duplicate key value violates unique constraint "tenants_pkey"', 'duplicate key value violates unique constraint "tenants_pkey"'],
    ['null value in column "secret" of relation "webhook_endpoints" violates not-null constraint', 'null value in column "secret" of relation "webhook_endpoints" violates not-null constraint'],
    ['new row for relation "payments" violates check constraint "amount_positive"', 'new row for relation "payments" violates check constraint "amount_positive"'],
    ['value too long for type character varying(8)', 'value too long for type character varying(8)'],
  ])('%s', (message, expected) => {
    expect(scrubDatabaseMessage(message)).toBe(expected);
  });

  test('a raised exception is text of ours: all of it goes', () => {
    expect(scrubDatabaseMessage('payment pay_1 has card 4242424242424242', 'P0001')).toBe('[redacted]');
  });
});

describe('serializeError', () => {
  test('other errors keep their properties but not value-carrying ones; causes are nested, not appended', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', parameters: ['whsec_p'], query: 'select whsec_q' });
    const outer = Object.assign(new Error('could not record', { cause: inner }), { status: 500, params: ['whsec_x'], detail: 'whsec_d' });
    const out = serializeError(outer) as Record<string, any>;
    expect(out).toMatchObject({ type: 'Error', message: 'could not record', status: 500, cause: { type: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' } });
    expect(JSON.stringify(out)).not.toContain('whsec_');
    expect(out.stack).toStartWith('Error: could not record\n    at ');
  });

  test('non-errors pass through; a cause cycle ends', () => {
    expect(serializeError('a string')).toBe('a string');
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(JSON.stringify(serializeError(a))).toContain('"message":"b"');
  });
});
