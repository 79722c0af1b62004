import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createReconciler } from '../../plugins/payments';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { ach, ACH_ACCOUNTS, allStoredText, call, card, CARDS, eventually, IBANS, paymentBody, sepa } from '../helpers/payments';

/**
 * After a run through every kind of payment, refund and callback: no card number, CVC or
 * full account number in any text/jsonb column of any table, in any log line, in any
 * response or in any event.
 */

let t: TestApp;
let acme: TestTenant;
const responses: string[] = [];
const CVC = '739';
beforeAll(async () => {
  t = await createTestApp({ env: { NIMBUS_RECONCILE_AFTER_MS: '0' } });
  acme = await createTenant(t);
}, 30_000);
afterAll(() => t.close());

const send = async (path: string, body?: unknown) => {
  const answer = await call(t, 'POST', path, acme.token, body);
  responses.push(answer.text);
  return answer;
};

test('no PAN, CVC or full account number is stored, logged, returned or sent in an event', async () => {
  const pans = Object.values(CARDS);
  for (const number of pans) {
    await send('/v1/payments', paymentBody(card(number, { cvc: number.startsWith('37') ? '7391' : CVC })));
    const later = await send('/v1/payments', paymentBody(card(number, { cvc: number.startsWith('37') ? '7391' : CVC }), { confirm: false }));
    await send(`/v1/payments/${later.body.id}/confirm`);
  }
  const pending = await send('/v1/payments', paymentBody(card(CARDS.visa, { cvc: CVC }), { confirm: false })); // left waiting
  expect(pending.body.status).toBe('requires_confirmation');
  const paid = await send('/v1/payments', paymentBody(card(CARDS.visa, { cvc: CVC })));
  await send('/v1/refunds', { payment: paid.body.id, amount: 100 });
  const banks = [sepa(IBANS.settles), sepa(IBANS.returned), sepa(IBANS.reconcileOnly)];
  for (const method of banks) await send('/v1/payments', paymentBody(method));
  for (const account of Object.values(ACH_ACCOUNTS)) await send('/v1/payments', paymentBody(ach(account), { currency: 'USD' }));
  await Bun.sleep(100);
  await createReconciler(t.payments, { autoStart: false }).runOnce();
  await eventually(async () => ((await call(t, 'GET', '/v1/payments?status=processing', acme.token)).body.data.length === 0 ? true : undefined));
  const events = await call(t, 'GET', '/v1/events?limit=100', acme.token);
  responses.push(events.text, (await call(t, 'GET', '/v1/payments?limit=100', acme.token)).text);

  const stored = await allStoredText(t.database);
  const logs = t.logs.text();
  const secrets = [...pans, ...Object.values(IBANS), ...Object.values(ACH_ACCOUNTS)];
  for (const [where, text] of [['database', stored], ['logs', logs], ['responses', responses.join('\n')]] as const) {
    for (const secret of secrets) expect({ where, leaked: text.includes(secret) ? secret : null }).toEqual({ where, leaked: null });
    expect({ where, cvc: /"cvc"|\b7391\b/.test(text) || text.includes(`"${CVC}"`) }).toEqual({ where, cvc: false });
  }
  // The pending payment's details are kept, but only encrypted (until confirm or cancel).
  expect(stored).toContain(pending.body.id);
}, 30_000);
