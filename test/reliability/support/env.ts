/**
 * How a drill run is sized and where it writes. The runner (test/reliability/run.ts)
 * sets these; a drill file run by hand with `bun test ./test/reliability/<name>.drill.ts`
 * gets the CI sizes against the local PostgreSQL.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type DrillMode = 'ci' | 'long';

export const MODE: DrillMode = process.env.NIMBUS_DRILL_MODE === 'long' ? 'long' : 'ci';

/** Picks the CI or the long value. */
export function sized<T>(values: { ci: T; long: T }): T {
  return values[MODE];
}

/**
 * The PostgreSQL server the drills use, as an admin connection string (the `postgres`
 * database). Every drill makes its own database on it and drops it afterwards.
 */
export const ADMIN_URL = (() => {
  const explicit = process.env.NIMBUS_DRILL_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const url = new URL(explicit ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = '/postgres';
  return url.toString();
})();

/** Database names start with this, so the runner can drop whatever a crashed drill left. */
export const DB_PREFIX = process.env.NIMBUS_DRILL_DB_PREFIX ?? `nimbus_drill_${process.pid}`;

/** The PostgreSQL restart drill stops the whole server: only where nothing else uses it. */
export const PG_RESTART = process.env.NIMBUS_DRILL_PG_RESTART === '1';

/** Where each drill writes its figures as JSON, for the runner's summary and the README. */
export function figuresDir(): string | undefined {
  const dir = process.env.NIMBUS_DRILL_FIGURES_DIR;
  if (dir) mkdirSync(dir, { recursive: true });
  return dir;
}

export const ROOT = join(import.meta.dir, '..', '..', '..');
