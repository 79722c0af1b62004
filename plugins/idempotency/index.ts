import { Elysia } from 'elysia';
import { definePlugin } from '../../runtime/plugin';
import type { Database } from '../../db';
import { RawBody, principalOf, requestState } from '../../runtime/http';
import {
  claimKey,
  completeKey,
  IDEMPOTENCY_HEADER,
  readIdempotencyKey,
  releaseKey,
  requestFingerprint,
  type Claim,
  type StoredResponse,
} from './store';
import type { Logger } from '../../runtime/logger';

export interface IdempotencyDeps {
  database: Database;
  logger: Logger;
  /** How long an in-progress claim holds before another replica may take it over. */
  lockMs?: number;
}

function replay(stored: StoredResponse, requestId: string): Response {
  return new Response(stored.body, {
    status: stored.status,
    headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true', 'x-request-id': requestId },
  });
}

/**
 * Idempotency for every POST under /v1 (API.md "Idempotency"), whichever plugin owns
 * the route: global hooks, registered once before the route plugins. The claim happens
 * in beforeHandle, i.e. after authentication and body validation, so a refused request
 * never stores anything; the final answer (2xx, 402, 404, 409 from the handler) is
 * stored in mapResponse, which Elysia also runs for errors, as the exact body text.
 * 5xx answers give the key back instead: a retry should run again.
 */
export function idempotencyPlugin(deps: IdempotencyDeps) {
  const claims = new WeakMap<Request, Claim>();
  return new Elysia({ name: 'nimbus:idempotency' })
    .onBeforeHandle({ as: 'global' }, async ({ request, body }) => {
      if (request.method !== 'POST') return;
      const path = new URL(request.url).pathname;
      if (!path.startsWith('/v1/')) return;
      const principal = principalOf(request);
      if (!principal) return;
      const key = readIdempotencyKey(request);
      if (key === undefined) return;
      const payload = body instanceof RawBody ? body.text : body;
      const result = await claimKey(deps.database, {
        scope: principal.tenantId ?? `platform:${principal.clientId}`,
        key,
        tenantId: principal.tenantId,
        method: request.method,
        path,
        fingerprint: requestFingerprint(request.method, path, payload ?? {}),
        lockMs: deps.lockMs,
      });
      if (result.kind === 'replay') return replay(result.response, requestState(request).id);
      claims.set(request, result.token);
    })
    .mapResponse({ as: 'global' }, async ({ request, responseValue, set }) => {
      const claim = claims.get(request);
      if (!claim) return;
      claims.delete(request);
      let response: Response;
      if (responseValue instanceof Response) {
        response = responseValue;
      } else {
        const status = typeof set.status === 'number' ? set.status : 200;
        const text = typeof responseValue === 'string' ? responseValue : JSON.stringify(responseValue ?? null);
        response = new Response(text, { status, headers: { 'content-type': 'application/json' } });
      }
      const stored: StoredResponse = { status: response.status, body: await response.clone().text() };
      try {
        if (stored.status >= 500) await releaseKey(deps.database, claim);
        else await completeKey(deps.database, claim, stored);
      } catch (error) {
        // The answer stands; the key's lock expires and a retry runs again.
        deps.logger.error({ err: error, idempotency_header: IDEMPOTENCY_HEADER }, 'could not store the idempotent response');
      }
      return response;
    });
}

/**
 * The idempotency plugin. List it before every plugin with POST /v1 routes: its hooks
 * are global and wrap the routes registered after it.
 */
export const idempotency = definePlugin({
  name: 'idempotency',
  routes: (ctx) => idempotencyPlugin({ database: ctx.database, logger: ctx.logger }),
});
