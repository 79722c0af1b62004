import { ConfigError } from '../runtime/config';
import type { WebhookWorkerOptions } from './worker';

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
