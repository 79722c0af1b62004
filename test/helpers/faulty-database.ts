import type { TestDatabase } from './db';

type Kind = 'tenant' | 'system';

/**
 * A database whose next transactions fail, as an outage between two statements of a
 * request would (the connection drops, the primary fails over). Tenant and system
 * transactions are counted apart: background writes (audit trail, processor call
 * records) run as the system, so a test aiming at a request's own tenant transaction
 * is not thrown off by them. The wrapped database is untouched: the test still reads
 * and closes it directly.
 */
export interface FaultyDatabase {
  database: TestDatabase;
  /** The next `count` transactions of that kind fail before running (Infinity: until heal()). */
  failNext(count: number, kind?: Kind): void;
  /** Every transaction runs again. */
  heal(): void;
  /** Calls `then` once the next transaction of that kind has committed (e.g. to fail what follows it). */
  afterNext(kind: Kind, then: () => void): void;
  /**
   * The next tenant transaction (not a one-statement read) finishes its statements, then
   * waits `ms` before it commits: a slow commit, as on a loaded primary.
   */
  slowCommitNext(ms: number): void;
}

export function faultyDatabase(inner: TestDatabase): FaultyDatabase {
  const failures: Record<Kind, number> = { tenant: 0, system: 0 };
  const after: Partial<Record<Kind, () => void>> = {};
  let commitDelayMs = 0;
  const gate = async <T>(kind: Kind, run: () => Promise<T>): Promise<T> => {
    if (failures[kind] > 0) {
      failures[kind] -= 1;
      throw new Error('simulated database outage');
    }
    const value = await run();
    const then = after[kind];
    delete after[kind];
    then?.();
    return value;
  };
  const database: TestDatabase = {
    ...inner,
    tenant: (tenantId, fn) =>
      gate('tenant', () => {
        const delay = commitDelayMs;
        commitDelayMs = 0;
        if (delay === 0) return inner.tenant(tenantId, fn);
        return inner.tenant(tenantId, async (tx) => {
          const value = await fn(tx);
          await Bun.sleep(delay);
          return value;
        });
      }),
    tenantRead: (tenantId, text, params) => gate('tenant', () => inner.tenantRead(tenantId, text, params)),
    system: (fn) => gate('system', () => inner.system(fn)),
  };
  return {
    database,
    failNext: (count, kind = 'tenant') => void (failures[kind] = count),
    heal: () => Object.assign(failures, { tenant: 0, system: 0 }),
    afterNext: (kind, then) => void (after[kind] = then),
    slowCommitNext: (ms) => void (commitDelayMs = ms),
  };
}
