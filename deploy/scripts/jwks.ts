#!/usr/bin/env bun
/**
 * Builds the value of NIMBUS_JWT_PRIVATE_JWKS (a JWK set of EC P-256 private keys; the
 * first key signs, all of them verify) and the steps of a signing-key rotation
 * (deploy/README.md#rotating-jwt-signing-keys). Reads the current set on stdin where it
 * needs one, prints the new set on stdout; nothing is written to disk.
 *
 *   bun deploy/scripts/jwks.ts new               a set with one new key
 *   bun deploy/scripts/jwks.ts add     < set     the set + a new key at the end (verifies only)
 *   bun deploy/scripts/jwks.ts promote KID < set  KID moved first: it signs from now on
 *   bun deploy/scripts/jwks.ts remove  KID < set  KID dropped (refused for the signing key)
 *   bun deploy/scripts/jwks.ts kids    < set     the key ids, signing key first
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

type KeySet = { keys: JWK[] };

async function newKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  // The RFC 7638 thumbprint: a stable, unique kid derived from the public key.
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid, alg: 'ES256', use: 'sig' };
}

async function readSet(): Promise<KeySet> {
  const text = await Bun.stdin.text();
  const set = JSON.parse(text) as KeySet;
  if (!Array.isArray(set.keys) || set.keys.length === 0) throw new Error('stdin is not a JWK set with keys');
  return set;
}

function indexOf(set: KeySet, kid: string | undefined): number {
  const index = set.keys.findIndex((key) => key.kid === kid);
  if (!kid || index < 0) throw new Error(`no key with kid '${kid}' in the set`);
  return index;
}

async function main(command: string | undefined, kid: string | undefined): Promise<KeySet | string> {
  switch (command) {
    case 'new':
      return { keys: [await newKey()] };
    case 'add': {
      const set = await readSet();
      return { keys: [...set.keys, await newKey()] };
    }
    case 'promote': {
      const set = await readSet();
      const [key] = set.keys.splice(indexOf(set, kid), 1);
      if (!key) throw new Error(`no key ${kid} in the set`);
      return { keys: [key, ...set.keys] };
    }
    case 'remove': {
      const set = await readSet();
      const index = indexOf(set, kid);
      if (index === 0) throw new Error(`'${kid}' is the signing key: promote another key first`);
      set.keys.splice(index, 1);
      return set;
    }
    case 'kids':
      return (await readSet()).keys.map((key) => key.kid).join('\n');
    default:
      throw new Error('usage: jwks.ts new | add | promote KID | remove KID | kids');
  }
}

try {
  const result = await main(process.argv[2], process.argv[3]);
  console.log(typeof result === 'string' ? result : JSON.stringify(result));
} catch (error) {
  console.error(`jwks.ts: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
