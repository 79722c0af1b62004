import type { Database } from '../../../db';
import { createAttemptRecorder, type AttemptRecorder } from '../attempts/recorder';
import { createProcessorCaller, type ProcessorCaller } from '../../../processors/sdk/index.ts';
import type { Config } from '../../../runtime/config';
import type { EventLog } from '../../../runtime/events';
import type { Logger } from '../../../runtime/logger';
import type { Metrics } from '../../../runtime/metrics';
import type { Env } from '../../../runtime/plugin';
import type { ProcessorDirectory } from './routing';
import { createRoutingCache, type RoutingCache } from './routing-rules';
import { paymentsSettings, type PaymentsSettings } from './settings';
import { createPaymentStore, type PaymentStore } from './store';
import { fingerprintKeyFor } from './vault';

/** What the payments layer is built from (the composition root passes these in). */
export interface PaymentsDeps {
  database: Database;
  registry: ProcessorDirectory;
  config: Pick<Config, 'reconcileAfterMs' | 'authorizationTtlMs' | 'fingerprintKey'>;
  metrics: Metrics;
  logger: Logger;
  /** The event log (with the webhook outbox as its sink): events commit with their change. */
  events: EventLog;
  /** One caller per process, so circuit breakers see every call; created when absent. */
  caller?: ProcessorCaller;
  /** Where the plugin's own variables are read (settings.ts); none set means the defaults. */
  env?: Env;
  now?: () => Date;
}

export interface PaymentsContext {
  database: Database;
  registry: ProcessorDirectory;
  config: PaymentsDeps['config'];
  settings: PaymentsSettings;
  metrics: Metrics;
  logger: Logger;
  caller: ProcessorCaller;
  /** Processor call records: held for the transaction that commits a payment's outcome. */
  attempts: AttemptRecorder;
  /** Tenants' routing rules, cached briefly (routing-rules.ts). */
  routing: RoutingCache;
  store: PaymentStore;
  now: () => Date;
  fingerprintKey: () => Promise<string>;
  /** `now + ms` as a Date, for next_sync_at and capture_before. */
  after: (ms: number) => Date;
}

export function createPaymentsContext(deps: PaymentsDeps): PaymentsContext {
  const now = deps.now ?? (() => new Date());
  const attempts = createAttemptRecorder(deps);
  return {
    database: deps.database,
    registry: deps.registry,
    config: deps.config,
    settings: paymentsSettings(deps.env),
    metrics: deps.metrics,
    logger: deps.logger,
    // Every processor call of a payment is kept for support (GET /v1/payments/:id/attempts).
    caller: deps.caller ?? createProcessorCaller({ metrics: deps.metrics, logger: deps.logger, onCall: attempts.onCall }),
    attempts,
    routing: createRoutingCache(),
    store: createPaymentStore({ metrics: deps.metrics, events: deps.events }),
    now,
    fingerprintKey: () => fingerprintKeyFor(deps.database, deps.config),
    after: (ms) => new Date(now().getTime() + ms),
  };
}

/**
 * Processor-side idempotency keys, derived from our own ids: a retry, a second replica
 * or reconciliation re-sending the same operation can never make it happen twice.
 */
export const processorKeys = {
  authorize: (paymentId: string) => `nimbus:${paymentId}:authorize`,
  capture: (paymentId: string) => `nimbus:${paymentId}:capture`,
  cancel: (paymentId: string) => `nimbus:${paymentId}:cancel`,
  refund: (refundId: string) => `nimbus:${refundId}:refund`,
};
