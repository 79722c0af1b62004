import { describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { configureProcessor, defineProcessor } from './define.ts';
import { ProcessorConfigError } from './errors.ts';
import { createScriptedProcessor } from './test-toy.ts';

const noop = async () => {
  throw new Error('not called');
};
const operations = { authorize: noop, capture: noop, cancel: noop, refund: noop, sync: noop };

describe('defineProcessor', () => {
  test('rejects an id unfit for URLs and metric labels', () => {
    expect(() =>
      defineProcessor({ id: 'Bad Id', supports: { methods: ['card'], currencies: ['EUR'] }, credentials: Type.Object({}), ...operations }),
    ).toThrow(ProcessorConfigError);
  });

  test('rejects empty or malformed supports', () => {
    expect(() =>
      defineProcessor({ id: 'x1', supports: { methods: [], currencies: ['EUR'] }, credentials: Type.Object({}), ...operations }),
    ).toThrow(/supports/);
    expect(() =>
      defineProcessor({ id: 'x1', supports: { methods: ['card'], currencies: ['eur'] }, credentials: Type.Object({}), ...operations }),
    ).toThrow(/supports/);
  });

  test('defaults displayName and timeoutMs', () => {
    const definition = defineProcessor({ id: 'x1', supports: { methods: ['card'], currencies: ['EUR'] }, credentials: Type.Object({}), ...operations });
    expect([definition.displayName, definition.timeoutMs]).toEqual(['x1', 10_000]);
  });
});

describe('configureProcessor', () => {
  test('checks credentials against the schema and names paths, never values', () => {
    const { definition } = createScriptedProcessor();
    let message = '';
    try {
      configureProcessor(definition, { apiKey: 42, secretThing: 'sk_live_do_not_print' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("processor 'scripted'");
    expect(message).toContain('/apiKey');
    expect(message).not.toContain('sk_live_do_not_print');
    expect(() => configureProcessor(definition, undefined)).toThrow(ProcessorConfigError);
  });

  test('answers which payments it supports, and refuses callbacks it cannot parse', async () => {
    const processor = configureProcessor(createScriptedProcessor().definition, { apiKey: 'k' });
    expect(processor.supportsPayment('card', 'eur')).toBe(true);
    expect(processor.supportsPayment('bank_transfer', 'EUR')).toBe(false);
    expect(processor.supportsPayment('card', 'USD')).toBe(false);
    expect(processor.acceptsWebhooks).toBe(false);
    await expect(processor.parseWebhook(new Request('http://localhost/', { method: 'POST' }))).rejects.toBeInstanceOf(ProcessorConfigError);
  });

  test('currencies per method: a method named in currenciesByMethod takes only its own, the others take `currencies`', () => {
    const definition = defineProcessor({
      id: 'rails',
      supports: { methods: ['sepa_debit', 'bank_transfer', 'card'], currencies: ['GBP'], currenciesByMethod: { sepa_debit: ['EUR'], bank_transfer: ['USD'] } },
      credentials: Type.Object({}),
      ...operations,
    });
    const processor = configureProcessor(definition, {});
    expect(
      [['sepa_debit', 'EUR'], ['sepa_debit', 'USD'], ['bank_transfer', 'usd'], ['bank_transfer', 'EUR'], ['card', 'GBP'], ['card', 'EUR']].map(([method, currency]) =>
        processor.supportsPayment(method!, currency!),
      ),
    ).toEqual([true, false, true, false, true, false]);
  });

  test('currenciesByMethod may name only declared methods, with valid currencies', () => {
    const declare = (supports: unknown) => () => defineProcessor({ id: 'rails', supports: supports as never, credentials: Type.Object({}), ...operations });
    expect(declare({ methods: ['card'], currencies: ['EUR'], currenciesByMethod: { sepa_debit: ['EUR'] } })).toThrow(/sepa_debit, not among its methods/);
    expect(declare({ methods: ['card'], currencies: ['EUR'], currenciesByMethod: { card: [] } })).toThrow(ProcessorConfigError);
    expect(declare({ methods: ['card'], currencies: ['EUR'], currenciesByMethod: { card: ['eur'] } })).toThrow(ProcessorConfigError);
    expect(declare({ methods: ['*'], currencies: ['EUR'], currenciesByMethod: { sepa_debit: ['EUR'] } })).not.toThrow();
  });
});
