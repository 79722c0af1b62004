import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant } from '../helpers/auth';

/**
 * What an integrator does with /docs/json: generate a typed client (oazapfts, from npm),
 * write a little code against it, typecheck it (the project's TypeScript 7 `tsc`) and
 * run it. The client's types come from the document, so a field the document gets
 * wrong (a `reason` that may be null, a status no response declares) is a compile
 * error here, exactly as it would be in a strict Kotlin, Go or C# client.
 */

const ROOT = join(import.meta.dir, '..', '..');
const OAZAPFTS = join(ROOT, 'node_modules', 'oazapfts', 'dist', 'cli.js');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** A small integration, as an integrator writes it against the generated `api.ts`. */
const CLIENT = `
import * as api from './api';

type Created<F extends (...args: never[]) => Promise<{ status: number }>> = Extract<Awaited<ReturnType<F>>, { status: 201 }>['data'];
export type Refund = Created<typeof api.createRefund>;
export type Payment = Created<typeof api.createPayment>;

// What the document promises, checked at compile time: these lines do not compile if
// the document says otherwise.
export const refundWithoutReason: Refund['reason'] = null;
export const paymentWithoutFailure: Payment['failure'] = null;

export function configure(baseUrl: string, fetchImpl: typeof fetch): void {
  api.defaults.baseUrl = baseUrl;
  api.defaults.fetch = fetchImpl;
}

export interface Outcome {
  payment: Payment['status'];
  refund: Refund['status'];
  reason: Refund['reason'];
}

/** Pays by card, then refunds in full without a reason. Every error status is one the document declares. */
export async function payAndRefund(token: string, expYear: number): Promise<Outcome> {
  const headers = { authorization: 'Bearer ' + token };
  const payment = await api.createPayment(
    { amount: 2000, currency: 'EUR', payment_method: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: expYear, cvc: '123' } } },
    { headers: { ...headers, 'Idempotency-Key': crypto.randomUUID() } },
  );
  switch (payment.status) {
    case 201:
      break;
    case 409:
    case 413:
    case 422:
    case 500:
    case 503:
      throw new Error('retry later: ' + payment.data.error.code);
    default:
      throw new Error(payment.status + ' ' + payment.data.error.code);
  }
  const refund = await api.createRefund({ payment: payment.data.id }, { headers });
  if (refund.status !== 201) throw new Error(refund.status + ' ' + refund.data.error.code);
  return { payment: payment.data.status, refund: refund.data.status, reason: refund.data.reason };
}
`;

/** The mistake a client makes when the document says a nullable field is a plain string. */
const WRONG = `
import type { Refund } from './client';
export const reason: string = (null as unknown as Refund).reason;
`;

function run(args: string[], cwd: string) {
  const result = Bun.spawnSync(['node', ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { exitCode: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}

function typecheck(dir: string, file: string) {
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'bundler',
      lib: ['ES2022', 'DOM'],
      types: [],
      skipLibCheck: true,
    },
    files: [file],
  };
  writeFileSync(join(dir, `tsconfig.${file}.json`), JSON.stringify(config));
  return run([TSC, '-p', `tsconfig.${file}.json`], dir);
}

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await createTestApp();
  // Under node_modules so that the generated code resolves @oazapfts/runtime as an integrator's would.
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  dir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'nimbus-openapi-client-'));
  writeFileSync(join(dir, 'openapi.json'), await (await t.request('GET', '/docs/json')).text());
  writeFileSync(join(dir, 'client.ts'), CLIENT);
  writeFileSync(join(dir, 'wrong.ts'), WRONG);
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.close();
});

describe('a client generated from /docs/json (oazapfts)', () => {
  test('generates, and a hand-written client typechecks against it with tsc', () => {
    const generated = run([OAZAPFTS, 'openapi.json', 'api.ts'], dir);
    expect({ exitCode: generated.exitCode, output: generated.output }).toEqual({ exitCode: 0, output: expect.any(String) });
    const checked = typecheck(dir, 'client.ts');
    expect({ exitCode: checked.exitCode, output: checked.output }).toEqual({ exitCode: 0, output: '' });
  }, 120_000);

  test('the typecheck is real: code that ignores a documented null does not compile', () => {
    const checked = typecheck(dir, 'wrong.ts');
    expect(checked.exitCode).not.toBe(0);
    expect(checked.output).toContain('wrong.ts');
    expect(checked.output).toContain("Type 'string | null' is not assignable to type 'string'");
  }, 60_000);

  test('the generated client runs against the server and gets what its types say', async () => {
    const acme = await createTenant(t);
    const client = await import(join(dir, 'client.ts'));
    client.configure('http://localhost', (input: string, init?: RequestInit) => t.app.handle(new Request(input, init)));
    const outcome = await client.payAndRefund(acme.token, new Date().getUTCFullYear() + 4);
    expect(outcome).toEqual({ payment: 'succeeded', refund: 'succeeded', reason: null });
  }, 60_000);
});
