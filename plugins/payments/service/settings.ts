import { ConfigError } from '../../../runtime/config';
import type { Env } from '../../../runtime/plugin';

/**
 * The payments plugin's own variables (the kernel's configuration knows none of them),
 * read once at start: a bad value stops the start with a message naming the variable.
 */
export interface PaymentsSettings {
  /** `not_found` answers after which reconciliation fails a payment the processor never saw. */
  reconcileNotFoundLimit: number;
}

export const NOT_FOUND_LIMIT_VARIABLE = 'NIMBUS_RECONCILE_NOT_FOUND_LIMIT';
/** With the default backoff (30 s doubling, at most 1 h) ten answers span about four hours. */
export const DEFAULT_NOT_FOUND_LIMIT = 10;

export function paymentsSettings(env: Env = {}): PaymentsSettings {
  const raw = env[NOT_FOUND_LIMIT_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return { reconcileNotFoundLimit: DEFAULT_NOT_FOUND_LIMIT };
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 1000) {
    throw new ConfigError(NOT_FOUND_LIMIT_VARIABLE, `must be a whole number from 1 to 1000, got '${raw}'.`);
  }
  return { reconcileNotFoundLimit: value };
}
