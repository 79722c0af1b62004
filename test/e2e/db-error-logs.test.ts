import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { schema } from '../../db';
import { toApiError } from '../../runtime/http/errors';
import { createLogger } from '../../runtime/logger';
import { createTestApp, LogCapture, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';

/**
 * Issue 11, point 10: no log line carries a secret. A failed query is logged without its
 * bound parameters, its text, PostgreSQL's `detail` and the values PostgreSQL's message
 * echoes, but with its SQLSTATE code, constraint and table. Real errors from the backend
 * the run uses (PGlite, or PostgreSQL with TEST_DATABASE_URL).
 */

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await createTenant(t);
});
afterAll(() => t.close());

/** The error a failing statement throws (it must fail). */
async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the statement to fail');
}

/** Every spelling of a value that would betray it. */
function spellings(value: string): string[] {
  const body = value.replace(/^whsec_/, '');
  return [...new Set([value, body, body.slice(0, 16)])];
}

function entries(logs: LogCapture): Array<Record<string, any>> {
  return logs.lines.map((line) => JSON.parse(line) as Record<string, any>);
}

describe('database errors in the log', () => {
  test('a failed INSERT through the API: 500 for the client, a log line with the SQLSTATE and constraint but no bound value', async () => {
    // A constraint the request will break, so PostgreSQL rejects an INSERT whose parameters hold a sealed secret and our value.
    await t.database.db.execute(sql.raw(`alter table webhook_endpoints add constraint test_short_description check (length(description) < 12)`));
    const description = secret();
    const response = await t.request('POST', '/v1/webhook_endpoints', {
      token: tenant.token,
      body: { url: 'https://hooks.example.com/x', enabled_events: ['*'], description },
    });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).not.toContain(description);
    const line = entries(t.logs).find((entry) => entry.msg === 'unhandled error');
    expect(line).toBeDefined();
    expect(line!.err).toMatchObject({ code: '23514', constraint: 'test_short_description', table: 'webhook_endpoints', statement: 'insert' });
    expect(line!.err.cause).toMatchObject({ code: '23514' });
    expect(JSON.stringify(line)).toContain('23514');
    const logs = t.logs.text();
    for (const form of spellings(description)) expect(logs).not.toContain(form);
    // Nor the other parameters of that INSERT: the sealed endpoint secret and the row PostgreSQL's detail would show.
    expect(logs).not.toContain('v1:');
    expect(logs).not.toContain('Failing row');
    expect(logs).not.toContain('params');
  });

  test('unique violation, bad integer, bad JSON, out-of-range number: each logged by code, none with its value', async () => {
    const name = secret();
    const value = secret();
    const notANumber = secret();
    const json = secret();
    const card = '4242424242424242';
    const failures: Array<[unknown, string]> = [
      [
        await failureOf(() =>
          t.database.system(async (tx) => {
            await tx.insert(schema.systemSecrets).values({ name, value });
            await tx.insert(schema.systemSecrets).values({ name, value });
          }),
        ),
        '23505',
      ],
      [await failureOf(() => t.database.system((tx) => tx.execute(sql`select ${notANumber}::int`))), '22P02'],
      [await failureOf(() => t.database.system((tx) => tx.execute(sql`select ${json}::jsonb`))), '22P02'],
      [await failureOf(() => t.database.system((tx) => tx.execute(sql`select ${card}::int`))), '22003'],
    ];
    // PostgreSQL itself echoes these values (message or detail): the test would prove nothing otherwise.
    const raw = JSON.stringify(failures.map(([error]) => [String(error), (error as { cause?: Record<string, unknown> }).cause]));
    for (const echoed of [name, notANumber, card]) expect(raw).toContain(echoed);

    const logs = new LogCapture();
    const logger = createLogger({ level: 'debug', destination: logs });
    const request = new Request('http://localhost/v1/anything');
    for (const [error, code] of failures) {
      logger.error({ err: error }, 'as a field');
      logger.error(error as Error, 'as the first argument');
      logger.child({ component: 'worker' }).warn({ err: new Error('wrapped', { cause: error }) }, 'as a cause');
      expect(toApiError('UNKNOWN', error, request, logger).status).toBe(500);
      const lines = entries(logs).slice(-4);
      expect(lines.map((line) => line.err.code ?? line.err.cause?.code)).toEqual([code, code, code, code]);
    }
    const text = logs.text();
    for (const form of [name, value, notANumber, json, card].flatMap(spellings)) expect(text).not.toContain(form);
    const first = entries(logs)[0]!;
    expect(first.err).toMatchObject({ type: 'DrizzleQueryError', code: '23505', table: 'system_secrets', constraint: 'system_secrets_pkey', statement: 'insert' });
    expect(first.err.message).toContain('duplicate key value violates unique constraint "system_secrets_pkey"');
    expect(first.err.stack).toContain('DrizzleQueryError: Failed query (insert)');
    expect(first.err.detail).toBeUndefined();
    expect(first.err.cause.detail).toBeUndefined();
    expect(entries(logs)[4]!.err.message).toContain('invalid input syntax for type integer: [redacted]');
  });
});
