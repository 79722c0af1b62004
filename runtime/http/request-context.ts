import { randomBytes } from 'node:crypto';

/**
 * Per-request state that every plugin may read, keyed by the Request object itself so
 * nothing leaks between concurrent requests and types stay explicit.
 */
export interface Principal {
  clientId: string;
  /** The tenant whose data this request works on (token `tid`, or `Nimbus-Tenant` for support). */
  tenantId?: string;
  /** The token's own tenant; undefined for platform clients. */
  tokenTenantId?: string;
  scopes: readonly string[];
  tokenId?: string;
}

export interface RequestState {
  id: string;
  startedAt: number;
  principal?: Principal;
  /** Filled by routes that change something, read by the audit trail. */
  audit?: { action: string; resourceId?: string; tenantId?: string };
}

const states = new WeakMap<Request, RequestState>();
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function newRequestId(): string {
  return `req_${randomBytes(12).toString('base64url')}`;
}

/** Echoes a well-formed incoming X-Request-Id (API.md), else generates one. */
export function beginRequest(request: Request): RequestState {
  const incoming = request.headers.get('x-request-id');
  const state: RequestState = {
    id: incoming && REQUEST_ID.test(incoming) ? incoming : newRequestId(),
    startedAt: performance.now(),
  };
  states.set(request, state);
  return state;
}

export function requestState(request: Request): RequestState {
  let state = states.get(request);
  if (!state) state = beginRequest(request);
  return state;
}

export function principalOf(request: Request): Principal | undefined {
  return states.get(request)?.principal;
}
