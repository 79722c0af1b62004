#!/usr/bin/env node
/**
 * Applied after every `npm install` / `npm ci` (the root package's own postinstall, which
 * npm runs; no dependency script is involved). Two guards for postgres.js 3.4.9, which
 * otherwise throws an uncaught exception when the database drops a connection under load,
 * killing the whole server (upstream issues porsager/postgres #1066, #1154, #1208; fixes
 * proposed in #1168, #1176, #1209, unreleased):
 *  1. nextWrite: a write scheduled with setImmediate can run after `closed()` set the
 *     socket to null (`TypeError: null is not an object (evaluating 'socket.write')`).
 *  2. closed(): removeAllListeners() drops the socket's 'error' listener, so an error the
 *     dead socket still emits (ECONNREFUSED, ECONNRESET) becomes an unhandled 'error' event.
 *  3. ReadyForQuery: `return fetchArrayTypes()` drops the promise of the query that reads
 *     the array types on a fresh connection. When that connection is cut before the answer
 *     and its reconnect is refused, the query is rejected (ECONNREFUSED) with nobody to
 *     catch it: an unhandled rejection (test/e2e/postgres-driver-patch.test.ts).
 *  4. closed() kept `query` (the statement awaiting its answer) after the socket was gone,
 *     and execute() kept accepting statements for it: a transaction's ROLLBACK sent after
 *     the cut was queued on the dead connection, and once the connection came back every
 *     answer was matched to the statement before it, so a later request waited forever
 *     (test/e2e/database-outage.test.ts). Now the closed connection fails `query` and
 *     refuses statements until it is connected again.
 * The queries in flight are failed by the driver's own close handling either way. Each
 * edit is idempotent; a version whose source differs is reported and left untouched
 * (package.json pins the version this patch was written for).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARK = '/* nimbus: patched */';
const EDITS = [
  {
    from: '    const x = socket.write(chunk, fn)\n',
    to: `    ${MARK} if (!socket) return (chunk = nextWriteTimer = null, false)\n    const x = socket.write(chunk, fn)\n`,
  },
  {
    from: '        return fetchArrayTypes()\n',
    to: `        ${MARK} return fetchArrayTypes().catch(() => {})\n`,
  },
  {
    from: '    socket.removeAllListeners()\n    socket = null\n',
    to: `    socket.removeAllListeners()\n    ${MARK} socket.on('error', () => {})\n    socket = null\n`,
  },
  {
    from: "    if (initial)\n      return reconnect()\n\n    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
    to: `    ${MARK} query && queryError(query, Errors.connection('CONNECTION_CLOSED', options, socket))\n    if (initial)\n      return (query = null, reconnect())\n\n    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n    query = null\n`,
  },
  {
    from: "      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))\n\n    if (stream)\n",
    to: `      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))\n\n    ${MARK} if (!socket)\n      return queryError(q, Errors.connection('CONNECTION_CLOSED', options))\n\n    if (stream)\n`,
  },
];

let problems = 0;
for (const variant of ['src', 'cjs/src', 'cf/src']) {
  const file = join(root, 'node_modules/postgres', variant, 'connection.js');
  if (!existsSync(file)) continue;
  let source = readFileSync(file, 'utf8');
  let changed = false;
  for (const edit of EDITS) {
    if (source.includes(edit.to)) continue;
    if (!source.includes(edit.from)) {
      problems++;
      console.warn(`patch-dependencies: ${variant}/connection.js of postgres has changed; guard not applied (see scripts/patch-dependencies.mjs).`);
      continue;
    }
    source = source.replace(edit.from, edit.to);
    changed = true;
  }
  if (changed) writeFileSync(file, source);
}
process.exitCode = problems > 0 && process.env.CI ? 1 : 0;
