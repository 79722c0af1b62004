import { DrizzleQueryError } from 'drizzle-orm';

/**
 * The logger's error serializer. pino's default one writes every enumerable property and
 * appends each cause's message: for a failed query that is drizzle's
 * `Failed query: ...\nparams: <every bound value>`, the driver's `params`/`query`, and
 * PostgreSQL's own `detail` (`Key (x)=(<value>) already exists`, `Failing row contains
 * (<the whole row>)`), which may hold a client secret hash, a webhook secret, a sealed
 * vault or metadata. Database errors are written here with what identifies the failure
 * (SQLSTATE code, severity, schema, table, column, constraint, routine, the statement's
 * verb) and a message scrubbed of the values PostgreSQL echoes; other errors keep their
 * properties minus the same value-carrying keys. Causes are nested, not appended.
 */

/** Properties that carry values (bound parameters, query text, row contents, surrounding SQL): never written. */
const VALUE_KEYS = new Set(['params', 'parameters', 'args', 'types', 'query', 'queryOptions', 'detail', 'hint', 'where', 'internalQuery', 'internalPosition', 'position']);

/** What a PostgreSQL error may keep, under one name whichever driver (PGlite, postgres.js) raised it. */
const DATABASE_FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['code', ['code']],
  ['severity', ['severity']],
  ['schema', ['schema', 'schema_name']],
  ['table', ['table', 'table_name']],
  ['column', ['column', 'column_name']],
  ['data_type', ['dataType', 'data_type']],
  ['constraint', ['constraint', 'constraint_name']],
  ['routine', ['routine']],
];

/** Words after which PostgreSQL quotes a name, not a value: `constraint "x"`, `relation "y"`, `column "z"`. */
const NAME_WORDS = new Set([
  'constraint', 'relation', 'column', 'table', 'index', 'type', 'function', 'schema', 'sequence', 'view', 'role', 'database',
  'policy', 'trigger', 'encoding', 'extension', 'operator', 'domain', 'collation', 'cursor', 'savepoint', 'statement', 'channel',
  'tablespace', 'parameter', 'portal', 'publication', 'subscription', 'server', 'wrapper', 'aggregate', 'procedure', 'attribute',
]);

const REDACTED = '[redacted]';
const MAX_DEPTH = 5;

type Fields = Record<string, unknown>;

function isErrorLike(value: unknown): value is Error & Fields {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** A PostgreSQL error as either driver raises it: a five-character SQLSTATE beside a severity. */
function isPostgresError(error: Fields): boolean {
  return typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code) && typeof error.severity === 'string';
}

/**
 * PostgreSQL's message without the values it echoes: what follows the first `: `
 * (`invalid input syntax for type integer: "<value>"`, `invalid byte sequence for encoding
 * "UTF8": 0x00`), any quoted text not introduced by a kind of name (`value "<value>" is out
 * of range`), and `Key (...)=(...)` pairs. A raised exception (P0001) is all text of ours.
 */
export function scrubDatabaseMessage(message: string, code?: unknown): string {
  if (code === 'P0001') return REDACTED;
  let text = message;
  const colon = /: /.exec(text.replace(/"(?:[^"]|"")*"/g, (quoted) => '_'.repeat(quoted.length)));
  if (colon) text = `${text.slice(0, colon.index)}: ${REDACTED}`;
  text = text.replace(/=\([^]*?\)(?=\s|$|\.)/g, `=(${REDACTED})`);
  return text.replace(/(\b[A-Za-z_]+\s+)?"(?:[^"]|"")*"/g, (quoted, before: string | undefined) =>
    before && NAME_WORDS.has(before.trim().toLowerCase()) ? quoted : `${before ?? ''}"${REDACTED}"`,
  );
}

/** The first word of a statement (`insert`, `update`, `select`, ...): which kind of query failed, without its text. */
function verbOf(query: unknown): string | undefined {
  const verb = typeof query === 'string' ? /^\s*([A-Za-z]+)/.exec(query)?.[1]?.toLowerCase() : undefined;
  return verb && verb.length <= 12 ? verb : undefined;
}

/** The stack's frames under a header we wrote: the original first lines repeat the (unscrubbed) message. */
function framesOnly(stack: unknown, header: string): string | undefined {
  if (typeof stack !== 'string') return undefined;
  const frames = stack.split('\n').filter((line) => /^\s+at\s/.test(line));
  return [header, ...frames].join('\n');
}

function typeOf(error: Error & Fields): string {
  // PGlite's error class is minified away; postgres.js names its own.
  if (isPostgresError(error)) return error.name === 'PostgresError' ? 'PostgresError' : 'DatabaseError';
  const name = (error.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : String(error.name ?? 'Error');
}

function serialize(error: Error & Fields, seen: Set<unknown>, depth: number): Fields {
  seen.add(error);
  const type = typeOf(error);
  const out: Fields = { type };
  const cause = isErrorLike(error.cause) && !seen.has(error.cause) && depth < MAX_DEPTH ? error.cause : undefined;
  if (error instanceof DrizzleQueryError) {
    // drizzle's message is the query text and every bound value: say which statement failed and why.
    const verb = verbOf(error.query);
    const reason = cause ? (isPostgresError(cause) ? scrubDatabaseMessage(cause.message, cause.code) : cause.message) : undefined;
    out.message = `Failed query${verb ? ` (${verb})` : ''}${reason ? `: ${reason}` : ''}`;
    if (verb) out.statement = verb;
    // The SQLSTATE and names at the top, where a reader (or an alert) looks first.
    if (cause && isPostgresError(cause)) for (const [name, keys] of DATABASE_FIELDS) copyFirst(out, name, cause, keys);
  } else if (isPostgresError(error)) {
    out.message = scrubDatabaseMessage(error.message, error.code);
    for (const [name, keys] of DATABASE_FIELDS) copyFirst(out, name, error, keys);
  } else {
    out.message = error.message;
    for (const key in error) {
      if (key === 'cause' || key === 'stack' || key === 'message' || VALUE_KEYS.has(key) || key in out) continue;
      const value = error[key];
      if (isErrorLike(value)) {
        if (!seen.has(value) && depth < MAX_DEPTH) out[key] = serialize(value, seen, depth + 1);
      } else {
        out[key] = value;
      }
    }
    if (Array.isArray(error.errors)) {
      out.aggregateErrors = error.errors.filter(isErrorLike).filter((inner) => !seen.has(inner)).map((inner) => serialize(inner, seen, depth + 1));
    }
  }
  const stack = framesOnly(error.stack, `${type}: ${String(out.message)}`);
  if (stack !== undefined) out.stack = stack;
  if (cause) out.cause = serialize(cause, seen, depth + 1);
  return out;
}

function copyFirst(out: Fields, name: string, from: Fields, keys: readonly string[]): void {
  for (const key of keys) {
    const value = from[key];
    // Strings only: Bun puts a numeric `column` (of the source line) on every error.
    if (typeof value === 'string' && value !== '') {
      out[name] = value;
      return;
    }
  }
}

/** pino serializer for `err` (and `error`, `cause`): anything not error-like passes through unchanged. */
export function serializeError(value: unknown): unknown {
  return isErrorLike(value) ? serialize(value, new Set(), 0) : value;
}
