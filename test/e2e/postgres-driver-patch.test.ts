import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_DATABASE_URL } from '../helpers/db';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * scripts/patch-dependencies.mjs (our postinstall, and a step of the image build) guards
 * postgres.js against crashing the process when the database drops a connection: a
 * deferred write on a socket already gone, and an error event from a socket whose
 * listeners were removed, and the array-types query of a fresh connection rejected with
 * nobody to catch it. The outage tests and drills exercise the behaviour; this test proves
 * the installed driver is the patched one, in every module variant it ships, and cuts a
 * connection at the one moment that used to leave an unhandled rejection.
 */
const ROOT = join(import.meta.dir, '..', '..');

describe('the installed postgres.js carries our guards', () => {
  test.each(['src', 'cjs/src', 'cf/src'])('%s/connection.js', (variant) => {
    const source = readFileSync(join(ROOT, 'node_modules/postgres', variant, 'connection.js'), 'utf8');
    expect(source).toContain("/* nimbus: patched */ if (!socket) return (chunk = nextWriteTimer = null, false)");
    expect(source).toContain("/* nimbus: patched */ socket.on('error', () => {})");
    expect(source).toContain('/* nimbus: patched */ return fetchArrayTypes().catch(() => {})');
    expect(source).toContain("/* nimbus: patched */ query && queryError(query, Errors.connection('CONNECTION_CLOSED', options, socket))");
    expect(source).toContain('/* nimbus: patched */ if (!socket)');
  });

  /** Runs test/fixtures/pg-cut.ts in `mode` against the test server; its output and exit code. */
  async function cut(mode: 'types' | 'transaction'): Promise<{ out: string; code: number }> {
    const child = Bun.spawn([process.execPath, join(ROOT, 'test/fixtures/pg-cut.ts'), TEST_DATABASE_URL!, mode], { stdout: 'pipe', stderr: 'pipe' });
    const timer = setTimeout(() => child.kill(), 30_000);
    const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    clearTimeout(timer);
    return { out, code };
  }

  // Needs a PostgreSQL server to reach (the CI run on PostgreSQL, or any developer machine with one).
  test.skipIf(!TEST_DATABASE_URL)('a connection cut while it reads the array types, then refused, leaves no unhandled rejection', async () => {
    const { out, code } = await cut('types');
    expect(out).toContain('the query failed as it should: ECONNREFUSED');
    expect(out).not.toContain('unhandled');
    expect(code).toBe(0);
  });

  test.skipIf(!TEST_DATABASE_URL)('a connection cut in the middle of a transaction answers every later query once it is back (no answer matched to the wrong statement)', async () => {
    const { out, code } = await cut('transaction');
    expect(out).toContain('the query failed as it should: CONNECTION_CLOSED');
    expect(out).toContain('after the cut: 2\nafter the cut: 3\nafter the cut: 4');
    expect(out).not.toContain('hung');
    expect(code).toBe(0);
  });

  test.each(['src', 'cjs/src', 'cf/src'])('%s/index.js starts a transaction\'s function once its BEGIN is written', (variant) => {
    const source = readFileSync(join(ROOT, 'node_modules/postgres', variant, 'index.js'), 'utf8');
    expect(source).toContain('await (options ? begun : Promise.race([begun, assigned]))');
    expect(source).toContain('/* nimbus: patched */ assign()');
  });

  test.skipIf(!TEST_DATABASE_URL)('a transaction costs a round trip less: its first statements travel with BEGIN', async () => {
    const { default: postgres } = await import('postgres');
    const target = new URL(TEST_DATABASE_URL!);
    const counter = new TcpProxy(Number(target.port || 5432));
    counter.start();
    target.host = `127.0.0.1:${counter.port}`;
    const sql = postgres(target.toString(), { max: 1, onnotice: () => {} });
    try {
      await sql`select 1`; // connect, authenticate, read the array types
      let before = counter.flights;
      const rows = await sql.begin(async (tx) => {
        const [first, second] = await Promise.all([tx`select 1 as n`, tx`select 2 as n`]);
        return [first![0]!.n, second![0]!.n];
      });
      expect(rows).toEqual([1, 2]);
      // BEGIN and both statements in one flight, COMMIT in the next (unpatched: three).
      expect(counter.flights - before).toBe(2);

      // With options (an isolation level), BEGIN's answer is still awaited.
      before = counter.flights;
      await sql.begin('isolation level repeatable read', async (tx) => tx`select 1`);
      expect(counter.flights - before).toBe(3);

      // Still one transaction: a failed statement rolls back what came before it.
      await sql`create temporary table flights (n int)`;
      const failed = await sql.begin(async (tx) => {
        await tx`insert into flights values (1)`;
        await tx`select 1 / 0`;
      }).catch((error: { code?: string }) => error.code);
      expect(failed).toBe('22012');
      expect([...(await sql`select count(*)::int as n from flights`)]).toEqual([{ n: 0 }]);
    } finally {
      await sql.end({ timeout: 1 });
      counter.stop();
    }
  });

  test('the version is pinned to the one the guards were written for', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules/postgres/package.json'), 'utf8')) as { version: string };
    expect(pkg.dependencies.postgres).toBe(installed.version);
  });
});
