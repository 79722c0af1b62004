/**
 * The database's own limit for what one request does: the SQL a request issues, captured
 * from PostgreSQL's statement log (`log_statement = all` on the benchmark database only),
 * turned into a pgbench script (fresh ids per transaction) and replayed by pgbench at the
 * same concurrency. The ratio API/pgbench says how much the server adds on top of the SQL.
 */
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { ADMIN_URL } from './server';

const LOG_FILE = process.env.BENCH_PG_LOG ?? '/var/log/postgresql/postgresql-15-main.log';

export interface CapturedStatement {
  sql: string;
  parameters: Array<string | null>;
  /** The backend that ran it (the log line's `[pid]`). */
  session: string;
}

export async function setStatementLogging(database: string, on: boolean): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(on ? `alter database "${database}" set log_statement = 'all'` : `alter database "${database}" reset log_statement`);
  await admin.end();
}

export function logOffset(): number {
  return statSync(LOG_FILE).size;
}

function readFrom(offset: number): string {
  const size = statSync(LOG_FILE).size;
  const buffer = Buffer.alloc(Math.max(0, size - offset));
  const fd = openSync(LOG_FILE, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

/** `$1 = 'a', $2 = NULL, $3 = 'it''s'` -> ['a', null, "it's"]. */
function parseParameters(text: string): Array<string | null> {
  const values: Array<string | null> = [];
  const pattern = /\$(\d+) = (NULL|'((?:[^']|'')*)')/g;
  for (const match of text.matchAll(pattern)) {
    values[Number(match[1]) - 1] = match[2] === 'NULL' ? null : match[3]!.replace(/''/g, "'");
  }
  return values;
}

/**
 * Every statement one database's sessions logged after `offset`, in log order, with its
 * parameters (extended protocol logs them on a DETAIL line). Parse/bind lines are skipped.
 */
export function capturedSince(offset: number, database: string): CapturedStatement[] {
  const lines = readFrom(offset).split('\n');
  const marker = `@${database} `;
  const statements: CapturedStatement[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.includes(marker)) continue;
    const match = /LOG:\s+(?:statement|execute [^:]*): (.*)$/.exec(line);
    if (!match) continue;
    const session = /\[(\d+)\]/.exec(line)?.[1] ?? '';
    let sql = match[1]!;
    // Multi-line statements continue on lines without the log prefix.
    while (i + 1 < lines.length && !/^\d{4}-\d{2}-\d{2} /.test(lines[i + 1]!)) sql += `\n${lines[++i]}`;
    const next = lines[i + 1] ?? '';
    const parameters = next.includes(marker) && next.includes('DETAIL:  parameters:') ? parseParameters(next) : [];
    statements.push({ sql, parameters, session });
  }
  return statements;
}

/**
 * The statements as whole transactions, one after another: sessions run concurrently (a
 * connector's ledger transaction on one connection while the request waits on another),
 * so the log interleaves them; pgbench replays on one connection. Each transaction keeps
 * its statements in order and its place by where it began.
 */
export function asTransactions(statements: CapturedStatement[]): CapturedStatement[][] {
  const open = new Map<string, CapturedStatement[]>();
  const transactions: CapturedStatement[][] = [];
  for (const statement of statements) {
    const verb = statement.sql.trim().toLowerCase();
    let current = open.get(statement.session);
    if (!current) {
      current = [];
      transactions.push(current);
      if (verb.startsWith('begin')) open.set(statement.session, current);
    }
    current.push(statement);
    if (verb.startsWith('commit') || verb.startsWith('rollback')) open.delete(statement.session);
  }
  return transactions;
}

/** Object ids, the benchmark's Idempotency-Keys (`idem_...`) and the simulator's references: unique per replayed transaction. */
const ID = /\b(?:pay|evt|wd|re|aud|att|req|idem|sim|simevt|sim_re)_[A-Za-z0-9_-]{8,}\b/g;
const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * A pgbench script: the captured statements with their parameters inlined and every
 * object id made unique per transaction (`:n` is a fresh random number each time), so
 * primary keys never collide. JSON parameters that carried ids are cast back to jsonb.
 */
export function pgbenchScript(captured: CapturedStatement[]): string {
  const statements = asTransactions(captured).flat();
  const ids = new Map<string, string>();
  const replacement = (id: string) => {
    if (!ids.has(id)) ids.set(id, `${id.slice(0, id.indexOf('_') + 1)}' || :n::text || '_${ids.size}`);
    return ids.get(id)!;
  };
  const literal = (value: string | null): string => {
    if (value === null) return 'NULL';
    const found = [...new Set(value.match(ID) ?? [])];
    if (found.length === 0) return quote(value);
    let expression = quote(value);
    for (const id of found) expression = `replace(${expression}, ${quote(id)}, '${replacement(id)}')`;
    return /^[[{]/.test(value.trim()) ? `(${expression})::jsonb` : `(${expression})`;
  };
  const body = statements.map(({ sql, parameters }) => {
    let text = sql;
    for (let index = parameters.length; index >= 1; index--) text = text.replaceAll(`$${index}`, literal(parameters[index - 1] ?? null));
    return `${text.replace(/\s*;?\s*$/, '')};`;
  });
  return ['\\set n random(1, 2000000000)', ...body].join('\n') + '\n';
}

export interface PgbenchFigures {
  connections: number;
  tps: number;
  statements: number;
  transactions: number;
}

/** Runs pgbench (simple query mode, statements as captured) for `seconds` at `connections` and reads its TPS line. */
export async function runPgbench(databaseUrl: string, script: string, connections: number, seconds: number): Promise<PgbenchFigures & { output: string }> {
  const file = join(tmpdir(), `nimbus-replay-${process.pid}.sql`);
  writeFileSync(file, script);
  const child = Bun.spawn(['pgbench', '-n', '-f', file, '-c', String(connections), '-j', String(Math.min(connections, 2)), '-T', String(seconds), databaseUrl], {
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [output, errors] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  await child.exited;
  const tps = Number(/tps = ([\d.]+)/.exec(output)?.[1] ?? 0);
  const statements = script.split('\n').filter((line) => line.trim().endsWith(';')).length;
  const transactions = script.split('\n').filter((line) => /^\s*commit\s*;/i.test(line)).length;
  return { connections, tps, statements, transactions, output: `${output}${errors}` };
}
