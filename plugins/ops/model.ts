import { Type } from '@sinclair/typebox';
import { errorResponse } from '../../runtime/http/schemas';

/** TypeBox schemas of the operations routes: the answers the OpenAPI document shows for them. */

export const Liveness = Type.Object({ status: Type.Literal('ok') }, { description: 'The process runs.' });

export const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Record(Type.String(), Type.String(), {
      description: 'What was checked: `database` (ok | unreachable), `migrations` (current | N pending | unknown), or `process: draining` after SIGTERM.',
    }),
  },
  { description: 'Whether this replica should receive traffic.' },
);

/** `response` of GET /health/ready: 200 when ready, 503 with the same body when not. */
export const ReadinessResponses = {
  200: { ...Readiness, description: 'Ready: the database answers and its migrations are current.' },
  503: { ...Readiness, description: 'Not ready: the database is unreachable, migrations are pending, or the process is draining.' },
};

/** `response` of GET /metrics: Prometheus text, or 401 when NIMBUS_METRICS_TOKEN is set and not sent. */
export const MetricsResponses = {
  200: Type.String({ description: 'Prometheus text exposition format (text/plain; version=0.0.4).' }),
  401: errorResponse(401, 'NIMBUS_METRICS_TOKEN is set and the request did not send it as a Bearer token (token_invalid).'),
  500: errorResponse(500),
};
