import { createHash, timingSafeEqual } from 'node:crypto';
import { Elysia } from 'elysia';
import type { Config } from '../../runtime/config';
import type { Database } from '../../db';
import { pendingMigrations } from '../../db';
import type { Metrics } from '../../runtime/metrics';
import { errorResponse } from '../../runtime/http';
import { requestState } from '../../runtime/http';
import { authenticationError } from '../../runtime/errors';
import { definePlugin } from '../../runtime/plugin';
import { withTimeout } from '../../runtime/timeout';
import { docsPlugin } from './docs';
import { Liveness, MetricsResponses, ReadinessResponses } from './model';

export { docsPlugin } from './docs';

export interface OpsDeps {
  config: Config;
  database: Database;
  metrics: Metrics;
  /** True while the process drains after SIGTERM: readiness answers 503 so traffic moves away. */
  isDraining: () => boolean;
}

/** A probe's answer within this, whatever the database does (Kubernetes' probe timeout is longer). */
const READINESS_BUDGET_MS = 1500;

/**
 * Readiness asks the database each time, with a short timeout: a pod whose database is
 * gone must leave the load balancer quickly and come back without a restart.
 */
async function readiness(deps: OpsDeps): Promise<{ ok: boolean; checks: Record<string, string> }> {
  if (deps.isDraining()) return { ok: false, checks: { process: 'draining' } };
  const deadline = Date.now() + READINESS_BUDGET_MS;
  try {
    await deps.database.ping(READINESS_BUDGET_MS);
  } catch {
    deps.metrics.databaseUp.set(0);
    return { ok: false, checks: { database: 'unreachable' } };
  }
  deps.metrics.databaseUp.set(1);
  // Within the same budget: the database can go away between the ping and this query (a
  // drill caught a probe waiting for the database's return, then answering 200, through
  // a whole outage).
  const pending = await withTimeout(pendingMigrations(deps.database), deadline - Date.now(), 'the migrations query did not answer').catch(() => -1);
  if (pending !== 0) {
    return { ok: false, checks: { database: 'ok', migrations: pending < 0 ? 'unknown' : `${pending} pending` } };
  }
  return { ok: true, checks: { database: 'ok', migrations: 'current' } };
}

/**
 * Compares a presented secret with the expected one in constant time: both are hashed
 * first, so timingSafeEqual sees equal lengths and neither the length of the secret nor
 * a correctly guessed prefix shows in the response time.
 */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function opsPlugin(deps: OpsDeps) {
  return new Elysia({ name: 'nimbus:ops' })
    .get('/health/live', () => ({ status: 'ok' as const }), {
      response: { 200: Liveness },
      detail: { tags: ['Operations'], summary: 'Liveness probe', security: [] },
    })
    .get(
      '/health/ready',
      async ({ set }) => {
        const result = await readiness(deps);
        set.status = result.ok ? 200 : 503;
        return { status: result.ok ? ('ok' as const) : ('unavailable' as const), checks: result.checks };
      },
      {
        response: ReadinessResponses,
        detail: { tags: ['Operations'], summary: 'Readiness probe: database reachable and migrations current', security: [] },
      },
    )
    .get(
      '/metrics',
      async ({ request }) => {
        if (deps.config.metricsToken) {
          const header = request.headers.get('authorization') ?? '';
          if (!sameSecret(header, `Bearer ${deps.config.metricsToken}`)) {
            return errorResponse(authenticationError('token_invalid', 'A valid metrics token is required.'), requestState(request).id);
          }
        }
        return new Response(await deps.metrics.registry.metrics(), {
          headers: { 'content-type': deps.metrics.registry.contentType },
        });
      },
      {
        response: MetricsResponses,
        detail: { tags: ['Operations'], summary: 'Prometheus metrics (Bearer NIMBUS_METRICS_TOKEN when configured)', security: [] },
      },
    );
}

/** Health probes and /metrics: served by `nimbus serve` and by `nimbus worker`. */
export const ops = definePlugin({
  name: 'ops',
  workerRoutes: true,
  routes: (ctx) => opsPlugin({ ...ctx, isDraining: () => ctx.isDraining() }),
});

/** The OpenAPI document and the API reference; list it before the routes it documents. */
export const docs = definePlugin({ name: 'docs', routes: () => docsPlugin() });
