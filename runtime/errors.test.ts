import { describe, expect, test } from 'bun:test';
import { isDatabaseUnavailable, isUnstorableText } from './errors';

/** Errors shaped as the drivers throw them: a code, sometimes wrapped by drizzle in `cause`. */
function driverError(code: string, message = 'driver error'): Error {
  return Object.assign(new Error(message), { code });
}

function wrappedByDrizzle(cause: unknown, params = ''): Error {
  return Object.assign(new Error(`Failed query: select 1\nparams: ${params}`), { name: 'DrizzleQueryError', cause });
}

describe('isDatabaseUnavailable', () => {
  test('connection failures of the socket, postgres.js and the server are unavailability', () => {
    const codes = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '08000', '08003', '08006', '08001', '08004', '08P01', '57P01', '57P02', '57P03'];
    for (const code of codes) {
      expect(isDatabaseUnavailable(driverError(code))).toBe(true);
      expect(isDatabaseUnavailable(wrappedByDrizzle(driverError(code)))).toBe(true);
    }
  });

  test('a codeless "connection terminated" is unavailability; the same words in drizzle\'s query text are not', () => {
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(wrappedByDrizzle(driverError('23505', 'duplicate key'), 'connection terminated'))).toBe(false);
  });

  test('query errors, bugs and non-errors stay 500 material', () => {
    for (const code of ['23505', '42P01', '22P02', '40001', '57014', '53300', 'ERR_SOMETHING']) {
      expect(isDatabaseUnavailable(wrappedByDrizzle(driverError(code)))).toBe(false);
    }
    for (const value of [new TypeError('x is undefined'), new Error('relation "payments" does not exist'), undefined, null, 'ECONNREFUSED', 42]) {
      expect(isDatabaseUnavailable(value)).toBe(false);
    }
  });

  test('a cause chain that loops does not hang', () => {
    const a: { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});

describe('isUnstorableText', () => {
  test('SQLSTATE 22021 and 22P05, wrapped or not', () => {
    expect(isUnstorableText(wrappedByDrizzle(driverError('22021')))).toBe(true);
    expect(isUnstorableText(driverError('22P05'))).toBe(true);
    expect(isUnstorableText(wrappedByDrizzle(driverError('22P02')))).toBe(false);
    expect(isUnstorableText(new Error('no code'))).toBe(false);
  });
});
