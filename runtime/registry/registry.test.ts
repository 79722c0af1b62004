import { describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { createRegistry, definePaymentMethod, type ProcessorContract } from './index.ts';

/** Two toy entries defined only here: the registry knows nothing of card or simulator. */
const toyMethod = definePaymentMethod({
  type: 'card',
  schema: Type.Object({ token: Type.String() }, { additionalProperties: false }),
  publicSchema: Type.Object({ kind: Type.Literal('toy') }),
  validate() {},
  redact: () => ({ kind: 'toy' as const }),
});

/** The kernel sees only the contract; the operations are the processor SDK's business. */
function toyProcessor<const Id extends string>(id: Id, currencies: string[]) {
  return {
    id,
    displayName: id,
    supports: { methods: ['card'], currencies },
    credentials: Type.Object({ apiKey: Type.String({ minLength: 3 }) }),
    timeoutMs: 1000,
  } satisfies ProcessorContract<Id>;
}

describe('createRegistry', () => {
  const alpha = toyProcessor('alpha', ['EUR', 'USD']);
  const beta = toyProcessor('beta', ['EUR']);

  test('looks entries up by id, typed, and lists ids in registration order', () => {
    const registry = createRegistry({
      paymentMethods: [toyMethod],
      processors: [alpha, beta],
      credentials: { alpha: { apiKey: 'a-key' }, beta: { apiKey: 'b-key' } },
    });
    const method = registry.paymentMethod('card');
    expect(method.paramPrefix).toBe('payment_method.card');
    const processor = registry.processor('alpha');
    expect(processor.credentials.apiKey).toBe('a-key');
    expect(registry.processor('nope' as string)).toBeUndefined();
    expect(registry.paymentMethod('bank_transfer' as string)).toBeUndefined();
    expect(registry.processorIds).toEqual(['alpha', 'beta']);
    expect(registry.paymentMethodTypes).toEqual(['card']);
  });

  test('processorsFor answers by method and currency, in registration order', () => {
    const registry = createRegistry({
      paymentMethods: [toyMethod],
      processors: [beta, alpha],
      credentials: { alpha: { apiKey: 'a-key' }, beta: { apiKey: 'b-key' } },
    });
    expect(registry.processorsFor('card', 'EUR').map((p) => p.id)).toEqual(['beta', 'alpha']);
    expect(registry.processorsFor('card', 'usd').map((p) => p.id)).toEqual(['alpha']);
    expect(registry.processorsFor('bank_transfer', 'EUR')).toEqual([]);
  });

  test('rejects duplicate ids at start', () => {
    expect(() => createRegistry({ paymentMethods: [toyMethod, toyMethod], processors: [] })).toThrow(/Duplicate payment method 'card'/);
    expect(() =>
      createRegistry({ paymentMethods: [], processors: [alpha, toyProcessor('alpha', ['USD'])], credentials: { alpha: { apiKey: 'abc' } } }),
    ).toThrow(/Duplicate processor 'alpha'/);
  });

  test('validates credentials at start and refuses credentials for unknown processors', () => {
    expect(() => createRegistry({ paymentMethods: [], processors: [alpha] })).toThrow(/Invalid credentials for processor 'alpha'/);
    expect(() =>
      createRegistry({ paymentMethods: [], processors: [alpha], credentials: { alpha: { apiKey: 'abc' }, alhpa: {} } }),
    ).toThrow(/'alhpa', which is not registered/);
  });
});
