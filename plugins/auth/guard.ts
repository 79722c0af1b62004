import { Elysia } from 'elysia';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import { authenticationError, internalError, parameterInvalid, parameterMissing, resourceMissing, scopeMissing } from '../../runtime/errors';
import { jsonBody, type Principal, requestState } from '../../runtime/http';
import type { Logger } from '../../runtime/logger';
import { clientIsActive, tenantExists } from './clients';
import { keyStoreFor } from './keys';
import { isTenantScope, type Scope } from './model';
import { TokenRejected, verifyAccessToken } from './tokens';

export interface AuthGuardDeps {
  config: Config;
  database: Database;
  logger?: Logger;
}

/** The header a `platform:support` client names the tenant it reads with. */
export const TENANT_HEADER = 'Nimbus-Tenant';

const READ_METHODS = new Set(['GET', 'HEAD']);
const TENANT_ID = /^ten_[A-Za-z0-9]{1,64}$/;

function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/**
 * Decides which tenant a request works on, or refuses it (API.md "Scopes"):
 * - a tenant token works on its own `tid` and needs one of the route's scopes;
 * - a route whose scopes include a tenant scope is a tenant route: platform clients may
 *   only read it, with `platform:support`, for the tenant named in Nimbus-Tenant;
 * - a route with only platform scopes is a platform route (no tenant).
 */
async function authorize(
  deps: AuthGuardDeps,
  request: Request,
  required: readonly Scope[],
  principal: Principal,
): Promise<string | undefined> {
  const granted = new Set(principal.scopes);
  const holdsOne = required.some((scope) => granted.has(scope));
  const tenantRoute = required.some(isTenantScope);
  if (principal.tokenTenantId) {
    if (!holdsOne) throw scopeMissing(required);
    return principal.tokenTenantId;
  }
  if (!tenantRoute) {
    if (!holdsOne) throw scopeMissing(required);
    return undefined;
  }
  // A platform client on a tenant route: read-only support access, one tenant at a time.
  if (!READ_METHODS.has(request.method) || !granted.has('platform:support')) {
    throw scopeMissing(READ_METHODS.has(request.method) ? [...required, 'platform:support'] : required);
  }
  const named = request.headers.get(TENANT_HEADER);
  if (named === null || named.trim() === '') {
    throw parameterMissing(TENANT_HEADER, `Platform clients must name the tenant to read in the ${TENANT_HEADER} header.`);
  }
  if (!TENANT_ID.test(named.trim())) throw parameterInvalid(TENANT_HEADER, `${TENANT_HEADER} must be a tenant id (ten_...).`);
  if (!(await tenantExists(deps.database, named.trim()))) throw resourceMissing('tenant', named.trim(), TENANT_HEADER);
  return named.trim();
}

/** Verifies the bearer token and the client behind it; fills the principal's identity. */
async function authenticate(deps: AuthGuardDeps, request: Request): Promise<Principal> {
  const token = bearerToken(request);
  if (!token) throw authenticationError('token_missing', 'No bearer token: send Authorization: Bearer <access token> from POST /oauth/token.');
  let claims;
  try {
    claims = await verifyAccessToken({ config: deps.config, keys: keyStoreFor(deps.config, deps.database) }, token);
  } catch (error) {
    if (error instanceof TokenRejected) {
      throw error.reason === 'expired'
        ? authenticationError('token_expired', 'The access token has expired: request a new one.')
        : authenticationError('token_invalid', 'The access token is invalid.');
    }
    throw error;
  }
  if (!(await clientIsActive(deps.database, claims.sub))) {
    throw authenticationError('token_invalid', 'The access token belongs to a revoked client.');
  }
  return {
    clientId: claims.sub,
    tokenTenantId: claims.tid,
    tenantId: claims.tid,
    scopes: claims.scope.split(' ').filter(Boolean),
    tokenId: claims.jti,
  };
}

/**
 * The bearer guard. Routes of any plugin that `.use(authGuard(deps))` declare
 * `{ scopes: ['payments:write'] }` (any one listed scope suffices) and get, in API.md's
 * order: 401 (token), 403 (scope), then the JSON body is parsed, so a malformed body
 * sent with a bad token is a 401, and Elysia's body validation (400) runs after.
 * The principal lands in `requestState(request).principal`; read the tenant with
 * `tenantOf(request)`. Routes using it must not parse the body themselves.
 */
export function authGuard(deps: AuthGuardDeps) {
  return new Elysia({ name: 'nimbus:auth-guard' }).macro({
    scopes: (required: Scope[]) => ({
      async transform(context: { request: Request; body: unknown }) {
        const state = requestState(context.request);
        const principal = await authenticate(deps, context.request);
        // Identity first, so a refused (403) write is still audited with who tried it.
        state.principal = principal;
        const tenantId = await authorize(deps, context.request, required, principal);
        state.principal = { ...principal, tenantId };
        context.body = jsonBody(context.body);
      },
      detail: {
        security: required.map((scope) => ({ bearer: [scope] })),
        'x-required-scopes': required,
      },
    }),
  });
}

/** The tenant the current request works on. Only for routes behind a tenant scope. */
export function tenantOf(request: Request): string {
  const tenantId = requestState(request).principal?.tenantId;
  if (!tenantId) throw internalError();
  return tenantId;
}
