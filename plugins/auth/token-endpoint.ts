import { Type } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import { RawBody } from '../../runtime/http';
import { errorResponseObject, RetryAfter } from '../../runtime/http/schemas';
import { isStorableText } from '../../runtime/http/validation';
import type { Logger } from '../../runtime/logger';
import type { Env } from '../../runtime/plugin';
import { clientAddress, trustedProxies } from './client-address';
import { findClient, upgradeSecretHash } from './clients';
import { keyStoreFor } from './keys';
import { isScope, OAuthErrorResponse, type OAuthErrorCode, type Scope, TokenRequest, TokenResponse } from './model';
import { createFailureLimiter } from './rate-limit';
import { clientSecretKeyFor } from './secret-key';
import { hashSecret, isLegacyHash, verifySecret } from './secrets';
import { issueAccessToken } from './tokens';

export interface TokenEndpointDeps {
  config: Config;
  database: Database;
  logger: Logger;
  env?: Env;
}

/** An RFC 6749 section 5.2 error, answered as such (not as the /v1 error envelope). */
class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** Reads the form-encoded or JSON body into string parameters; a repeated parameter is invalid (RFC 6749 section 3.2). */
function parametersOf(body: unknown): Record<string, string> {
  if (!(body instanceof RawBody) || body.text.trim() === '') return {};
  if (body.contentType === 'application/x-www-form-urlencoded') {
    const params: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(body.text)) {
      if (name in params) throw new OAuthError('invalid_request', `The parameter ${name} is repeated.`);
      params[name] = value;
    }
    return params;
  }
  if (body.contentType === 'application/json' || body.contentType.endsWith('+json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      throw new OAuthError('invalid_request', 'The request body is not valid JSON.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new OAuthError('invalid_request', 'The request body must be a JSON object.');
    }
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (typeof value !== 'string') throw new OAuthError('invalid_request', `The parameter ${name} must be a string.`);
      params[name] = value;
    }
    return params;
  }
  throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded (or application/json).');
}

interface Credentials {
  clientId: string;
  clientSecret: string;
}

const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="nimbuspay", charset="UTF-8"' };

function invalidClient(description = 'Client authentication failed.'): OAuthError {
  return new OAuthError('invalid_client', description, 401, BASIC_CHALLENGE);
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    throw invalidClient('The Basic credentials are not correctly encoded.');
  }
}

/** HTTP Basic (RFC 6749 section 2.3.1: form-encoded id and secret) or body fields, never both. */
function credentialsOf(request: Request, params: Record<string, string>): Credentials | undefined {
  const header = request.headers.get('authorization');
  const inBody = params.client_id !== undefined || params.client_secret !== undefined;
  if (header !== null) {
    if (inBody) throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or body fields, not both.');
    const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
    if (!match) throw invalidClient('Client authentication must use HTTP Basic or the client_id and client_secret parameters.');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('The Basic credentials must be client_id:client_secret.');
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  }
  if (!inBody) return undefined;
  return { clientId: params.client_id ?? '', clientSecret: params.client_secret ?? '' };
}

function rateLimited(seconds: number): OAuthError {
  return new OAuthError('rate_limited', 'Too many failed client authentications. Retry later.', 429, { 'retry-after': String(seconds) });
}

function grantedScopes(requested: string | undefined, held: readonly string[]): Scope[] {
  const heldScopes = held.filter(isScope);
  if (requested === undefined || requested.trim() === '') return heldScopes;
  const asked = [...new Set(requested.split(' ').filter(Boolean))];
  const refused = asked.filter((scope) => !heldScopes.includes(scope as Scope));
  if (refused.length > 0) {
    throw new OAuthError('invalid_scope', `The client may not request: ${refused.join(' ')}. It holds: ${heldScopes.join(' ')}.`);
  }
  return asked as Scope[];
}

/** `POST /oauth/token`: OAuth2 client credentials (RFC 6749 section 4.4). */
export function tokenEndpoint(deps: TokenEndpointDeps) {
  const limiter = createFailureLimiter(deps.database);
  const keys = keyStoreFor(deps.config, deps.database);
  const hops = trustedProxies(deps.env ?? {});

  async function grant(request: Request, body: unknown, address: string) {
    const params = parametersOf(body);
    if (params.grant_type === undefined || params.grant_type === '') {
      throw new OAuthError('invalid_request', 'The grant_type parameter is required (client_credentials).');
    }
    if (params.grant_type !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', 'Only the client_credentials grant is supported.');
    }
    const credentials = credentialsOf(request, params);
    // No client id holds NUL or an unpaired surrogate, and the database cannot even look
    // one up: such an id is an unknown client (401 invalid_client, RFC 6749), not a /v1 400.
    const clientId = credentials?.clientId && isStorableText(credentials.clientId) ? credentials.clientId : undefined;
    // A client id (or this client at this address) that keeps failing is refused before any
    // check. An address that keeps failing is refused only for failures: other clients
    // behind the same proxy or NAT keep getting tokens.
    const clientKeys = clientId ? [`client:${clientId}`, `client:${clientId}|address:${address}`] : [];
    const addressKey = `address:${address}`;
    const clientWait = await limiter.blockedFor(clientKeys);
    if (clientWait > 0) throw rateLimited(clientWait);
    const addressWait = await limiter.blockedFor([addressKey]);
    const client = clientId ? await findClient(deps.database, clientId) : undefined;
    const secretKey = await clientSecretKeyFor(deps.database);
    const secretOk = await verifySecret(credentials?.clientSecret ?? '', client?.secretHash, secretKey);
    if (!credentials || !client || !secretOk || client.revokedAt !== null) {
      await limiter.record([addressKey, ...clientKeys]);
      deps.logger.warn({ client_id: credentials?.clientId?.slice(0, 64), address }, 'client authentication failed');
      if (addressWait > 0) throw rateLimited(addressWait);
      throw credentials ? invalidClient() : invalidClient('Client authentication is required (HTTP Basic or client_id and client_secret).');
    }
    if (isLegacyHash(client.secretHash)) await upgradeSecretHash(deps.database, client.id, hashSecret(credentials.clientSecret, secretKey));
    const scopes = grantedScopes(params.scope, client.scopes);
    const issued = await issueAccessToken({ config: deps.config, keys }, client, scopes);
    return { access_token: issued.accessToken, token_type: 'Bearer' as const, expires_in: issued.expiresIn, scope: issued.scope };
  }

  return new Elysia({ name: 'nimbus:oauth-token' }).post(
    '/oauth/token',
    async ({ request, body, set, server }) => {
      Object.assign(set.headers, NO_STORE);
      const address = clientAddress(request, server?.requestIP(request)?.address ?? 'unknown', hops);
      try {
        return await grant(request, body, address);
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        set.status = error.status;
        Object.assign(set.headers, error.headers);
        return { error: error.error, error_description: error.description };
      }
    },
    {
      detail: {
        tags: ['Authentication'],
        summary: 'Get an access token (OAuth2 client credentials)',
        operationId: 'createToken',
        description:
          'RFC 6749 section 4.4. Authenticate the client with HTTP Basic (`client_id:client_secret`) or with the ' +
          '`client_id` and `client_secret` body fields (not both). Without `scope` the token gets all of the client\'s scopes. ' +
          'Errors follow RFC 6749 section 5.2, not the /v1 error envelope. After 10 failed authentications for one client ' +
          'or one source address within a minute, answers 429 with Retry-After: every request for that client, and every ' +
          'further failure from that address (other clients at the same address still get tokens). The source address is ' +
          'the socket peer, or the X-Forwarded-For entry of the outermost of NIMBUS_TRUSTED_PROXIES trusted proxies; ' +
          'the counters are shared by every replica.',
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: TokenRequest },
            'application/json': { schema: TokenRequest },
          },
        },
        responses: {
          200: { description: 'The access token (Cache-Control: no-store).', content: { 'application/json': { schema: TokenResponse } } },
          400: { description: 'invalid_request, invalid_scope or unsupported_grant_type.', content: { 'application/json': { schema: OAuthErrorResponse } } },
          401: {
            description: 'invalid_client (with WWW-Authenticate: Basic).',
            headers: { 'WWW-Authenticate': { schema: Type.String({ description: 'Basic realm="nimbuspay", charset="UTF-8"' }) } },
            content: { 'application/json': { schema: OAuthErrorResponse } },
          },
          413: errorResponseObject(413),
          429: {
            description: 'rate_limited: too many failed authentications (with Retry-After).',
            headers: { 'Retry-After': { schema: RetryAfter } },
            content: { 'application/json': { schema: OAuthErrorResponse } },
          },
          500: errorResponseObject(500),
          503: errorResponseObject(503, 'database_unavailable (with Retry-After), in the /v1 error envelope.'),
        },
      } as never,
    },
  );
}
