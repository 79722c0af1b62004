/**
 * Durable state a connector keeps of its own (the simulator's ledger, a bank-file
 * connector's batches and files): JSON values by key, namespaced per processor. Connectors
 * never see the database; the kernel backs this with PostgreSQL (runtime/processor-state.ts)
 * so state survives restarts and is shared by every replica and worker, and with memory
 * where no database is given (unit tests, the conformance kit).
 */
export interface ProcessorStateTx {
  /** Reads a value and holds it until the transaction ends (read-modify-write safe across replicas). */
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface ProcessorState {
  get<T>(key: string): Promise<T | undefined>;
  /** Values whose key starts with `prefix`, in key order (at most `limit`, default 1000). */
  list<T>(prefix: string, limit?: number): Promise<Array<{ key: string; value: T }>>;
  /** Runs `fn` in one transaction: all its writes commit together or not at all. */
  transaction<T>(fn: (tx: ProcessorStateTx) => Promise<T>): Promise<T>;
}

/** Gives each processor its own namespace of one store. */
export type ProcessorStateFactory = (processorId: string) => ProcessorState;

/**
 * In memory, one per processor instance: for tests and the conformance kit. Transactions
 * run one at a time and keep their writes aside until they commit.
 */
export function createMemoryProcessorState(): ProcessorState {
  const values = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();
  const read = <T>(key: string): T | undefined => {
    const raw = values.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  };
  return {
    async get(key) {
      return read(key);
    },
    async list(prefix, limit = 1000) {
      return [...values.keys()]
        .filter((key) => key.startsWith(prefix))
        .sort()
        .slice(0, limit)
        .map((key) => ({ key, value: read(key)! }));
    },
    transaction(fn) {
      const run = queue.then(async () => {
        const writes = new Map<string, string | undefined>();
        const result = await fn({
          async get(key) {
            if (writes.has(key)) {
              const raw = writes.get(key);
              return raw === undefined ? undefined : JSON.parse(raw);
            }
            return read(key);
          },
          async put(key, value) {
            writes.set(key, JSON.stringify(value));
          },
          async delete(key) {
            writes.set(key, undefined);
          },
        });
        for (const [key, raw] of writes) {
          if (raw === undefined) values.delete(key);
          else values.set(key, raw);
        }
        return result;
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
