import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Config } from '../config';

/**
 * The embedded database (PGlite) lives in one process: a second process opening the same
 * data directory would corrupt it. So a `nimbus serve` on the embedded database leaves
 * a small file beside the data directory (its pid, URL and a one-off local token, mode
 * 0600) and runs plugin commands (`nimbus bootstrap`) sent through a hidden loopback
 * route instead, and a second `serve` or `worker` on the same directory refuses to start.
 */
export interface LocalServerInfo {
  pid: number;
  url: string;
  token: string;
}

/** `POST <path>/<command>` with `{ flags }`; answers the command's JSON result. */
export const LOCAL_COMMAND_PATH = '/internal/local';
export const LOCAL_TOKEN_HEADER = 'x-nimbus-local-token';

export function localServerFile(config: Config): string {
  return `${config.dataDir.replace(/\/+$/, '')}.server.json`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running embedded server for this data directory, if there is one. */
export function runningLocalServer(config: Config): LocalServerInfo | undefined {
  if (config.databaseUrl) return undefined;
  try {
    const info = JSON.parse(readFileSync(localServerFile(config), 'utf8')) as LocalServerInfo;
    return info.pid !== process.pid && alive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses to open the embedded database that a running server already holds. */
export function assertDataDirFree(config: Config, command: string): void {
  const running = runningLocalServer(config);
  if (running) {
    throw new Error(
      `NIMBUS_DATA_DIR=${config.dataDir} is in use by a running nimbus serve (pid ${running.pid}, ${running.url}); ` +
        `the embedded database allows one process. Stop it, or point ${command} at another NIMBUS_DATA_DIR or a DATABASE_URL.`,
    );
  }
}

export function newLocalToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the file `nimbus bootstrap` reads; returns its remover for shutdown. */
export function publishLocalServer(config: Config, url: string, token: string): () => void {
  const file = localServerFile(config);
  writeFileSync(file, JSON.stringify({ pid: process.pid, url, token } satisfies LocalServerInfo), { mode: 0o600 });
  chmodSync(file, 0o600);
  return () => rmSync(file, { force: true });
}

export function localTokenMatches(expected: string, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
