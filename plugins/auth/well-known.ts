import { Elysia } from 'elysia';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import { errorResponse } from '../../runtime/http/schemas';
import { keyStoreFor } from './keys';
import { ALL_SCOPES, AuthorizationServerMetadata, JwksResponse } from './model';

/** `/.well-known/jwks.json` (RFC 7517) and `/.well-known/oauth-authorization-server` (RFC 8414). */
export function wellKnownEndpoints(deps: { config: Config; database: Database }) {
  const keys = keyStoreFor(deps.config, deps.database);
  const issuer = deps.config.issuer;
  return new Elysia({ name: 'nimbus:well-known' })
    .get(
      '/.well-known/jwks.json',
      async ({ set }) => {
        // Short: a key added for rotation must reach verifiers before it signs anything.
        set.headers['cache-control'] = 'public, max-age=300';
        return keys.publicJwks();
      },
      {
        // The keys live in the database in development: it may be unreachable (503).
        response: { 200: JwksResponse, 500: errorResponse(500), 503: errorResponse(503) },
        detail: {
          tags: ['Authentication'],
          summary: 'Public keys that verify access tokens (JWK set)',
          operationId: 'getJwks',
          description: 'Every key that may still have unexpired tokens, so rotation needs no downtime. Verify with ES256 only.',
          security: [],
        },
      },
    )
    .get(
      '/.well-known/oauth-authorization-server',
      ({ set }) => {
        set.headers['cache-control'] = 'public, max-age=300';
        return {
          issuer,
          token_endpoint: `${issuer}/oauth/token`,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          scopes_supported: [...ALL_SCOPES],
          response_types_supported: [],
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          service_documentation: `${issuer}/docs`,
        };
      },
      {
        response: { 200: AuthorizationServerMetadata },
        detail: { tags: ['Authentication'], summary: 'OAuth 2.0 authorization server metadata (RFC 8414)', operationId: 'getAuthorizationServerMetadata', security: [] },
      },
    );
}
