import { sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../db';
import type { TestApp } from './app';

/** Test data and small helpers for the payments end-to-end suites. */

export const CARDS = {
  visa: '4242424242424242',
  mastercard: '5555555555554444',
  amex: '378282246310005',
  discover: '6011111111111117',
  genericDecline: '4000000000000002',
  insufficientFunds: '4000000000009995',
  lostCard: '4000000000009987',
  expiredCard: '4000000000000069',
  incorrectCvc: '4000000000000127',
  processorError: '4000000000000119',
  timeout: '4000000000000408',
  refundFails: '4000000000005126',
} as const;

export const IBANS = { settles: 'DE89370400440532013000', returned: 'DE62370400440532013001', reconcileOnly: 'DE35370400440532013002' } as const;
export const ACH_ACCOUNTS = { settles: '000123456789', returned: '000111111116' } as const;

export function card(number: string, overrides: Record<string, unknown> = {}) {
  return {
    type: 'card',
    card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 4, cvc: number.startsWith('37') ? '1234' : '123', holder_name: 'Jane Doe', ...overrides },
  };
}

export function sepa(iban: string) {
  return { type: 'bank_transfer', bank_transfer: { scheme: 'sepa', iban, bic: 'COBADEFFXXX', account_holder_name: 'Jane Doe' } };
}

export function ach(accountNumber: string) {
  return {
    type: 'bank_transfer',
    bank_transfer: { scheme: 'ach', routing_number: '110000000', account_number: accountNumber, account_type: 'checking', account_holder_name: 'Jane Doe' },
  };
}

export function paymentBody(method: unknown, overrides: Record<string, unknown> = {}) {
  return { amount: 2000, currency: 'EUR', payment_method: method, ...overrides };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function call(t: TestApp, method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>) {
  const response = await t.request(method, path, { token, body, headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: (text ? JSON.parse(text) : undefined) as Json };
}

/** The types of the events about one object, oldest first. */
export async function eventTypes(t: TestApp, token: string, objectId: string): Promise<string[]> {
  const page = await call(t, 'GET', `/v1/events?object_id=${objectId}&limit=100`, token);
  if (page.status !== 200) throw new Error(`GET /v1/events answered ${page.status}: ${page.text}`);
  return (page.body.data as Array<{ type: string }>).map((event) => event.type).reverse();
}

/**
 * Polls `check` until it holds (bounded), for outcomes that arrive by callback. The
 * bound only decides how long a real failure takes to report, so it is generous: on a
 * busy shared machine a 50 ms settlement can take seconds to arrive.
 */
export async function eventually<T>(check: () => Promise<T | undefined>, { timeoutMs = 10_000, stepMs = 20 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await Bun.sleep(stepMs);
  }
}

/** Every text and jsonb value in every table, for scans of secrets that must never be stored. */
export async function allStoredText(database: Database): Promise<string> {
  const columns = rowsOf<{ table_name: string; column_name: string }>(
    await database.db.execute(sql`select table_name, column_name from information_schema.columns
      where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'character varying', 'ARRAY')`),
  );
  const parts: string[] = [];
  for (const { table_name, column_name } of columns) {
    const rows = rowsOf<{ value: string | null }>(
      await database.db.execute(sql.raw(`select "${column_name}"::text as value from "${table_name}"`)),
    );
    for (const row of rows) if (row.value) parts.push(row.value);
  }
  return parts.join('\n');
}
