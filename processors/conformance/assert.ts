import type { CallOutcome } from '../sdk/caller.ts';

/** A conformance violation: the message says what a connector author should fix. */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message);
}

/** The value of a `result` outcome, or a failure explaining what came instead. */
export function resultOf<R>(outcome: CallOutcome<R>, what: string): R {
  if (outcome.kind !== 'result') {
    throw new ConformanceError(`${what}: expected a result, got ${JSON.stringify(outcome)}.`);
  }
  return outcome.value;
}

/** Checks the `status` of a result and narrows it. */
export function withStatus<R extends { status: string }, S extends R['status']>(
  value: R,
  status: S,
  what: string,
): Extract<R, { status: S }> {
  ensure(value.status === status, `${what}: expected status '${status}', got ${JSON.stringify(value)}.`);
  return value as Extract<R, { status: S }>;
}
