import { cpSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';

/** Ports this process handed out already: released ports can be drawn again. */
const handedOut = new Set<number>();

/**
 * A free loopback port (the OS picks it, then we release it for the child), never one
 * handed out before in this process: the OS may give a just-released port again, and two
 * children told the same port would collide (a drill's API replica and worker once did).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export function tempDir(prefix = 'nimbus-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const CLI = join(import.meta.dir, '..', '..', 'main.ts');

let template: Promise<string> | undefined;

/**
 * A data directory of the embedded database, already migrated: a copy of one that
 * `nimbus migrate` made once for this test process. For children whose subject is not
 * the first start (SIGTERM, the worker, a CLI command against an existing database): each
 * skips the embedded database's initdb and migrations, 10 to 15 s of CPU on the shared
 * machine. Tests of the first start itself keep an empty `tempDir()`.
 */
export async function migratedDataDir(): Promise<string> {
  template ??= (async () => {
    const dir = tempDir('nimbus-template-');
    const child = spawnNimbus(['migrate'], { NIMBUS_DATA_DIR: dir, LOG_LEVEL: 'silent' });
    if ((await child.exited) !== 0) throw new Error(`nimbus migrate of the template data directory failed: ${await new Response(child.stderr).text()}`);
    return dir;
  })();
  const dir = tempDir();
  cpSync(await template, dir, { recursive: true });
  return dir;
}

/** Runs `nimbus <args>` as a child process (the real CLI, real signals). */
export function spawnNimbus(args: string[], env: Record<string, string>): Subprocess<'ignore', 'pipe', 'pipe'> {
  return Bun.spawn([process.execPath, CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
}

/**
 * Polls a URL until it answers `status` or the deadline passes. A fresh process on the
 * embedded database can take well over 20 s to be ready on a busy shared machine; the
 * bound only decides how long a real failure takes to show.
 */
export async function waitFor(url: string, status = 200, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status === status) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (${last})`);
}
