import { describe, expect, test } from 'bun:test';
import nimbusConfig from '../../nimbus.config';
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
