import { Elysia } from 'elysia';
import { definePlugin } from '../../runtime/plugin';
import type { Database, Tx } from '../../db';
import type { Config } from '../../runtime/config';
import { ApiError } from '../../runtime/errors';
import { errorResponse, RawBody, principalOf, requestState } from '../../runtime/http';
import type { Logger } from '../../runtime/logger';
import { RespondWith, unitOfWork } from '../../runtime/unit-of-work';
import { fingerprintKeyFor } from '../payments/service/vault';
import { idempotencySecrets, openResponseBody, requestFingerprint, sealResponseBody, type IdempotencySecrets } from './sealing';
import {
  claimIn,
  claimKey,
  completeKey,
  DEFAULT_LOCK_MS,
  extendKey,
  IDEMPOTENCY_HEADER,
  newOwner,
  readIdempotencyKey,
  releaseKey,
  storeAnswer,
  tryClaim,
  type Claim,
  type ClaimInput,
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
 * What the service of a route that claims its key in its own first transaction (see
 * `claimsIdempotencyKey`) sees of the request's key. The answer is stored by the
 * request's unit of work (runtime/unit-of-work.ts) in the service's last transaction.
 */
export interface IdempotentRequest {
  /**
   * In the request's first transaction, before anything else of it is known to have
   * worked (its statements may travel together): true when this request now holds the
   * key, with `resourceId` (the object it is creating, if any) bound to it. False: the
   * key has a record already; roll back and `resolve` in a fresh transaction.
   */
  claim(tx: Tx, resourceId?: string): Promise<boolean>;
  /**
   * What the key's record says, in the caller's transaction: a replay ends the request
   * with the stored answer (RespondWith), a running request is 409, another request 422.
   * Otherwise this request now holds the key (an expired key, or a crashed request's) and
   * `resume` names the object that request bound: resume it rather than create another.
   */
  resolve(tx: Tx, resourceId?: string): Promise<{ resume: string | null }>;
}

interface InFlight {
  input: ClaimInput;
  secrets: IdempotencySecrets;
  /** Claimed in the first transaction of the route's service (`claimsIdempotencyKey`), not by the hook. */
  deferred: boolean;
  claim?: Claim;
  handle?: IdempotentRequest;
  /** Set when the service stored the answer itself: exactly this is sent. */
  stored?: StoredResponse;
  /** The request ended with a stored answer (a replay found by `resolve`). */
  replayed?: boolean;
  stopHeartbeat?(): void;
}

const inFlight = new WeakMap<Request, InFlight>();
const claimedInTransaction = new WeakSet<Request>();

/** The key of this request, for a route that claims it in its service's first transaction. */
export function idempotencyOf(request: Request): IdempotentRequest | undefined {
  return inFlight.get(request)?.handle;
}

/**
 * The route option `claimsIdempotencyKey: true`: the route's service claims the key in
 * its own first transaction (`idempotencyOf(request).claim`) and its last transaction
 * stores the answer, instead of a transaction of the hook's before the handler and
 * another after it. Refusals before the service claims (400s, 404s) are stored by the
 * hook afterwards, with the same outcome as if the key had been claimed first.
 */
export const claimsIdempotencyKey = new Elysia({ name: 'nimbus:idempotency:claims' }).macro({
  claimsIdempotencyKey: (enabled: boolean) => ({
    transform({ request }: { request: Request }) {
      if (enabled) claimedInTransaction.add(request);
    },
  }),
});

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
 * unless an object was bound to it: then a retry resumes that object. Routes marked
 * `claimsIdempotencyKey` (the payment routes) claim in their service's transactions.
 */
export function idempotencyPlugin(deps: IdempotencyDeps) {
  const lockMs = deps.lockMs ?? DEFAULT_LOCK_MS;
  const maxHoldMs = deps.maxHoldMs ?? 15 * 60_000;
  const secretsOf = async () => idempotencySecrets(await fingerprintKeyFor(deps.database, deps.config));

  function heartbeat(claim: Claim): () => void {
    const startedAt = Date.now();
    let busy = false;
    // A claim made inside a request's first transaction is invisible to the renewal's own
    // transaction until that one commits: "no row of ours" means "lost to another
    // request" only once a renewal has seen the claim. Before that, keep beating (the
    // request's end stops the heartbeat in any case, a rolled-back claim included).
    let seen = false;
    const timer = setInterval(() => {
      if (busy) return;
      if (Date.now() - startedAt > maxHoldMs) return clearInterval(timer);
      busy = true;
      extendKey(deps.database, claim, lockMs)
        .then((ours) => {
          if (ours) seen = true;
          else if (seen) clearInterval(timer);
        })
        .catch((error) => deps.logger.warn({ err: error }, 'could not renew an idempotency claim'))
        .finally(() => (busy = false));
    }, Math.max(Math.floor(lockMs / 3), 10));
    timer.unref?.();
    return () => clearInterval(timer);
  }

  /**
   * A key's last write (given back after a 5xx, or its answer stored) that failed, most
   * often because the database was away: tried again in the background until it lands or
   * until the claim's lock would have ended anyway. Without this, a client retrying after
   * a database outage was refused 409 idempotency_key_in_use for the rest of the lock
   * (2 minutes; drill 3 of issue #15). Every write is fenced by the claim's owner token,
   * so a late one changes nothing once another request took the key over.
   */
  function settleLater(write: () => Promise<unknown>): void {
    const deadline = Date.now() + lockMs;
    let delay = 100;
    const attempt = () => {
      write().catch((error: unknown) => {
        if (Date.now() + delay >= deadline) {
          deps.logger.warn({ err: error }, 'gave up settling an idempotency key; its lock runs out by itself');
          return;
        }
        setTimeout(attempt, delay).unref?.();
        delay = Math.min(delay * 2, 2_000);
      });
    };
    setTimeout(attempt, delay).unref?.();
  }

  function replay(request: Request, entry: InFlight, stored: StoredResponse): Response {
    entry.replayed = true;
    const body = openResponseBody(entry.secrets.response, entry.input.scope, entry.input.key, stored.body);
    return jsonResponse({ status: stored.status, body }, { 'idempotent-replayed': 'true', 'x-request-id': requestState(request).id });
  }

  /** This request holds the key: renew it while it runs, and store its answer with its outcome. */
  function hold(request: Request, entry: InFlight, claim: Claim): void {
    entry.claim = claim;
    entry.stopHeartbeat?.();
    entry.stopHeartbeat = heartbeat(claim);
    let staged: StoredResponse | undefined;
    unitOfWork(request).add({
      async write(tx, outcome) {
        staged = undefined;
        // A 5xx is never stored: mapResponse gives the key back (or keeps it for a resume).
        if (outcome.status >= 500) return;
        const sealed = sealResponseBody(entry.secrets.response, claim.scope, claim.key, outcome.body);
        if (await completeKey(tx, claim, { status: outcome.status, body: sealed })) staged = { status: outcome.status, body: outcome.body };
      },
      committed() {
        if (staged) entry.stored = staged;
      },
    });
  }

  function handleFor(request: Request, entry: InFlight): IdempotentRequest {
    return {
      async claim(tx, resourceId) {
        const owner = newOwner();
        const won = await tryClaim(tx, entry.input, owner, resourceId ?? null);
        if (won) hold(request, entry, { scope: entry.input.scope, key: entry.input.key, owner, resumeId: null });
        return won;
      },
      async resolve(tx, resourceId) {
        const result = await claimIn(tx, { ...entry.input, now: new Date() }, resourceId ?? null, { taken: true });
        if (result.kind === 'replay') throw new RespondWith(replay(request, entry, result.response));
        hold(request, entry, result.claim);
        return { resume: result.claim.resumeId };
      },
    };
  }

  /** mapResponse for a request whose key the hook did not claim before the handler. */
  async function answerWithoutClaim(request: Request, entry: InFlight, response: Response, text: string): Promise<Response> {
    const sealed = { status: response.status, body: sealResponseBody(entry.secrets.response, entry.input.scope, entry.input.key, text) };
    try {
      const result = await deps.database.system((tx) => storeAnswer(tx, { ...entry.input, now: new Date() }, sealed));
      // Held and lost with a rolled-back transaction, then the key went to another request: this answer stands.
      if (result.kind === 'replay' && !entry.claim) return replay(request, entry, result.response);
    } catch (error) {
      if (error instanceof ApiError && !entry.claim) return errorResponse(error, requestState(request).id);
      if (!(error instanceof ApiError)) throw error;
    }
    return response;
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
      const input: ClaimInput = {
        scope,
        key,
        tenantId: principal.tenantId,
        method: request.method,
        path,
        fingerprint: requestFingerprint(secrets.fingerprint, request.method, path, payload ?? {}),
        lockMs,
      };
      const entry: InFlight = { input, secrets, deferred: claimedInTransaction.has(request) };
      if (entry.deferred) {
        entry.handle = handleFor(request, entry);
        inFlight.set(request, entry);
        return;
      }
      const result = await claimKey(deps.database, input);
      if (result.kind === 'replay') {
        const body = openResponseBody(secrets.response, scope, key, result.response.body);
        return jsonResponse({ status: result.response.status, body }, { 'idempotent-replayed': 'true', 'x-request-id': requestState(request).id });
      }
      entry.claim = result.claim;
      entry.stopHeartbeat = heartbeat(result.claim);
      inFlight.set(request, entry);
    })
    .mapResponse({ as: 'global' }, async ({ request, responseValue, set }) => {
      const entry = inFlight.get(request);
      if (!entry) return;
      inFlight.delete(request);
      entry.stopHeartbeat?.();
      if (entry.replayed) return;
      let response: Response;
      if (responseValue instanceof Response) {
        response = responseValue;
      } else {
        const status = typeof set.status === 'number' ? set.status : 200;
        const text = typeof responseValue === 'string' ? responseValue : JSON.stringify(responseValue ?? null);
        response = new Response(text, { status, headers: { 'content-type': 'application/json' } });
      }
      // Stored with the change it reports: send exactly what a replay will send (with this answer's headers).
      if (entry.stored && response.status < 500) return new Response(entry.stored.body, { status: entry.stored.status, headers: response.headers });
      const text = await response.clone().text();
      const { claim, secrets } = entry;
      // What this request still owes its key: give it back after a 5xx, else store the answer.
      let owed: (() => Promise<unknown>) | undefined;
      if (claim && response.status >= 500) owed = () => releaseKey(deps.database, claim);
      else if (claim) {
        const sealed = { status: response.status, body: sealResponseBody(secrets.response, claim.scope, claim.key, text) };
        owed = () => deps.database.system((tx) => completeKey(tx, claim, sealed));
      }
      try {
        if (response.status >= 500) {
          await owed?.();
          return response;
        }
        if (owed && (await owed())) return response;
        if (claim && !entry.deferred) return response;
        return await answerWithoutClaim(request, entry, response, text);
      } catch (error) {
        // The answer stands. The key's write is tried again once the database is back.
        deps.logger.error({ err: error, idempotency_header: IDEMPOTENCY_HEADER }, 'could not store the idempotent response');
        if (owed) settleLater(owed);
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
