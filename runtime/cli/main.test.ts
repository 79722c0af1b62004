import { describe, expect, test } from 'bun:test';
import { DrizzleQueryError } from 'drizzle-orm';
import { serializeError } from '../log-errors';

/** What `nimbus <command>` prints for a failed command goes through the logs' scrubbing. */
describe('CLI error output', () => {
  test('a database error prints without the bound parameters drizzle puts in its message', () => {
    const cause = Object.assign(new Error('duplicate key value violates unique constraint "clients_pkey"'), {
      code: '23505',
      severity: 'ERROR',
      detail: 'Key (id)=(cli_secretish) already exists.',
    });
    const error = new DrizzleQueryError('insert into "clients" ("id", "secret_hash") values ($1, $2)', ['cli_secretish', 'cs_live_secret_value'], cause);
    const message = (serializeError(error) as { message: string }).message;
    expect(error.message).toContain('cs_live_secret_value');
    expect(message).not.toContain('cs_live_secret_value');
    expect(message).not.toContain('cli_secretish');
    expect(message).toContain('insert');
  });
});
