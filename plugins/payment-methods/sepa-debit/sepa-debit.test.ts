import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { createRegistry, type PaymentMethodInput } from '../../../runtime/registry/index.ts';
import { bankTransfer } from '../bank-transfer/index.ts';
import { card } from '../card/index.ts';
import { caught, FINGERPRINT_KEY, NOW } from '../test-helpers.ts';
import { sepaDebit, SepaDebitMandate, SepaDebitPublic, type SepaDebitDetails } from './index.ts';

const eur = { currency: 'EUR', now: NOW }; // NOW is 2026-11-25T12:00:00Z
const key = { fingerprintKey: FINGERPRINT_KEY };
const IBAN = 'DE89370400440532013000';

function details(overrides: Partial<SepaDebitDetails> = {}, mandate: Partial<SepaDebitDetails['mandate']> = {}): SepaDebitDetails {
  return {
    iban: IBAN,
    account_holder_name: 'Jane Doe',
    mandate: { reference: 'MNDT-2026-0001', signed_at: '2026-11-01', ...mandate },
    ...overrides,
  };
}

/** Validation of details that do not type-check (the shape a client may send anyway). */
const validateLoose = (value: unknown, ctx = eur) => sepaDebit.validate(value as SepaDebitDetails, ctx);
const at = (iso: string) => ({ currency: 'EUR', now: new Date(iso) });

describe('sepa_debit validation', () => {
  test('accepts the API.md example and the simulator test IBANs', () => {
    for (const iban of [IBAN, 'DE62370400440532013001', 'DE35370400440532013002']) {
      expect(() => sepaDebit.validate(details({ iban }), eur)).not.toThrow();
    }
  });

  test('accepts IBANs printed in groups and lowercase, from other SEPA countries', () => {
    for (const iban of ['de89 3704 0044 0532 0130 00', 'FR1420041010050500013M02606', 'FI2112345600000785', 'NL91ABNA0417164300', 'CH9300762011623852957', 'GB82WEST12345698765432']) {
      expect(() => sepaDebit.validate(details({ iban }), eur)).not.toThrow();
    }
  });

  test.each(['USD', 'GBP', 'CHF'])('%s is currency_unsupported on currency (EUR only)', (currency) => {
    const error = caught(() => sepaDebit.validate(details(), { currency, now: NOW }));
    expect([error.status, error.code, error.param]).toEqual([400, 'currency_unsupported', 'currency']);
  });

  test.each([
    ['a wrong check digit', 'DE88370400440532013000'],
    ['a wrong length for DE', 'DE8937040044053201300'],
    ['an unknown country', 'ZZ89370400440532013000'],
    ['a country outside the SEPA zone', 'TR330006100519786457841326'],
    ['garbage', 'not-an-iban'],
  ])('rejects an IBAN with %s as iban_invalid', (_why, iban) => {
    const error = caught(() => sepaDebit.validate(details({ iban }), eur));
    expect([error.status, error.code, error.param]).toEqual([400, 'iban_invalid', 'payment_method.sepa_debit.iban']);
    expect(error.message).not.toContain(iban);
  });
});

describe('sepa_debit structure', () => {
  test.each([
    ['iban', 'payment_method.sepa_debit.iban'],
    ['account_holder_name', 'payment_method.sepa_debit.account_holder_name'],
    ['mandate', 'payment_method.sepa_debit.mandate'],
  ] as const)('a missing %s is parameter_missing with its full path', (field, param) => {
    const { [field]: _dropped, ...rest } = details();
    const error = caught(() => validateLoose(rest));
    expect([error.status, error.code, error.param]).toEqual([400, 'parameter_missing', param]);
  });

  test.each(['reference', 'signed_at'] as const)('a missing mandate.%s is parameter_missing with its full path', (field) => {
    const { [field]: _dropped, ...mandate } = details().mandate;
    const error = caught(() => validateLoose({ ...details(), mandate }));
    expect([error.code, error.param]).toEqual(['parameter_missing', `payment_method.sepa_debit.mandate.${field}`]);
  });

  test('unknown fields are parameter_unknown with their full path, at either level', () => {
    const top = caught(() => validateLoose({ ...details(), bic: 'COBADEFFXXX' }));
    expect([top.code, top.param]).toEqual(['parameter_unknown', 'payment_method.sepa_debit.bic']);
    const scheme = caught(() => validateLoose({ ...details(), scheme: 'sepa' }));
    expect([scheme.code, scheme.param]).toEqual(['parameter_unknown', 'payment_method.sepa_debit.scheme']);
    const nested = caught(() => validateLoose({ ...details(), mandate: { ...details().mandate, type: 'recurring' } }));
    expect([nested.code, nested.param]).toEqual(['parameter_unknown', 'payment_method.sepa_debit.mandate.type']);
  });

  test('wrong types are parameter_invalid with the full path', () => {
    const mandate = caught(() => validateLoose({ ...details(), mandate: 'MNDT-2026-0001' }));
    expect([mandate.code, mandate.param]).toEqual(['parameter_invalid', 'payment_method.sepa_debit.mandate']);
    const date = caught(() => validateLoose(details({}, { signed_at: 20261101 as unknown as string })));
    expect([date.code, date.param]).toEqual(['parameter_invalid', 'payment_method.sepa_debit.mandate.signed_at']);
  });

  test('the account holder name is 1..70 characters (EPC debtor name)', () => {
    expect(() => sepaDebit.validate(details({ account_holder_name: 'J'.repeat(70) }), eur)).not.toThrow();
    for (const account_holder_name of ['', 'J'.repeat(71)]) {
      const error = caught(() => sepaDebit.validate(details({ account_holder_name }), eur));
      expect([error.code, error.param]).toEqual(['parameter_invalid', 'payment_method.sepa_debit.account_holder_name']);
    }
  });
});

describe('mandate reference', () => {
  const PARAM = 'payment_method.sepa_debit.mandate.reference';
  const rejects = (reference: string) => {
    const error = caught(() => sepaDebit.validate(details({}, { reference }), eur));
    expect([error.status, error.code, error.param]).toEqual([400, 'parameter_invalid', PARAM]);
  };

  test('accepts 1 and 35 characters, and every character of the SEPA set', () => {
    for (const reference of ['M', 'M'.repeat(35), "az AZ 09/-?:().,'+x", 'ABC/DEF', 'Jane Doe 2026', 'MNDT-2026-0001']) {
      expect(() => sepaDebit.validate(details({}, { reference }), eur)).not.toThrow();
    }
  });

  test('refuses an empty reference and one of 36 characters', () => {
    rejects('');
    rejects('M'.repeat(36));
  });

  test.each(['MNDT_2026', 'MNDT&1', 'Müller-1', 'MNDT*1', 'MNDT@1', 'MNDT#1', 'MNDT"1', 'MNDT\t1', 'MNDT\n1', 'MNDT€1'])(
    'refuses %j: outside the SEPA character set',
    rejects,
  );

  test.each([' MNDT', 'MNDT ', ' '])('refuses %j: starts or ends with a space', rejects);

  test.each(['/MNDT', 'MNDT/', 'MN//DT', '/', '//'])('refuses %j: the EPC slash rules', rejects);
});

describe('mandate signature date', () => {
  const PARAM = 'payment_method.sepa_debit.mandate.signed_at';
  const rejects = (signed_at: string, ctx = eur) => {
    const error = caught(() => sepaDebit.validate(details({}, { signed_at }), ctx));
    expect([error.status, error.code, error.param]).toEqual([400, 'parameter_invalid', PARAM]);
  };

  test.each(['2026-11-1', '01.11.2026', '2026/11/01', '2026-11-01T00:00:00Z', '', '20261101'])('refuses %j: not YYYY-MM-DD', (value) => rejects(value));

  test('the schema itself carries the YYYY-MM-DD format, so the OpenAPI document shows it', () => {
    expect(Value.Check(SepaDebitMandate, { reference: 'M', signed_at: '2026-11-01' })).toBe(true);
    for (const signed_at of ['2026-11-1', '2026-11-01T00:00:00Z', '01.11.2026']) {
      expect(Value.Check(SepaDebitMandate, { reference: 'M', signed_at })).toBe(false);
    }
  });

  test.each(['2026-02-30', '2026-13-01', '2026-00-10', '2026-04-31', '2025-02-29'])('refuses %s: no calendar date', (value) => rejects(value));

  test('accepts today, the past and a leap day', () => {
    for (const signed_at of ['2026-11-25', '2026-11-24', '2009-11-02', '2024-02-29']) {
      expect(() => sepaDebit.validate(details({}, { signed_at }), eur)).not.toThrow();
    }
  });

  test('refuses a date in the future, judged by the context clock', () => {
    rejects('2026-11-26'); // tomorrow at 12:00 UTC: no SEPA clock has reached it
    rejects('2027-01-01');
    // The same date is fine once the context's "now" has reached it.
    expect(() => sepaDebit.validate(details({}, { signed_at: '2026-11-26' }), at('2026-11-26T08:00:00Z'))).not.toThrow();
  });

  test('a date that is already today somewhere in the SEPA zone (up to UTC+4) is not in the future', () => {
    // 23:30 UTC is 00:30 the next day in Berlin: a mandate signed there carries that date.
    expect(() => sepaDebit.validate(details({}, { signed_at: '2026-11-26' }), at('2026-11-25T23:30:00Z'))).not.toThrow();
    // 20:00 UTC is midnight in Réunion (UTC+4); one minute earlier it is nowhere in SEPA.
    expect(() => sepaDebit.validate(details({}, { signed_at: '2026-11-26' }), at('2026-11-25T20:00:00Z'))).not.toThrow();
    rejects('2026-11-26', at('2026-11-25T19:59:00Z'));
    // The tolerance is a time zone, not a day: two days ahead is refused at any hour.
    rejects('2026-11-27', at('2026-11-25T23:59:59Z'));
  });
});

describe('sepa_debit redaction', () => {
  test('shows scheme, last4, country, bank code, fingerprint and mandate reference only', () => {
    const view = sepaDebit.redact(details({ iban: 'de89 3704 0044 0532 0130 00' }), key);
    expect(Value.Check(SepaDebitPublic, view)).toBe(true);
    expect(view).toEqual({
      scheme: 'sepa',
      last4: '3000',
      country: 'DE',
      bank_code: '37040044',
      fingerprint: expect.any(String),
      mandate_reference: 'MNDT-2026-0001',
    });
    const text = JSON.stringify(view);
    expect(text).not.toContain(IBAN);
    expect(text).not.toContain('0532013000');
    expect(text).not.toContain('Jane Doe');
  });

  test('omits the bank code where its position in the IBAN is unknown', () => {
    const view = sepaDebit.redact(details({ iban: 'FI2112345600000785' }), key);
    expect(Value.Check(SepaDebitPublic, view)).toBe(true);
    expect(view).toMatchObject({ scheme: 'sepa', last4: '0785', country: 'FI' });
    expect('bank_code' in view).toBe(false);
  });

  test('the fingerprint is keyed, follows the account, and matches a SEPA bank transfer of it', () => {
    const first = sepaDebit.redact(details(), key).fingerprint;
    expect(first).not.toContain(IBAN);
    expect(sepaDebit.redact(details({ iban: 'de89 3704 0044 0532 0130 00' }, { reference: 'OTHER-1' }), key).fingerprint).toBe(first);
    expect(sepaDebit.redact(details({ iban: 'DE62370400440532013001' }), key).fingerprint).not.toBe(first);
    expect(sepaDebit.redact(details(), { fingerprintKey: 'another-key-of-enough-length!!' }).fingerprint).not.toBe(first);
    const transfer = bankTransfer.redact({ scheme: 'sepa', iban: IBAN, account_holder_name: 'Jane Doe' }, key);
    expect(transfer.fingerprint).toBe(first);
  });
});

describe('sepa_debit in a registry', () => {
  const registry = createRegistry({ paymentMethods: [card, bankTransfer, sepaDebit], processors: [] });
  const method = { type: 'sepa_debit', sepa_debit: details() } satisfies PaymentMethodInput<'sepa_debit'>;

  test('the request union takes the API.md example and the public union its view', () => {
    expect(registry.paymentMethodTypes).toEqual(['card', 'bank_transfer', 'sepa_debit']);
    expect(Value.Check(registry.paymentMethodRequest, method)).toBe(true);
    expect(Value.Check(registry.paymentMethodRequest, { ...method, sepa_debit: { ...details(), bic: 'X' } })).toBe(false);
    expect(() => registry.validatePaymentMethod(method, eur)).not.toThrow();
    const view = registry.redactPaymentMethod(method, key);
    expect(Value.Check(registry.paymentMethodPublic, view)).toBe(true);
    expect(view).toMatchObject({ type: 'sepa_debit', sepa_debit: { scheme: 'sepa', last4: '3000', mandate_reference: 'MNDT-2026-0001' } });
  });

  test('connectors get typed details through the PaymentMethodDetails augmentation', () => {
    // Without the augmentation `sepa_debit` would be `unknown` here and tsc would refuse `.mandate`.
    const input: PaymentMethodInput<'sepa_debit'> = method;
    const reference: string = input.sepa_debit.mandate.reference;
    expect(reference).toBe('MNDT-2026-0001');
  });

  test('errors through the registry carry the full payment_method path', () => {
    const missing = caught(() => registry.validatePaymentMethod({ type: 'sepa_debit' }, eur));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'payment_method.sepa_debit']);
    const noMandate = caught(() => registry.validatePaymentMethod({ type: 'sepa_debit', sepa_debit: { iban: IBAN, account_holder_name: 'J' } }, eur));
    expect([noMandate.code, noMandate.param]).toEqual(['parameter_missing', 'payment_method.sepa_debit.mandate']);
    const iban = caught(() => registry.validatePaymentMethod({ type: 'sepa_debit', sepa_debit: details({ iban: 'DE88370400440532013000' }) }, eur));
    expect([iban.code, iban.param]).toEqual(['iban_invalid', 'payment_method.sepa_debit.iban']);
  });
});
