import { Elysia, type AnyElysia } from 'elysia';
import { createDatabase, type Database } from '../db';
import { assertProcessorsAllowed, type Config, configWarnings } from './config';
import { createEventLog, type EventLog } from './events';
import { httpPlugin } from './http';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import type { AnyNimbusPlugin, Env, NimbusPlugin, PluginContext } from './plugin';
import { createRegistry, type AnyPaymentMethodDefinition, type AnyRegistry, type ProcessorContract } from './registry';
import { databaseProcessorState } from './processor-state';
import type { BackgroundWorker } from './server';

/** What a composition root lists (see nimbus.config.ts). Order matters in each list. */
export interface NimbusDefinition {
  paymentMethods: readonly AnyPaymentMethodDefinition[];
  /** The deployment's default routing order: the first capable processor is tried first. */
  processors: readonly ProcessorContract[];
  /** Global hooks (audit, idempotency) before the route plugins they wrap. */
  plugins: readonly AnyNimbusPlugin[];
}

/**
 * Production never routes a payment to a test double while a real processor is listed:
 * a Stripe outage must not fail over to the simulator, which approves without moving
 * money. Only NIMBUS_ALLOW_SIMULATOR=true keeps them (staging keeps them too).
 */
function liveProcessors(config: Config, processors: readonly ProcessorContract[]): readonly ProcessorContract[] {
  if (config.env !== 'production' || config.allowSimulator) return processors;
  return processors.filter((processor) => !processor.testOnly);
}

/** Typed identity: the composition root's single export. */
export function defineNimbus<const D extends NimbusDefinition>(definition: D): D {
  return definition;
}

export interface NimbusOptions {
  config: Config;
  /** Where processors read their declared variables (default: process.env). */
  env?: Env;
  logger?: Logger;
  metrics?: Metrics;
  database?: Database;
  /** Processor credentials by id instead of the environment (tests). */
  credentials?: Readonly<Record<string, unknown>>;
}

export type App = AnyElysia;

/** One process's NimbusPay: the registry, the plugins' services, the app and the workers. */
export interface Nimbus {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly database: Database;
  readonly registry: AnyRegistry;
  readonly events: EventLog;
  readonly context: PluginContext;
  readonly plugins: readonly AnyNimbusPlugin[];
  service<S>(plugin: NimbusPlugin<S>): S;
  /** The API: every plugin's routes. Processor callbacks sent in-process arrive here. */
  createApp(): App;
  /** `nimbus worker`'s HTTP surface: only the plugins marked `workerRoutes` (probes, metrics). */
  createWorkerApp(): App;
  startWorkers(): BackgroundWorker[];
  /** The plugins' `onStart` hooks, in order (serve only). */
  onStart(): Promise<void>;
  setDraining(): void;
}

/**
 * Builds everything once from the composition root: the registry (credentials checked
 * now, so a bad deployment fails at start), the event log with every plugin's sinks,
 * then each plugin's service in the order listed.
 */
export function createNimbus(definition: NimbusDefinition, options: NimbusOptions): Nimbus {
  const { config } = options;
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of configWarnings(config)) logger.warn(warning);
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: true });
  const database = options.database ?? createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, maxConnections: config.databasePoolMax });
  assertProcessorsAllowed(config, definition.processors);
  // The registry exists before the app, so in-process callbacks go through a late-bound handle.
  let handle: ((request: Request) => Promise<Response>) | undefined;
  const registry = createRegistry({
    paymentMethods: definition.paymentMethods,
    processors: liveProcessors(config, definition.processors),
    env,
    credentials: options.credentials,
    stateFor: databaseProcessorState(database),
    async deliverCallback(_processorId, request) {
      if (!handle) return; // nothing listens yet: reconciliation covers a lost callback
      const response = await handle(request);
      await response.arrayBuffer().catch(() => undefined);
    },
  });
  const events = createEventLog(definition.plugins.flatMap((plugin) => plugin.eventSinks ?? []));
  const services = new Map<AnyNimbusPlugin, unknown>();
  let draining = false;

  function service<S>(plugin: NimbusPlugin<S>): S {
    if (!services.has(plugin)) throw new Error(`Plugin '${plugin.name}' is not set up: list it (earlier) in the composition root.`);
    return services.get(plugin) as S;
  }

  const context: PluginContext = { config, env, database, logger, metrics, registry, events, isDraining: () => draining, service };
  for (const plugin of definition.plugins) services.set(plugin, plugin.setup?.(context));

  function buildApp(plugins: readonly AnyNimbusPlugin[]): App {
    // normalize: false, because API.md wants unknown body fields rejected (400), not stripped.
    const app: AnyElysia = new Elysia({ name: 'nimbus', normalize: false }).use(httpPlugin({ logger, metrics }));
    for (const plugin of plugins) {
      if (plugin.routes) app.use(plugin.routes(context, services.get(plugin)));
    }
    return app;
  }

  return {
    config,
    logger,
    metrics,
    database,
    registry,
    events,
    context,
    plugins: definition.plugins,
    service,
    createApp() {
      const app = buildApp(definition.plugins);
      handle = (request) => app.handle(request);
      return app;
    },
    createWorkerApp: () => buildApp(definition.plugins.filter((plugin) => plugin.workerRoutes)),
    startWorkers: () => definition.plugins.flatMap((plugin) => plugin.workers?.(context, services.get(plugin)) ?? []),
    async onStart() {
      for (const plugin of definition.plugins) await plugin.onStart?.(context, services.get(plugin));
    },
    setDraining() {
      draining = true;
    },
  };
}
