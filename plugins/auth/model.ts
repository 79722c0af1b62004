import { Type, type Static } from '@sinclair/typebox';

/** Scopes a tenant client may hold (API.md "Authentication"). */
export const TENANT_SCOPES = [
  'payments:read',
  'payments:write',
  'webhooks:read',
  'webhooks:write',
  'events:read',
  'clients:write',
] as const;

/** Scopes only platform clients (no tenant) hold. */
export const PLATFORM_SCOPES = ['platform:admin', 'platform:support'] as const;

export const ALL_SCOPES = [...TENANT_SCOPES, ...PLATFORM_SCOPES] as const;

export type TenantScope = (typeof TENANT_SCOPES)[number];
export type PlatformScope = (typeof PLATFORM_SCOPES)[number];
export type Scope = TenantScope | PlatformScope;

export const ScopeSchema = Type.Union(ALL_SCOPES.map((scope) => Type.Literal(scope)));
export const TenantScopeSchema = Type.Union(TENANT_SCOPES.map((scope) => Type.Literal(scope)));

export function isScope(value: string): value is Scope {
  return (ALL_SCOPES as readonly string[]).includes(value);
}

export function isTenantScope(value: string): value is TenantScope {
  return (TENANT_SCOPES as readonly string[]).includes(value);
}

export function isPlatformScope(value: string): value is PlatformScope {
  return (PLATFORM_SCOPES as readonly string[]).includes(value);
}

/** The audience every NimbusPay access token carries. */
export const AUDIENCE = 'nimbuspay';

/** The claims of a NimbusPay access token (API.md "Authentication"). */
export const AccessTokenClaims = Type.Object({
  iss: Type.String(),
  aud: Type.Union([Type.String(), Type.Array(Type.String())]),
  sub: Type.String({ pattern: '^cli_' }),
  tid: Type.Optional(Type.String({ pattern: '^ten_' })),
  scope: Type.String(),
  iat: Type.Integer(),
  exp: Type.Integer(),
  jti: Type.String(),
});
export type AccessTokenClaims = Static<typeof AccessTokenClaims>;

/** RFC 6749 section 5.1 success body. */
export const TokenResponse = Type.Object(
  {
    access_token: Type.String({ description: 'An ES256-signed JWT.' }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the token expires (NIMBUS_TOKEN_TTL_S, default 900).' }),
    scope: Type.String({ description: 'The granted scopes, space separated.' }),
  },
  { additionalProperties: false },
);

export const OAUTH_ERRORS = ['invalid_request', 'invalid_client', 'invalid_grant', 'invalid_scope', 'unsupported_grant_type', 'rate_limited'] as const;
export type OAuthErrorCode = (typeof OAUTH_ERRORS)[number];

/** RFC 6749 section 5.2 error body (the token endpoint does not use the /v1 envelope). */
export const OAuthErrorResponse = Type.Object(
  {
    error: Type.Union(OAUTH_ERRORS.map((code) => Type.Literal(code))),
    error_description: Type.String(),
  },
  { additionalProperties: false },
);

/** The token request, as documented (form-encoded or JSON). */
export const TokenRequest = Type.Object(
  {
    grant_type: Type.Literal('client_credentials'),
    scope: Type.Optional(Type.String({ description: 'Space-separated subset of the client\'s scopes; default: all of them.' })),
    client_id: Type.Optional(Type.String({ description: 'Only when not using HTTP Basic.' })),
    client_secret: Type.Optional(Type.String({ description: 'Only when not using HTTP Basic.' })),
  },
  { additionalProperties: false },
);

/** A JWK set as published at /.well-known/jwks.json. */
export const JwksResponse = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.Literal('EC'),
      crv: Type.Literal('P-256'),
      x: Type.String(),
      y: Type.String(),
      kid: Type.String(),
      alg: Type.Literal('ES256'),
      use: Type.Literal('sig'),
    }),
  ),
});

export const AuthorizationServerMetadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  jwks_uri: Type.String(),
  scopes_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  grant_types_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  service_documentation: Type.String(),
});
