import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * scripts/patch-dependencies.mjs (our postinstall, and a step of the image build) guards
 * postgres.js against crashing the process when the database drops a connection: a
 * deferred write on a socket already gone, and an error event from a socket whose
 * listeners were removed. The outage tests and drills exercise the behaviour; this test
 * proves the installed driver is the patched one, in every module variant it ships.
 */
const ROOT = join(import.meta.dir, '..', '..');

describe('the installed postgres.js carries our guards', () => {
  test.each(['src', 'cjs/src', 'cf/src'])('%s/connection.js', (variant) => {
    const source = readFileSync(join(ROOT, 'node_modules/postgres', variant, 'connection.js'), 'utf8');
    expect(source).toContain("/* nimbus: patched */ if (!socket) return (chunk = nextWriteTimer = null, false)");
    expect(source).toContain("/* nimbus: patched */ socket.on('error', () => {})");
  });

  test('the version is pinned to the one the guards were written for', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules/postgres/package.json'), 'utf8')) as { version: string };
    expect(pkg.dependencies.postgres).toBe(installed.version);
  });
});
