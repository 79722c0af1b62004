import { Elysia } from 'elysia';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import type { Logger } from '../../runtime/logger';
import { definePlugin, type Env } from '../../runtime/plugin';
import { configureClientSecretKey } from './secret-key';
import { tokenEndpoint } from './token-endpoint';
import { wellKnownEndpoints } from './well-known';

export { authGuard, tenantOf, TENANT_HEADER, type AuthGuardDeps } from './guard';
export {
  ALL_SCOPES,
  AUDIENCE,
  PLATFORM_SCOPES,
  TENANT_SCOPES,
  isPlatformScope,
  isScope,
  isTenantScope,
  ScopeSchema,
  TenantScopeSchema,
  type PlatformScope,
  type Scope,
  type TenantScope,
} from './model';
export { forgetClient } from './clients';
export { hashSecret, newClientSecret } from './secrets';
export { clientSecretKeyFor } from './secret-key';
export { keyStoreFor } from './keys';

/** The OAuth2 surface: token endpoint, JWKS and server metadata. */
export function authPlugin(deps: { config: Config; database: Database; logger: Logger; env?: Env }) {
  return new Elysia({ name: 'nimbus:auth' }).use(tokenEndpoint(deps)).use(wellKnownEndpoints(deps));
}

/** OAuth2 client credentials: POST /oauth/token, the JWKS and the server metadata. */
export const auth = definePlugin({
  name: 'auth',
  setup: (ctx) => configureClientSecretKey(ctx.database, ctx.config, ctx.env),
  routes: (ctx) => authPlugin(ctx),
});
