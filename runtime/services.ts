import { createDatabase, type Database } from '../db';
import { createApp, type App } from './app';
import { type Config, configWarnings } from './config';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';

/** Everything a process needs, built once from the configuration. */
export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  database: Database;
}

export function createServices(config: Config, options: { logger?: Logger; metrics?: Metrics; database?: Database } = {}): Services {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  for (const warning of configWarnings(config)) logger.warn(warning);
  return {
    config,
    logger,
    metrics: options.metrics ?? createMetrics({ defaultMetrics: true }),
    database: options.database ?? createDatabase({ url: config.databaseUrl, dataDir: config.dataDir }),
  };
}

export function createAppFromServices(services: Services, isDraining?: () => boolean): App {
  return createApp({ ...services, isDraining });
}
