import { startWebhookWorker, type WebhookWorkerOptions } from '../webhooks';
import { ConfigError } from './config';
import type { BackgroundWorker } from './server';
import type { Services } from './services';

type Env = Record<string, string | undefined>;

function positive(env: Env, name: string, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new ConfigError(name, `must be a whole number from 1 to ${max}, got '${raw}'.`);
  return Number(raw);
}

/**
 * Operator tuning of the delivery worker (all optional; the defaults follow API.md).
 * `NIMBUS_WEBHOOK_RETRY_DELAYS_MS` replaces the retry schedule and exists for tests
 * and drills, not for production.
 */
export function webhookTuning(env: Env = process.env): Partial<WebhookWorkerOptions> {
  const tuning: Partial<WebhookWorkerOptions> = {
    concurrency: positive(env, 'NIMBUS_WEBHOOK_CONCURRENCY', 1000),
    perEndpoint: positive(env, 'NIMBUS_WEBHOOK_PER_ENDPOINT', 1000),
    leaseMs: positive(env, 'NIMBUS_WEBHOOK_LEASE_MS', 3_600_000),
    pollIntervalMs: positive(env, 'NIMBUS_WEBHOOK_POLL_MS', 600_000),
  };
  const delays = env.NIMBUS_WEBHOOK_RETRY_DELAYS_MS?.trim();
  if (delays) {
    const parsed = delays.split(',').map((part) => part.trim());
    if (!parsed.every((part) => /^\d+$/.test(part))) {
      throw new ConfigError('NIMBUS_WEBHOOK_RETRY_DELAYS_MS', `must be a comma-separated list of milliseconds, got '${delays}'.`);
    }
    tuning.retry = { delaysMs: parsed.map(Number) };
  }
  return Object.fromEntries(Object.entries(tuning).filter(([, value]) => value !== undefined));
}

/**
 * The background loops of a process: webhook delivery, plus whatever reconcilers the
 * payments side hands in. Used by `nimbus worker` and, unless `--no-worker`, by
 * `nimbus serve`; the returned workers go to startServer so SIGTERM drains them.
 */
export function startBackgroundWorkers(
  services: Services,
  options: { reconcilers?: BackgroundWorker[]; webhooks?: Partial<WebhookWorkerOptions>; env?: Env } = {},
): BackgroundWorker[] {
  const { config, database, logger, metrics } = services;
  const webhooks = startWebhookWorker(
    { database, logger, metrics },
    {
      allowPrivate: config.webhookAllowPrivate,
      // Leave part of the shutdown grace for recording outcomes and releasing claims.
      drainMs: Math.floor(config.shutdownGraceMs * 0.8),
      ...webhookTuning(options.env),
      ...options.webhooks,
    },
  );
  return [webhooks, ...(options.reconcilers ?? [])];
}
