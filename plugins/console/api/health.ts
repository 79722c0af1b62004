import { Elysia } from 'elysia';
import type { Database } from '../../../db';
import type { Config } from '../../../runtime/config';
import type { Logger } from '../../../runtime/logger';
import type { Metrics } from '../../../runtime/metrics';
import { authGuard } from '../../auth';
import { errorResponses } from '../../tenancy/model';
import { lastHour, processorHour, readiness, reconciliationBacklog, webhookQueue } from './health-queries';
import { type SupportHealth as SupportHealthType, SupportHealth } from './model';

export interface HealthDeps {
  config: Config;
  database: Database;
  logger: Logger;
  metrics: Metrics;
  processorIds: readonly string[];
  isDraining: () => boolean;
}

/** The processors whose breaker is open in this replica, from its own `nimbus_processor_circuit_open` gauge. */
async function openCircuits(metrics: Metrics): Promise<Set<string>> {
  const gauge = await metrics.circuitOpen.get();
  return new Set(gauge.values.filter((value) => value.value === 1).map((value) => String(value.labels.processor)));
}

export async function supportHealth(deps: HealthDeps): Promise<SupportHealthType> {
  const [ready, webhooks, reconciliation, hour, series, open] = await Promise.all([
    readiness(deps.database, deps.isDraining()),
    webhookQueue(deps.database),
    reconciliationBacklog(deps.database),
    processorHour(deps.database),
    lastHour(deps.database),
    openCircuits(deps.metrics),
  ]);
  const ids = [...new Set([...deps.processorIds, ...hour.keys()])];
  return {
    object: 'support_health',
    environment: deps.config.env,
    generated_at: new Date().toISOString(),
    readiness: ready,
    webhooks,
    reconciliation,
    processors: ids.map((id) => {
      const calls = hour.get(id);
      return {
        id,
        circuit: open.has(id) ? ('open' as const) : ('closed' as const),
        calls: calls?.calls ?? 0,
        errors: calls?.errors ?? 0,
        error_rate: calls && calls.calls > 0 ? calls.errors / calls.calls : null,
        p95_ms: calls?.p95 ?? null,
      };
    }),
    series,
  };
}

/** `GET /v1/support/health`: the health page's data, for platform support and admins (no tenant data). */
export function healthRoutes(deps: HealthDeps) {
  return new Elysia({ name: 'nimbus:console:health' }).use(authGuard(deps)).get('/v1/support/health', () => supportHealth(deps), {
    scopes: ['platform:support', 'platform:admin'],
    response: { 200: SupportHealth, ...errorResponses(401, 403) },
    detail: {
      tags: ['Support'],
      summary: 'Platform health at a glance (platform support or admin)',
      operationId: 'getSupportHealth',
      description:
        'Readiness (as GET /health/ready), the webhook queue (depth, oldest due delivery, failing and disabled endpoints), the ' +
        'reconciliation backlog, each processor with its circuit breaker state in the answering replica and its calls, error rate ' +
        'and p95 latency over the last hour, and that hour minute by minute. Aggregates only: no tenant data. ' +
        '`platform:support` or `platform:admin`.',
    },
  });
}
