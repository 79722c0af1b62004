import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import { createRedactor } from './log-redaction';
import { createLogger, REDACT_PATHS } from './logger';

describe('log redaction', () => {
  const redact = createRedactor(['token', 'headers.authorization', '*.number', '*.*.cvc'], '[x]');

  test('top-level, nested, wildcard and two-level wildcard paths; arrays count as a level', () => {
    const fields = { token: 't', headers: { authorization: 'a', accept: 'b' }, card: { number: '4242', last4: '4242' }, deep: { card: { cvc: '1' } }, list: [{ cvc: '2' }] };
    expect(redact(fields)).toEqual({ token: '[x]', headers: { authorization: '[x]', accept: 'b' }, card: { number: '[x]', last4: '4242' }, deep: { card: { cvc: '[x]' } }, list: [{ cvc: '[x]' }] });
  });

  test('nothing to censor: the same object back; something: a copy, the caller\'s objects untouched', () => {
    const clean = { route: '/v1/payments', status: 201, nested: { a: 1 } };
    expect(redact(clean)).toBe(clean);
    const card = { number: '4242' };
    const fields = { card, other: { a: 1 } };
    const out = redact(fields);
    expect(out).not.toBe(fields);
    expect(out.other).toBe(fields.other);
    expect(card.number).toBe('4242');
  });

  test('the logger censors what a line logs and what a child logger binds', () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger({ destination: destination as never });
    logger.child({ secret: 's1', component: 'c' }).child({ token: 't1' }).info({ payment_method: { card: { number: '4242424242424242' } }, body: 'raw' }, 'line');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ secret: '[redacted]', token: '[redacted]', component: 'c', body: '[redacted]', payment_method: { card: { number: '[redacted]' } } });
    expect(lines[0]).not.toContain('4242424242424242');
    expect(REDACT_PATHS).toContain('*.*.number');
  });
});
