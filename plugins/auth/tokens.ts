import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { Value } from '@sinclair/typebox/value';
import type { Config } from '../../runtime/config';
import type { KeyStore } from './keys';
import { AccessTokenClaims, AUDIENCE, type Scope } from './model';

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
}

/** Signs an access token (RFC 9068 shape) for a client with the granted scopes. */
export async function issueAccessToken(
  deps: { config: Config; keys: KeyStore },
  client: { id: string; tenantId: string | null },
  scopes: readonly Scope[],
): Promise<IssuedToken> {
  const signer = await deps.keys.signer();
  const now = Math.floor(Date.now() / 1000);
  const scope = scopes.join(' ');
  const claims: Record<string, unknown> = { scope };
  if (client.tenantId) claims.tid = client.tenantId;
  const accessToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'at+jwt' })
    .setIssuer(deps.config.issuer)
    .setAudience(AUDIENCE)
    .setSubject(client.id)
    .setIssuedAt(now)
    .setExpirationTime(now + deps.config.tokenTtlSeconds)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(signer.privateKey);
  return { accessToken, expiresIn: deps.config.tokenTtlSeconds, scope };
}

export type VerifyFailure = 'invalid' | 'expired';

export class TokenRejected extends Error {
  constructor(
    readonly reason: VerifyFailure,
    message: string,
  ) {
    super(message);
    this.name = 'TokenRejected';
  }
}

/**
 * Tokens this process already verified, by their exact text (signature included), with
 * their claims: an integrator sends the same token for up to its lifetime, and an ECDSA
 * verification was a tenth of a GET's time. Only what jose accepted is kept; expiry is
 * checked again on every use; revocation is the guard's separate check. Bounded: the
 * oldest entry goes first.
 */
const VERIFIED_LIMIT = 5_000;
const verified = new WeakMap<KeyStore, Map<string, AccessTokenClaims>>();

function verifiedBy(keys: KeyStore): Map<string, AccessTokenClaims> {
  let cache = verified.get(keys);
  if (!cache) verified.set(keys, (cache = new Map()));
  return cache;
}

/** As jose checks it (no clock tolerance): a token is expired from its `exp` second on. */
function expired(claims: AccessTokenClaims, now = Math.floor(Date.now() / 1000)): boolean {
  return claims.exp <= now;
}

/**
 * Verifies signature, algorithm (ES256 only: `alg: none` and HS256-with-the-public-key
 * are refused by jose before any key is used), `kid`, `iss`, `aud`, `exp` and the claim
 * shapes. Throws TokenRejected; never says which check failed beyond expired/invalid.
 */
export async function verifyAccessToken(deps: { config: Config; keys: KeyStore }, token: string): Promise<AccessTokenClaims> {
  const cache = verifiedBy(deps.keys);
  const known = cache.get(token);
  if (known) {
    if (!expired(known)) return known;
    cache.delete(token);
    throw new TokenRejected('expired', 'The access token has expired.');
  }
  const claims = await verifyWithJose(deps, token);
  if (cache.size >= VERIFIED_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(token, claims);
  return claims;
}

async function verifyWithJose(deps: { config: Config; keys: KeyStore }, token: string): Promise<AccessTokenClaims> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header: JWTHeaderParameters) => {
        if (header.alg !== 'ES256' || typeof header.kid !== 'string') throw new TokenRejected('invalid', 'unsupported token header');
        const key = await deps.keys.verificationKey(header.kid);
        if (!key) throw new TokenRejected('invalid', 'unknown signing key');
        return key;
      },
      { algorithms: ['ES256'], issuer: deps.config.issuer, audience: AUDIENCE, typ: 'at+jwt', requiredClaims: ['sub', 'exp', 'iat', 'jti'] },
    );
    if (!Value.Check(AccessTokenClaims, payload)) throw new TokenRejected('invalid', 'malformed claims');
    return payload;
  } catch (error) {
    if (error instanceof TokenRejected) throw error;
    if (error instanceof errors.JWTExpired) throw new TokenRejected('expired', 'The access token has expired.');
    throw new TokenRejected('invalid', 'The access token is invalid.');
  }
}
