import { Elysia } from 'elysia';
import { definePlugin } from '../../runtime/plugin';
import type { Database, Tx } from '../../db';
import type { Config } from '../../runtime/config';
import { RawBody, principalOf, requestState } from '../../runtime/http';
import type { Logger } from '../../runtime/logger';
import { fingerprintKeyFor } from '../payments/service/vault';
import { idempotencySecrets, openResponseBody, requestFingerprint, sealResponseBody, type IdempotencySecrets } from './sealing';
import {
  bindKey,
  claimKey,
  completeKey,
  DEFAULT_LOCK_MS,
  extendKey,
  IDEMPOTENCY_HEADER,
  keyInUse,
  readIdempotencyKey,
  releaseKey,
  type Claim,
  type StoredResponse,
} from './store';

export interface IdempotencyOptions {
  /** How long a claim holds without renewal before another replica may take it over. */
  lockMs?: number;
  /** A request's claim is renewed for at most this long (a hung request must not hold a key forever). */
  maxHoldMs?: number;
}

export interface IdempotencyDeps extends IdempotencyOptions {
  database: Database;
  logger: Logger;
  config: Pick<Config, 'fingerprintKey'>;
}

/**
 * What a route that creates an object sees of its request's claim, so the service can
 * bind the object to the key before it calls a processor and store the answer in the
 * transaction that commits the outcome.
 */
export interface IdempotentRequest {
  /** The object an earlier request with this key created: resume it, never create another. */
  readonly resumeId: string | null;
  /** In the creating transaction: ties the new object to the key; 409 if the key was taken over meanwhile. */
  bind(tx: Tx, resourceId: string): Promise<void>;
  /** In the transaction that settles the request: stores its final answer (`body` as sent). */
  complete(tx: Tx, response: StoredResponse): Promise<void>;
}

interface InFlight {
  claim: Claim;
  secrets: IdempotencySecrets;
  handle: IdempotentRequest;
  /** Set when the service stored the answer itself: exactly this is sent. */
  stored?: StoredResponse;
  stopHeartbeat(): void;
}

const inFlight = new WeakMap<Request, InFlight>();

/** The claim of this request, when it carries an Idempotency-Key (read by routes after beforeHandle). */
export function idempotencyOf(request: Request): IdempotentRequest | undefined {
  return inFlight.get(request)?.handle;
}

function jsonResponse(stored: StoredResponse, headers: Record<string, string> = {}): Response {
  return new Response(stored.body, { status: stored.status, headers: { 'content-type': 'application/json', ...headers } });
}

/**
 * Idempotency for every POST under /v1 (API.md "Idempotency"), whichever plugin owns
 * the route: global hooks, registered once before the route plugins. The claim happens
 * in beforeHandle, i.e. after authentication and body validation, so a refused request
 * never stores anything; the final answer (2xx, 402, 404, 409 from the handler) is
 * stored in mapResponse, which Elysia also runs for errors, as the exact body text,
 * unless the route's service already stored it with the change it reports. While the
 * request runs, a heartbeat renews the claim, so a long processor call (timeouts,
 * retries, failover) is never mistaken for a crashed replica. A 5xx gives the key back,
 * unless an object was bound to it: then a retry resumes that object.
 */
export function idempotencyPlugin(deps: IdempotencyDeps) {
  const lockMs = deps.lockMs ?? DEFAULT_LOCK_MS;
  const maxHoldMs = deps.maxHoldMs ?? 15 * 60_000;
  const secretsOf = async () => idempotencySecrets(await fingerprintKeyFor(deps.database, deps.config));

  function heartbeat(claim: Claim): () => void {
    const startedAt = Date.now();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      if (Date.now() - startedAt > maxHoldMs) return clearInterval(timer);
      busy = true;
      extendKey(deps.database, claim, lockMs)
        .then((ours) => ours || clearInterval(timer))
        .catch((error) => deps.logger.warn({ err: error }, 'could not renew an idempotency claim'))
        .finally(() => (busy = false));
    }, Math.max(Math.floor(lockMs / 3), 10));
    timer.unref?.();
    return () => clearInterval(timer);
  }

  function handleFor(entry: InFlight): IdempotentRequest {
    const { claim, secrets } = entry;
    return {
      resumeId: claim.resumeId,
      async bind(tx, resourceId) {
        if (!(await bindKey(tx, claim, resourceId))) throw keyInUse();
      },
      async complete(tx, response) {
        const sealed = sealResponseBody(secrets.response, claim.scope, claim.key, response.body);
        // The flag counts only if this transaction commits: mapResponse ignores it on a 5xx.
        if (await completeKey(tx, claim, { status: response.status, body: sealed })) entry.stored = response;
      },
    };
  }

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
      const secrets = await secretsOf();
      const scope = principal.tenantId ?? `platform:${principal.clientId}`;
      const result = await claimKey(deps.database, {
        scope,
        key,
        tenantId: principal.tenantId,
        method: request.method,
        path,
        fingerprint: requestFingerprint(secrets.fingerprint, request.method, path, payload ?? {}),
        lockMs,
      });
      if (result.kind === 'replay') {
        const body = openResponseBody(secrets.response, scope, key, result.response.body);
        return jsonResponse({ status: result.response.status, body }, { 'idempotent-replayed': 'true', 'x-request-id': requestState(request).id });
      }
      const entry = { claim: result.claim, secrets, stopHeartbeat: heartbeat(result.claim) } as InFlight;
      entry.handle = handleFor(entry);
      inFlight.set(request, entry);
    })
    .mapResponse({ as: 'global' }, async ({ request, responseValue, set }) => {
      const entry = inFlight.get(request);
      if (!entry) return;
      inFlight.delete(request);
      entry.stopHeartbeat();
      let response: Response;
      if (responseValue instanceof Response) {
        response = responseValue;
      } else {
        const status = typeof set.status === 'number' ? set.status : 200;
        const text = typeof responseValue === 'string' ? responseValue : JSON.stringify(responseValue ?? null);
        response = new Response(text, { status, headers: { 'content-type': 'application/json' } });
      }
      // Stored with the change it reports: send exactly what a replay will send.
      if (entry.stored && response.status < 500) return jsonResponse(entry.stored);
      const text = await response.clone().text();
      const { claim, secrets } = entry;
      try {
        if (response.status >= 500) await releaseKey(deps.database, claim);
        else {
          const sealed = { status: response.status, body: sealResponseBody(secrets.response, claim.scope, claim.key, text) };
          await deps.database.system((tx) => completeKey(tx, claim, sealed));
        }
      } catch (error) {
        // The answer stands; the key's lock expires and a retry runs again (or resumes its object).
        deps.logger.error({ err: error, idempotency_header: IDEMPOTENCY_HEADER }, 'could not store the idempotent response');
      }
      return response;
    });
}

/**
 * The idempotency plugin. List it before every plugin with POST /v1 routes: its hooks
 * are global and wrap the routes registered after it.
 */
export function createIdempotency(options: IdempotencyOptions = {}) {
  return definePlugin({
    name: 'idempotency',
    routes: (ctx) => idempotencyPlugin({ database: ctx.database, logger: ctx.logger, config: ctx.config, ...options }),
  });
}

export const idempotency = createIdempotency();
