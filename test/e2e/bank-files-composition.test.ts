import { describe, expect, test } from 'bun:test';
import nimbusConfig from '../../nimbus.config';
import { bankFiles } from '../../plugins/bank-files';
import { bankFilesFromEnv } from '../../processors/bank-files/index.ts';
import { loadConfig } from '../../runtime/config';
import { silentLogger } from '../../runtime/logger';
import { createNimbus } from '../../runtime/nimbus';

/**
 * The bank-files connector in the composition root: registered only when a scheme is
 * configured (so `npm start` and every other test run without it), its settings read
 * from the environment and checked at start, naming the variable at fault.
 */

const SEPA = {
  BANK_FILES_STATE_KEY: 'a-state-key-of-at-least-32-characters!!',
  BANK_FILES_SEPA_CREDITOR_ID: 'DE98ZZZ09999999999',
  BANK_FILES_SEPA_CREDITOR_NAME: 'Nimbus Platform GmbH',
  BANK_FILES_SEPA_CREDITOR_IBAN: 'DE77100100100123456789',
};
const ACH = {
  BANK_FILES_STATE_KEY: 'a-state-key-of-at-least-32-characters!!',
  BANK_FILES_ACH_COMPANY_ID: '1234567890',
  BANK_FILES_ACH_COMPANY_NAME: 'Nimbus Platform',
  BANK_FILES_ACH_DESTINATION_ROUTING: '110000000',
  BANK_FILES_ACH_DESTINATION_NAME: 'Test ODFI',
  BANK_FILES_ACH_ORIGIN: '1234567890',
  BANK_FILES_ACH_ORIGIN_NAME: 'Nimbus Platform Inc',
};

function start(env: Record<string, string>) {
  const full = { NIMBUS_ENV: 'development', ...env };
  const definition = { ...nimbusConfig, processors: [...bankFilesFromEnv(full), ...nimbusConfig.processors.filter((p) => p.id !== 'bank-files')] };
  return createNimbus(definition, { config: loadConfig(full), env: full, database: {} as never, logger: silentLogger });
}

describe('bank-files in the composition root', () => {
  test('absent without its variables; the plugin is listed and stays inert', () => {
    expect(bankFilesFromEnv({})).toEqual([]);
    expect(nimbusConfig.plugins).toContain(bankFiles);
    const nimbus = start({});
    expect(nimbus.registry.processorIds).not.toContain('bank-files');
    expect(nimbus.service(bankFiles)).toBeUndefined();
  });

  test('each scheme turns on with its own variables, and routing follows', () => {
    const sepa = start(SEPA).registry;
    expect(sepa.processorIds[0]).toBe('bank-files');
    expect(sepa.processorsFor('sepa_debit', 'EUR')[0]!.id).toBe('bank-files');
    expect(sepa.processorsFor('bank_transfer', 'USD').map((p) => p.id)).not.toContain('bank-files');
    const ach = start(ACH).registry;
    expect(ach.processorsFor('bank_transfer', 'USD')[0]!.id).toBe('bank-files');
    expect(ach.processorsFor('sepa_debit', 'EUR').map((p) => p.id)).not.toContain('bank-files');
    expect(ach.processor('bank-files')!.credentials).toMatchObject({ achSecCode: 'CCD', achCutoffs: '20:00', outboxDir: '.nimbus/bank-files/outbox' });
  });

  test('a missing or wrong setting stops the start naming its variable (never its value)', () => {
    const { BANK_FILES_STATE_KEY: _key, ...noKey } = SEPA;
    expect(() => start(noKey)).toThrow(/BANK_FILES_STATE_KEY/);
    expect(() => start({ ...SEPA, BANK_FILES_SEPA_CREDITOR_IBAN: '' })).toThrow(/BANK_FILES_SEPA_CREDITOR_IBAN/);
    expect(() => start({ ...SEPA, BANK_FILES_SEPA_CUTOFFS: '9am' })).toThrow(/BANK_FILES_SEPA_CUTOFFS/);
    expect(() => start({ ...SEPA, BANK_FILES_SEPA_CREDITOR_ID: 'DE97ZZZ09999999999' })).toThrow(/BANK_FILES_SEPA_CREDITOR_ID/);
    expect(() => start({ ...SEPA, BANK_FILES_SEPA_CREDITOR_ID: 'DE97ZZZ09999999999' })).not.toThrow(/DE97ZZZ/);
    expect(() => start({ ...ACH, BANK_FILES_ACH_DESTINATION_ROUTING: '110000001' })).toThrow(/BANK_FILES_ACH_DESTINATION_ROUTING/);
    expect(() => start({ ...ACH, BANK_FILES_ACH_SEC_CODE: 'WEB' })).toThrow(/BANK_FILES_ACH_SEC_CODE/);
  });
});
