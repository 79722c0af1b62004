import { createDatabase, type Database } from '../db';
import { createApp, type App } from './app';
import { type Config, configWarnings } from './config';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createPaymentsService, type PaymentsService } from './payments';
import { createReconciler, type Reconciler } from './payments/reconciler';
import { createCallbackRelay, type CallbackRelay } from './payments/relay';
import { type AnyRegistry, defaultRegistry } from './registry';

/**
 * Everything a process needs, built once from the configuration. The registry and the
 * payments service are shared by the API and the reconciler of one process, so the
 * reconciler asks the very processor instances the API used.
 */
export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  database: Database;
  registry: AnyRegistry;
  payments: PaymentsService;
  callbackRelay: CallbackRelay;
}

export function createServices(config: Config, options: { logger?: Logger; metrics?: Metrics; database?: Database } = {}): Services {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of configWarnings(config)) logger.warn(warning);
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: true });
  const database = options.database ?? createDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const callbackRelay = createCallbackRelay();
  const registry = defaultRegistry({
    settleMs: config.simulatorSettleMs,
    latencyMs: config.simulatorLatencyMs,
    deliverCallback: callbackRelay.deliver,
  });
  const payments = createPaymentsService({ database, registry, config, metrics, logger });
  return { config, logger, metrics, database, registry, payments, callbackRelay };
}

export function createAppFromServices(services: Services, isDraining?: () => boolean): App {
  return createApp({ ...services, isDraining });
}

/** The reconciliation and authorization-expiry loop of this process. */
export function createServicesReconciler(services: Services): Reconciler {
  return createReconciler(services.payments);
}
