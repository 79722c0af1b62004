import type { Tx } from '../db';

/**
 * The writes a request owes besides its own change, committed with that change.
 *
 * A payment costs two commits (DESIGN.md): one before the processor call, one after. The
 * idempotent answer and the audit row belong to other plugins (idempotency, audit), whose
 * global hooks used to write them in transactions of their own, after the answer: two more
 * commits per request. Instead each of those plugins adds its write to the request's unit
 * of work, and the service that commits the request's outcome runs them in that last
 * transaction (`flush`), then says it committed (`committed`). Nothing here knows which
 * plugins contribute; a route whose service never flushes loses nothing, because every
 * contributor's own hook still writes whatever was not committed this way.
 *
 * Why this seam rather than the payments service calling the idempotency and audit
 * stores itself: the payments plugin would then know two other plugins' tables and the
 * rules of when to write them (skip a 5xx, seal the body, the audit row's fields), and
 * every future plugin with a two-commit path would repeat that. Here the payments layer
 * only knows "my last transaction, and what I answered".
 */

/** What the request answered, as known in the transaction that commits its outcome. */
export interface RequestOutcome {
  status: number;
  /** The response body exactly as it is sent (and replayed). */
  body: string;
  /** The object the request created or changed (the audit trail's resource). */
  resourceId?: string;
}

/** A write another plugin owes for this request. */
export interface DeferredWrite {
  /** Runs inside the transaction that commits the request's outcome. */
  write(tx: Tx, outcome: RequestOutcome): Promise<void>;
  /** That transaction committed: the contributor's own hook may skip its write. */
  committed?(outcome: RequestOutcome): void;
}

export interface UnitOfWork {
  add(write: DeferredWrite): void;
  /** In the service's last transaction: runs every contributor's write (pipelined, in order). */
  flush(tx: Tx, outcome: RequestOutcome): Promise<void>;
  /** After that transaction committed. */
  committed(): void;
  /** Whether the contributions committed with the request's outcome. */
  readonly done: boolean;
}

function createUnitOfWork(): UnitOfWork {
  const writes: DeferredWrite[] = [];
  let flushed: RequestOutcome | undefined;
  let done = false;
  return {
    add: (write) => void writes.push(write),
    async flush(tx, outcome) {
      flushed = outcome;
      await Promise.all(writes.map((write) => write.write(tx, outcome)));
    },
    committed() {
      if (!flushed || done) return;
      done = true;
      for (const write of writes) write.committed?.(flushed);
    },
    get done() {
      return done;
    },
  };
}

const units = new WeakMap<Request, UnitOfWork>();

/** The request's unit of work (made on first use). */
export function unitOfWork(request: Request): UnitOfWork {
  let unit = units.get(request);
  if (!unit) units.set(request, (unit = createUnitOfWork()));
  return unit;
}

/**
 * What a service is handed to finish a request: its last transaction calls `write` with
 * its result (the route's `answer` turns that into the response), and `committed` once
 * that transaction committed. Services never see the request itself.
 */
export interface RequestCommit<R> {
  write(tx: Tx, result: R): Promise<void>;
  committed(): void;
}

export function requestCommit<R>(request: Request, answer: (result: R) => RequestOutcome): RequestCommit<R> {
  const unit = unitOfWork(request);
  return {
    write: (tx, result) => unit.flush(tx, answer(result)),
    committed: () => unit.committed(),
  };
}

/**
 * Thrown to end a request with a response that is already complete (an idempotent
 * replay found in the middle of a service's transaction): the error hook sends it as it
 * is, every other hook sees its status.
 */
export class RespondWith extends Error {
  constructor(readonly response: Response) {
    super(`answered with ${response.status}`);
    this.name = 'RespondWith';
  }
}
