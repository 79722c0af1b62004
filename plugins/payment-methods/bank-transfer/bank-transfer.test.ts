import { describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { caught, FINGERPRINT_KEY, NOW } from '../test-helpers.ts';
import { bankTransfer, BankTransferPublic, type BankTransferDetails } from './index.ts';

const eur = { currency: 'EUR', now: NOW };
const usd = { currency: 'USD', now: NOW };

function sepa(iban: string, bic?: string): BankTransferDetails {
  return { scheme: 'sepa', iban, ...(bic ? { bic } : {}), account_holder_name: 'Jane Doe' };
}

function ach(routing_number = '110000000', account_number = '000123456789'): BankTransferDetails {
  return { scheme: 'ach', routing_number, account_number, account_type: 'checking', account_holder_name: 'Jane Doe' };
}

describe('SEPA validation', () => {
  test.each([
    'DE89370400440532013000',
    'DE62370400440532013001',
    'DE35370400440532013002',
    'GB82WEST12345698765432',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'ES9121000418450200051332',
    'IT60X0542811101000000123456',
    'AT611904300234573201',
    'BE68539007547034',
    'CH9300762011623852957',
    'de89 3704 0044 0532 0130 00',
  ])('accepts %s', (iban) => {
    expect(() => bankTransfer.validate(sepa(iban, 'COBADEFFXXX'), eur)).not.toThrow();
  });

  test.each([
    ['a wrong check digit', 'DE88370400440532013000'],
    ['a wrong length for DE', 'DE8937040044053201300'],
    ['an unknown country', 'ZZ89370400440532013000'],
    ['a non-SEPA country', 'TR330006100519786457841326'],
    ['garbage', 'not-an-iban'],
  ])('rejects an IBAN with %s as iban_invalid', (_why, iban) => {
    const error = caught(() => bankTransfer.validate(sepa(iban), eur));
    expect([error.status, error.code, error.param]).toEqual([400, 'iban_invalid', 'payment_method.bank_transfer.iban']);
    expect(error.message).not.toContain(iban);
  });

  test.each(['COBADE', 'COBADEFFXX', '1OBADEFFXXX', 'COBADEFFXXXX'])('rejects BIC %s', (bic) => {
    const error = caught(() => bankTransfer.validate(sepa('DE89370400440532013000', bic), eur));
    expect([error.code, error.param]).toEqual(['parameter_invalid', 'payment_method.bank_transfer.bic']);
  });

  test('accepts an 8-character BIC and no BIC at all', () => {
    expect(() => bankTransfer.validate(sepa('DE89370400440532013000', 'COBADEFF'), eur)).not.toThrow();
    expect(() => bankTransfer.validate(sepa('DE89370400440532013000'), eur)).not.toThrow();
  });

  test('SEPA outside EUR is currency_unsupported on currency', () => {
    const error = caught(() => bankTransfer.validate(sepa('DE89370400440532013000'), usd));
    expect([error.code, error.param]).toEqual(['currency_unsupported', 'currency']);
  });
});

describe('ACH validation', () => {
  test.each(['110000000', '021000021', '011401533'])('accepts routing number %s', (routing) => {
    expect(() => bankTransfer.validate(ach(routing), usd)).not.toThrow();
  });

  test.each(['110000001', '12345678', '1100000000', '11000000a'])('rejects routing number %s', (routing) => {
    const error = caught(() => bankTransfer.validate(ach(routing), usd));
    expect([error.code, error.param]).toEqual(['routing_number_invalid', 'payment_method.bank_transfer.routing_number']);
  });

  test.each(['123', '123456789012345678', '12345x'])('rejects account number %s', (account) => {
    const error = caught(() => bankTransfer.validate(ach('110000000', account), usd));
    expect([error.code, error.param]).toEqual(['parameter_invalid', 'payment_method.bank_transfer.account_number']);
    expect(error.message).not.toContain(account);
  });

  test('accepts 4 and 17 digit account numbers', () => {
    expect(() => bankTransfer.validate(ach('110000000', '1234'), usd)).not.toThrow();
    expect(() => bankTransfer.validate(ach('110000000', '12345678901234567'), usd)).not.toThrow();
  });

  test('ACH outside USD is currency_unsupported on currency', () => {
    const error = caught(() => bankTransfer.validate(ach(), eur));
    expect([error.code, error.param]).toEqual(['currency_unsupported', 'currency']);
  });
});

describe('bank transfer structure', () => {
  test('a missing or unknown scheme is reported on scheme', () => {
    const missing = caught(() => bankTransfer.validate({ iban: 'x' } as unknown as BankTransferDetails, eur));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'payment_method.bank_transfer.scheme']);
    const unknown = caught(() => bankTransfer.validate({ scheme: 'bacs' } as unknown as BankTransferDetails, eur));
    expect([unknown.code, unknown.param]).toEqual(['parameter_invalid', 'payment_method.bank_transfer.scheme']);
  });

  test('fields of the chosen scheme are checked with full paths', () => {
    const { account_type: _dropped, ...noType } = ach() as Extract<BankTransferDetails, { scheme: 'ach' }>;
    const missing = caught(() => bankTransfer.validate(noType as BankTransferDetails, usd));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'payment_method.bank_transfer.account_type']);
    const extra = caught(() => bankTransfer.validate({ ...sepa('DE89370400440532013000'), routing_number: '1' } as BankTransferDetails, eur));
    expect([extra.code, extra.param]).toEqual(['parameter_unknown', 'payment_method.bank_transfer.routing_number']);
  });
});

describe('bank transfer redaction', () => {
  const key = { fingerprintKey: FINGERPRINT_KEY };

  test('SEPA shows scheme, last4, country, bank code and fingerprint only', () => {
    const view = bankTransfer.redact(sepa('DE89 3704 0044 0532 0130 00', 'COBADEFFXXX'), key);
    expect(Value.Check(BankTransferPublic, view)).toBe(true);
    expect(view).toMatchObject({ scheme: 'sepa', last4: '3000', country: 'DE', bank_code: '37040044' });
    expect(JSON.stringify(view)).not.toContain('0532013000');
    expect(view.fingerprint).toBe(bankTransfer.redact(sepa('DE89370400440532013000'), key).fingerprint);
  });

  test('ACH shows the routing number as bank code and never the account number', () => {
    const view = bankTransfer.redact(ach(), key);
    expect(Value.Check(BankTransferPublic, view)).toBe(true);
    expect(view).toMatchObject({ scheme: 'ach', last4: '6789', country: 'US', bank_code: '110000000' });
    expect(JSON.stringify(view)).not.toContain('000123456789');
    expect(view.fingerprint).not.toBe(bankTransfer.redact(ach('021000021'), key).fingerprint);
  });
});
