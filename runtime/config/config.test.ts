import { describe, expect, test } from 'bun:test';
import { assertProcessorsAllowed, ConfigError, configWarnings, loadConfig } from '.';

const productionBase = {
  NIMBUS_ENV: 'production',
  DATABASE_URL: 'postgres://app@db.internal:5432/nimbus',
  NIMBUS_JWT_PRIVATE_JWKS: JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd', kid: 'k1' }] }),
  NIMBUS_FINGERPRINT_KEY: 'a-long-random-fingerprint-key',
  NIMBUS_WEBHOOK_SECRET_KEYS: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=',
};

/** A test double as the registry describes it (the simulator declares itself testOnly). */
const SIMULATOR = { id: 'simulator', testOnly: true };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  test('development defaults match API.md', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe('.nimbus/data');
    expect(config.tokenTtlSeconds).toBe(900);
    expect(config.webhookAllowPrivate).toBe(true);
    expect(config.reconcileAfterMs).toBe(30000);
    expect(config.shutdownGraceMs).toBe(10000);
    expect(config.issuer).toBe('http://127.0.0.1:3000');
  });

  test('outside development the host is 0.0.0.0 and private webhooks are off', () => {
    const config = loadConfig({ ...productionBase, NIMBUS_ENV: 'staging' });
    expect(config.host).toBe('0.0.0.0');
    expect(config.webhookAllowPrivate).toBe(false);
  });

  test.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ NIMBUS_ENV: 'prod' }, 'NIMBUS_ENV'],
    [{ NIMBUS_TOKEN_TTL_S: '59' }, 'NIMBUS_TOKEN_TTL_S'],
    [{ NIMBUS_TOKEN_TTL_S: '86401' }, 'NIMBUS_TOKEN_TTL_S'],
    [{ NIMBUS_WEBHOOK_ALLOW_PRIVATE: 'maybe' }, 'NIMBUS_WEBHOOK_ALLOW_PRIVATE'],
    [{ NIMBUS_JWT_PRIVATE_JWKS: 'not json' }, 'NIMBUS_JWT_PRIVATE_JWKS'],
    [{ NIMBUS_JWT_PRIVATE_JWKS: '{"keys":[{"kty":"RSA"}]}' }, 'NIMBUS_JWT_PRIVATE_JWKS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NIMBUS_ISSUER: 'not a url' }, 'NIMBUS_ISSUER'],
  ])('%p is refused naming %s', (env, variable) => {
    const error = errorOf(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message).toStartWith(`${variable}:`);
  });

  test('DATABASE_POOL_MAX sizes the pool: 10 by default, 1..100, an integer', () => {
    expect(loadConfig({}).databasePoolMax).toBe(10);
    expect(loadConfig({ DATABASE_POOL_MAX: '25' }).databasePoolMax).toBe(25);
    for (const bad of ['0', '101', '2.5', 'ten', '-1']) expect(errorOf({ DATABASE_POOL_MAX: bad }).variable).toBe('DATABASE_POOL_MAX');
  });

  test('production refuses the embedded database', () => {
    const { DATABASE_URL: _, ...env } = productionBase;
    expect(errorOf(env).variable).toBe('DATABASE_URL');
  });

  test('production refuses generated signing keys and fingerprint keys', () => {
    const { NIMBUS_JWT_PRIVATE_JWKS: _, ...withoutKeys } = productionBase;
    expect(errorOf(withoutKeys).variable).toBe('NIMBUS_JWT_PRIVATE_JWKS');
    const { NIMBUS_FINGERPRINT_KEY: __, ...withoutFingerprint } = productionBase;
    expect(errorOf(withoutFingerprint).variable).toBe('NIMBUS_FINGERPRINT_KEY');
  });

  test('production and staging refuse to start without a webhook secret encryption key, naming the variable', () => {
    const { NIMBUS_WEBHOOK_SECRET_KEYS: _, ...withoutKey } = productionBase;
    for (const NIMBUS_ENV of ['production', 'staging']) {
      const error = errorOf({ ...withoutKey, NIMBUS_ENV });
      expect(error.variable).toBe('NIMBUS_WEBHOOK_SECRET_KEYS');
      expect(error.message).toStartWith('NIMBUS_WEBHOOK_SECRET_KEYS: is required');
    }
    expect(loadConfig({}).webhookSecretKeys).toBeUndefined();
  });

  test('webhook secret keys: base64 of 32 bytes or a 32+ character passphrase, comma-separated, first one first', () => {
    const raw = Buffer.alloc(32, 7).toString('base64');
    const rawUrl = Buffer.alloc(32, 9).toString('base64url');
    const passphrase = 'correct horse battery staple, twice'.replace(',', ';');
    expect(loadConfig({ NIMBUS_WEBHOOK_SECRET_KEYS: ` ${raw} , ${rawUrl},${passphrase} ` }).webhookSecretKeys).toEqual([raw, rawUrl, passphrase]);
    const refused: Array<[string, RegExp]> = [
      ['too-short', /must be 32 random bytes in base64/],
      [Buffer.alloc(16, 1).toString('base64'), /must be 32 random bytes in base64/],
      [`${raw},`, /key 2 of 2 is empty/],
      [`${raw},${raw}`, /key 2 repeats key 1/],
      // The same bytes spelled in base64url are the same key.
      [`${raw},${Buffer.alloc(32, 7).toString('base64url')}`, /key 2 repeats key 1/],
    ];
    for (const [value, message] of refused) {
      const error = errorOf({ NIMBUS_WEBHOOK_SECRET_KEYS: value });
      expect(error.variable).toBe('NIMBUS_WEBHOOK_SECRET_KEYS');
      expect(error.message).toMatch(message);
      // The error names the variable and the position, never the key itself.
      expect(error.message).not.toContain(raw);
      expect(error.message).not.toContain('too-short');
    }
  });

  test('staging refuses what production refuses', () => {
    expect(errorOf({ NIMBUS_ENV: 'staging' }).variable).toBe('DATABASE_URL');
  });

  test('a correct production configuration is accepted', () => {
    const config = loadConfig(productionBase);
    expect(config.env).toBe('production');
    expect(config.databaseUrl).toBe(productionBase.DATABASE_URL);
  });

  test('production refuses the simulator as only processor unless allowed', () => {
    const config = loadConfig(productionBase);
    expect(() => assertProcessorsAllowed(config, [SIMULATOR])).toThrow(ConfigError);
    expect(() => assertProcessorsAllowed(config, [SIMULATOR, { id: 'acme' }])).not.toThrow();
    expect(() => assertProcessorsAllowed(loadConfig({ ...productionBase, NIMBUS_ALLOW_SIMULATOR: 'true' }), [SIMULATOR])).not.toThrow();
    // Staging may run the simulator.
    expect(() => assertProcessorsAllowed(loadConfig({ ...productionBase, NIMBUS_ENV: 'staging' }), [SIMULATOR])).not.toThrow();
  });

  test('private webhook targets outside development are allowed but warned about', () => {
    const config = loadConfig({ ...productionBase, NIMBUS_WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect(config.webhookAllowPrivate).toBe(true);
    expect(configWarnings(config).join(' ')).toContain('NIMBUS_WEBHOOK_ALLOW_PRIVATE');
    expect(configWarnings(loadConfig({}))).toEqual([]);
  });
});
