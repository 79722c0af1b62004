import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import { DEPLOY } from './helpers';

/** deploy/scripts/jwks.ts: the key sets it prints are what the app accepts, and rotation keeps order. */

const SCRIPT = resolve(DEPLOY, 'scripts/jwks.ts');

function jwks(args: string[], stdin = '') {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { input: stdin, encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

type Jwk = Record<string, string> & { kid: string };
type Set = { keys: Jwk[] };

describe('deploy/scripts/jwks.ts', () => {
  test('`new` prints one EC P-256 private key with a kid, usable for ES256', async () => {
    const { status, stdout } = jwks(['new']);
    expect(status).toBe(0);
    const set = JSON.parse(stdout) as Set;
    expect(set.keys).toHaveLength(1);
    const [key] = set.keys;
    if (!key) throw new Error('no key in the JWKS');
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(typeof key.d).toBe('string');
    expect(key.kid.length).toBeGreaterThan(20);
    const privateKey = await importJWK(key, 'ES256');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(privateKey);
    const { d: _d, ...publicJwk } = key;
    await jwtVerify(token, await importJWK(publicJwk, 'ES256'));
  });

  test('add, promote, remove: the three steps of a rotation', () => {
    const one = jwks(['new']).stdout;
    const [oldKid] = (JSON.parse(one) as Set).keys.map((k) => k.kid);
    if (!oldKid) throw new Error('no key in the JWKS');
    const two = jwks(['add'], one).stdout;
    const kids = jwks(['kids'], two).stdout.split('\n');
    expect(kids[0]).toBe(oldKid); // the old key still signs after step 1
    expect(kids).toHaveLength(2);
    const newKid = kids[1]!;
    const promoted = jwks(['promote', newKid], two).stdout;
    expect(jwks(['kids'], promoted).stdout.split('\n')).toEqual([newKid, oldKid]);
    const retired = jwks(['remove', oldKid], promoted).stdout;
    expect(jwks(['kids'], retired).stdout.split('\n')).toEqual([newKid]);
  });

  test('refuses to remove the signing key or an unknown kid', () => {
    const one = jwks(['new']).stdout;
    const [kid] = (JSON.parse(one) as Set).keys.map((k) => k.kid);
    if (!kid) throw new Error('no key in the JWKS');
    const signing = jwks(['remove', kid], one);
    expect(signing.status).toBe(1);
    expect(signing.stderr).toContain('is the signing key');
    expect(jwks(['promote', 'nope'], one).status).toBe(1);
    expect(jwks(['bogus']).status).toBe(1);
  });
});
