import type { TestDatabase } from './db';

/**
 * A database whose next transactions fail, as an outage between two statements of a
 * request would (the connection drops, the primary fails over). The wrapped database
 * is untouched: the test still reads and closes it directly.
 */
export interface FaultyDatabase {
  database: TestDatabase;
  /** The next `count` transactions (tenant or system) fail before running. */
  failNext(count: number): void;
}

export function faultyDatabase(inner: TestDatabase): FaultyDatabase {
  let failures = 0;
  const gate = <T>(run: () => Promise<T>): Promise<T> => {
    if (failures > 0) {
      failures -= 1;
      return Promise.reject(new Error('simulated database outage'));
    }
    return run();
  };
  const database: TestDatabase = {
    ...inner,
    tenant: (tenantId, fn) => gate(() => inner.tenant(tenantId, fn)),
    system: (fn) => gate(() => inner.system(fn)),
  };
  return { database, failNext: (count) => void (failures = count) };
}
