import { Elysia } from 'elysia';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { RawBody, readBody } from './body';
import { RespondWith } from '../unit-of-work';
import { errorResponse, toApiError } from './errors';
import { beginRequest, requestState } from './request-context';
import { assertStorableText } from './validation';

export { RawBody, jsonBody, MAX_BODY_BYTES } from './body';
export { errorBody, errorResponse } from './errors';
export { principalOf, requestState, type Principal, type RequestState } from './request-context';
export { explain } from './validation';

/**
 * Cross-cutting behaviour every route inherits (global on purpose: request id, body
 * limits, the error envelope, the access log and the latency histogram).
 */
export function httpPlugin(deps: { logger: Logger; metrics: Metrics }) {
  const { logger, metrics } = deps;
  const statusOf = new WeakMap<Request, number>();
  return new Elysia({ name: 'nimbus:http' })
    .onRequest(({ request, set }) => {
      set.headers['x-request-id'] = beginRequest(request).id;
    })
    .onParse({ as: 'global' }, ({ request }) => readBody(request))
    // Never runs (readBody always answers, so Elysia skips the parsers after it), but it
    // is how @elysiajs/openapi learns that bodies are JSON: with only a function parser
    // it documents every request body as `content: {}`, without its schema.
    .on({ as: 'global' }, 'parse', [{ fn: 'application/json' }] as never)
    // After authentication and schema validation (API.md's order of checks), before any
    // handler reaches the database: text PostgreSQL cannot store exactly is a 400 naming
    // the field, never a 500 from the driver.
    .onBeforeHandle({ as: 'global' }, ({ request, params, query, body }) => {
      if (!new URL(request.url).pathname.startsWith('/v1/')) return;
      assertStorableText(params);
      assertStorableText(query);
      if (!(body instanceof RawBody)) assertStorableText(body);
    })
    .onError({ as: 'global' }, ({ code, error, request, set }) => {
      // An answer complete before the handler finished (an idempotent replay): sent as it is.
      // Elysia applies `set.status` (by default the thrown error's) to a returned Response.
      if (error instanceof RespondWith) {
        set.status = error.response.status;
        statusOf.set(request, error.response.status);
        return error.response;
      }
      const apiError = toApiError(code, error, request, logger);
      statusOf.set(request, apiError.status);
      return errorResponse(apiError, requestState(request).id);
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set }) => {
      const state = requestState(request);
      const status = statusOf.get(request) ?? (typeof set.status === 'number' ? set.status : 200);
      const seconds = (performance.now() - state.startedAt) / 1000;
      // Unmatched paths share one label so a scanner cannot blow up the series count.
      const template = route && route !== '' ? route : 'unmatched';
      metrics.httpRequestDuration.observe({ method: request.method, route: template, status: String(status) }, seconds);
      logger.info(
        {
          request_id: state.id,
          method: request.method,
          route: template,
          status,
          duration_ms: Math.round(seconds * 1000 * 10) / 10,
          client_id: state.principal?.clientId,
          tenant_id: state.principal?.tenantId,
        },
        'request',
      );
    });
}
