import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { PostgresJsSession, PostgresJsTransaction } from 'drizzle-orm/postgres-js/session';
import type { Sql, TransactionSql } from 'postgres';
import type { Db, Tx } from './client';
import { attachRunner, runStatement, type StatementRunner } from './statements';

/**
 * Transactions on postgres.js with fewer round trips.
 *
 * drizzle sends every statement unnamed, which postgres.js turns into two round trips
 * (Parse/Describe, then Bind/Execute), and PostgreSQL parses and plans it every time.
 * Here every statement of a transaction is a named prepared statement (one round trip,
 * planned once per connection), and the `set_config` of the role and tenant is written
 * together with the transaction's first statement (pipelined, no round trip of its own).
 *
 * BEGIN and COMMIT stay postgres.js's `begin()`: a pipelined BEGIN needs a reserved
 * connection, and postgres.js 3.4.9 loses a `reserve()` waiting while the database is
 * unreachable (handed to a reconnecting connection as its first query and dropped), which
 * the outage test (test/e2e/database-outage.test.ts) caught as a request hanging forever.
 * A patch to `begin()` that wrote BEGIN together with the first statements was measured
 * and taken back: a BEGIN refused on a live connection would have let the statements
 * behind it run outside any transaction (bench/README.md).
 *
 * A transaction's statements may be in flight together (a payment's insert, its event
 * and its outbox rows). Once the transaction ends, or once its connection is gone, it
 * refuses further statements: a branch still running after a sibling failed can never
 * send a statement outside the transaction, nor onto a dead connection (where
 * postgres.js would wait for an answer forever).
 */

/** Told about every statement a transaction sends (tests count them; see DatabaseOptions.observer). */
export interface StatementObserver {
  transaction?(kind: 'tenant' | 'system'): void;
  statement?(sql: string): void;
}

export interface TransactionSettings {
  kind: 'tenant' | 'system';
  role: string;
  tenant: string;
  system: boolean;
}

const SETTINGS_SQL = "select set_config('role', $1, true), set_config('nimbus.tenant_id', $2, true), set_config('nimbus.system', $3, true)";

/** Errors after which the connection is gone. */
const CONNECTION_GONE = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED']);

function connectionGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_GONE.has(code);
}

type Rows = Array<Record<string, unknown>> & { command: string };

/** A statement refused before it reached the connection; drizzle calls `.values()` on what `unsafe` returns. */
function refused(reason: string) {
  const error = Object.assign(new Error(`statement not sent: ${reason}`), { code: 'TRANSACTION_OVER' });
  const rejected = Promise.reject(error);
  rejected.catch(() => undefined);
  return Object.assign(rejected, { values: () => rejected });
}

/** One transaction's way to its connection. */
function channel(reserved: TransactionSql, observer?: StatementObserver) {
  let over: string | undefined;
  function unsafe(text: string, params: readonly unknown[] = [], options?: object) {
    if (over) return refused(over);
    observer?.statement?.(text);
    const query = reserved.unsafe(text, params as never[], { ...options, prepare: true });
    // Starts the query (postgres.js queries are lazy) and notes a lost connection before the caller sees the error.
    query.catch((error: unknown) => {
      if (connectionGone(error)) over ??= 'the connection is gone';
    });
    return query;
  }
  return {
    unsafe,
    send: (text: string, params: readonly unknown[] = []) => unsafe(text, params) as unknown as Promise<Rows>,
    /** From now on nothing more is sent (postgres.js sends COMMIT or ROLLBACK, last). */
    end(reason: string) {
      over ??= reason;
    },
  };
}

/**
 * The drizzle transaction built on first use: a transaction that only runs text
 * statements (db/statements.ts, e.g. a GET) never pays for building one (drizzle makes a
 * query builder per table for every transaction object).
 */
function lazyTransaction(build: () => Tx, run: StatementRunner): Tx {
  let real: Tx | undefined;
  const target = attachRunner({}, run);
  return new Proxy(target, {
    get(own, property) {
      if (property in own) return (own as Record<PropertyKey, unknown>)[property];
      real ??= build();
      const value = (real as unknown as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? value.bind(real) : value;
    },
  }) as unknown as Tx;
}

interface DrizzleInternals {
  dialect: ConstructorParameters<typeof PostgresJsSession>[1];
  _: { fullSchema: Record<string, unknown>; schema: unknown; tableNamesMap: Record<string, string> };
}

export interface PipelinedTransactions {
  run<T>(settings: TransactionSettings, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** One read statement with the settings, in one round trip (see `read` below). */
  read(settings: TransactionSettings, text: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
}

/** Text that can stand in a quoted literal as it is: ids, statuses, ISO times, numbers as text. */
const PLAIN_TEXT = /^[A-Za-z0-9_.:+-]{0,256}$/;

/**
 * A value written into the statement text, or undefined when it cannot be written
 * safely (the caller then sends it as a parameter). Only characters that can never end a
 * literal or start a comment are accepted. Numbers are quoted too: an untyped literal
 * takes its type from where it stands, as a parameter does (`(11)` would be an integer
 * even beside a text column), and `- $1` cannot become `--`.
 */
export function sqlLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? `'${value}'` : undefined;
  if (typeof value === 'bigint') return `'${value}'`;
  if (typeof value === 'string' && PLAIN_TEXT.test(value)) return `'${value}'`;
  return undefined;
}

/** `$1..$n` replaced by the values as literals; undefined if one of them cannot be. */
export function inlineParameters(text: string, params: readonly unknown[]): string | undefined {
  const literals = params.map(sqlLiteral);
  if (literals.some((literal) => literal === undefined)) return undefined;
  let missing = false;
  const inlined = text.replace(/\$(\d+)/g, (_, n: string) => {
    const literal = literals[Number(n) - 1];
    if (literal === undefined) missing = true;
    return literal ?? '';
  });
  return missing ? undefined : inlined;
}

export function pipelinedTransactions(client: Sql, base: Db, observer?: StatementObserver, logger?: DrizzleLogger): PipelinedTransactions {
  const internals = base as unknown as DrizzleInternals;
  const dialect = internals.dialect;
  const relational = { fullSchema: internals._.fullSchema, schema: internals._.schema, tableNamesMap: internals._.tableNamesMap };

  async function run<T>(settings: TransactionSettings, fn: (tx: Tx) => Promise<T>): Promise<T> {
    observer?.transaction?.(settings.kind);
    observer?.statement?.('begin');
    const result = await client.begin(async (sql) => {
      const line = channel(sql, observer);
      // Not awaited: written together with the first statement of `fn`. A failure aborts the
      // transaction, so that statement fails too; the cause is reported from here.
      const settled = line.send(SETTINGS_SQL, [settings.role, settings.tenant, settings.system ? 'on' : 'off']);
      settled.catch(() => undefined);
      try {
        const value = await fn(lazyTransaction(() => {
          const session = new PostgresJsSession({ unsafe: line.unsafe } as never, dialect, relational as never, { logger });
          return new PostgresJsTransaction(dialect, session, relational as never) as unknown as Tx;
        }, line.send));
        await settled;
        return value;
      } catch (error) {
        throw await settled.then(
          () => error,
          (settingsError: unknown) => settingsError,
        );
      } finally {
        line.end('the transaction is over');
      }
    }).catch((error: unknown) => {
      observer?.statement?.('rollback');
      throw error;
    });
    observer?.statement?.('commit');
    return result as T;
  }

  /**
   * A read in one round trip. Outside a transaction block, PostgreSQL runs the statements
   * of one simple-protocol message as one implicit transaction, so the settings written
   * first (`set_config(..., true)`: the role and the tenant, this transaction only) bind
   * the statement after them, and nothing outlives the message on the pooled connection.
   * A transaction would cost three round trips (BEGIN; the settings and the statement;
   * COMMIT), each a socket write that cost more of the server's CPU than anything else a
   * GET does (bench/README.md). The simple protocol takes no parameters: the values are
   * written as literals, and only values that `sqlLiteral` can write safely go that way;
   * anything else runs as an ordinary transaction.
   */
  async function read(settings: TransactionSettings, text: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>> {
    const settingsText = inlineParameters(SETTINGS_SQL, [settings.role, settings.tenant, settings.system ? 'on' : 'off']);
    const statement = inlineParameters(text, params);
    if (settingsText === undefined || statement === undefined) return run(settings, (tx) => runStatement(tx, text, params));
    observer?.transaction?.(settings.kind);
    observer?.statement?.(settingsText);
    observer?.statement?.(statement);
    const results = (await client.unsafe(`${settingsText};\n${statement}`, [], { simple: true } as never)) as unknown as Rows[];
    return results[1] ?? [];
  }

  return { run, read };
}
