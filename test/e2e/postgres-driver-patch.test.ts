import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_DATABASE_URL } from '../helpers/db';

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

  test('the version is pinned to the one the guards were written for', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules/postgres/package.json'), 'utf8')) as { version: string };
    expect(pkg.dependencies.postgres).toBe(installed.version);
  });
});
