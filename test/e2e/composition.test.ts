import { describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import nimbusConfig from '../../nimbus.config';
import { loadConfig } from '../../runtime/config';
import { silentLogger } from '../../runtime/logger';
import { createNimbus } from '../../runtime/nimbus';
import { createRegistry } from '../../runtime/registry';

/** What the composition root registers, as the registry sees it. */
describe('nimbus.config.ts', () => {
  const registry = createRegistry({ ...nimbusConfig, env: { NIMBUS_SIMULATOR_CALLBACK_SECRET: 'a-long-enough-secret' } });

  test('holds card, bank_transfer and the simulator, which takes callbacks', () => {
    expect(registry.paymentMethodTypes).toEqual(['card', 'bank_transfer', 'sepa_debit']);
    expect(registry.processorIds).toEqual(['simulator']);
    expect(registry.processor('simulator')!.acceptsWebhooks).toBe(true);
    expect(registry.processorsFor('bank_transfer', 'EUR').map((p) => p.id)).toEqual(['simulator']);
    expect(registry.paymentMethod('bank_transfer')!.paramPrefix).toBe('payment_method.bank_transfer');
  });

  test('refuses a callback secret too short to sign with, naming its variable', () => {
    expect(() => createRegistry({ ...nimbusConfig, env: { NIMBUS_SIMULATOR_CALLBACK_SECRET: 'short' } })).toThrow(/NIMBUS_SIMULATOR_CALLBACK_SECRET/);
  });
});

describe('production refuses unsafe processor configuration at start', () => {
  const production = {
    NIMBUS_ENV: 'production',
    DATABASE_URL: 'postgres://app@db.internal:5432/nimbus',
    NIMBUS_JWT_PRIVATE_JWKS: JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd', kid: 'k1' }] }),
    NIMBUS_FINGERPRINT_KEY: 'a-long-random-fingerprint-key',
    NIMBUS_WEBHOOK_SECRET_KEYS: Buffer.alloc(32, 7).toString('base64'),
  };
  // The database is never opened: the registry check runs before anything connects.
  const start = (env: Record<string, string>) =>
    createNimbus(nimbusConfig, { config: loadConfig(env), env, database: {} as never, logger: silentLogger });

  test('the simulator alone is refused, naming NIMBUS_ALLOW_SIMULATOR', () => {
    expect(() => start(production)).toThrow(/NIMBUS_ALLOW_SIMULATOR/);
  });

  test('allowed explicitly, or in staging, it starts', () => {
    expect(() => start({ ...production, NIMBUS_ALLOW_SIMULATOR: 'true' })).not.toThrow();
    expect(() => start({ ...production, NIMBUS_ENV: 'staging' })).not.toThrow();
  });
});

describe('production does not fail over to a test double', () => {
  test('with a real processor listed, the simulator is not registered in production (still in staging, or when allowed)', () => {
    const real = { id: 'realpay', displayName: 'Real', supports: { methods: ['card'], currencies: ['EUR'] }, credentials: Type.Object({}), timeoutMs: 1000 };
    const definition = { ...nimbusConfig, processors: [real, ...nimbusConfig.processors] };
    const production = {
      NIMBUS_ENV: 'production',
      DATABASE_URL: 'postgres://app@db.internal:5432/nimbus',
      NIMBUS_JWT_PRIVATE_JWKS: JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd', kid: 'k1' }] }),
      NIMBUS_FINGERPRINT_KEY: 'a-long-random-fingerprint-key',
      NIMBUS_WEBHOOK_SECRET_KEYS: Buffer.alloc(32, 7).toString('base64'),
    };
    const ids = (env: Record<string, string>) =>
      createNimbus(definition, { config: loadConfig(env), env, database: {} as never, logger: silentLogger }).registry.processorIds;
    expect(ids(production)).toEqual(['realpay']);
    expect(ids({ ...production, NIMBUS_ALLOW_SIMULATOR: 'true' })).toEqual(['realpay', 'simulator']);
    expect(ids({ ...production, NIMBUS_ENV: 'staging' })).toEqual(['realpay', 'simulator']);
  });
});
