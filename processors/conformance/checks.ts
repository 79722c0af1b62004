import { WebhookSignatureError } from '../sdk/errors.ts';
import type { CallOutcome } from '../sdk/caller.ts';
import type { RefundResult, WebhookEvent } from '../sdk/model.ts';
import { ConformanceError, ensure, resultOf, withStatus } from './assert.ts';
import type { Session } from './session.ts';

export type Check = { name: string; run(session: Session): Promise<void> };

async function syncPayment(s: Session, reference: string) {
  return resultOf(await s.caller.call(s.processor, 'sync', { kind: 'payment', reference }), 'sync payment');
}

async function approvedPayment(s: Session, capture: boolean): Promise<string> {
  const value = resultOf(await s.authorize(s.fixtures.methods.approved, capture), 'authorize approved method');
  return withStatus(value, capture ? 'succeeded' : 'authorized', 'authorize approved method').reference;
}

function refund(s: Session, reference: string, amount: number, idempotencyKey = s.key('refund')) {
  return s.caller.call(s.processor, 'refund', { idempotencyKey, reference, amount, currency: s.fixtures.currency });
}

/** A refund that went through: succeeded at once, or pending and succeeded after settlement. */
async function expectRefunded(s: Session, outcome: CallOutcome<RefundResult>, what: string): Promise<string> {
  const value = resultOf(outcome, what);
  ensure(value.status !== 'failed', `${what}: expected the refund to go through, got ${JSON.stringify(value)}.`);
  if (value.status === 'pending') {
    await s.instance.settle();
    const synced = resultOf(await s.caller.call(s.processor, 'sync', { kind: 'refund', reference: value.reference }), `${what}: sync`);
    withStatus(synced, 'succeeded', `${what}: sync after settlement`);
  }
  return value.reference;
}

/** Refused: a `failed` result or a non-retryable error; never succeeded, pending or unknown. */
function expectRefused(outcome: CallOutcome<{ status: string }>, what: string): void {
  const refused = (outcome.kind === 'result' && outcome.value.status === 'failed') || (outcome.kind === 'error' && !outcome.retryable);
  ensure(refused, `${what}: expected a refusal, got ${JSON.stringify(outcome)}.`);
}

async function webhookRejected(s: Session, request: Request, what: string): Promise<void> {
  try {
    await s.processor.parseWebhook(request);
  } catch (error) {
    ensure(error instanceof WebhookSignatureError, `${what}: expected WebhookSignatureError, got ${String(error)}.`);
    return;
  }
  throw new ConformanceError(`${what}: the callback was accepted.`);
}

export const CHECKS: readonly Check[] = [
  {
    name: 'authorize only: authorized, and sync agrees',
    async run(s) {
      const reference = await approvedPayment(s, false);
      withStatus(await syncPayment(s, reference), 'authorized', 'sync after authorize');
    },
  },
  {
    name: 'authorize and capture: succeeded, and sync agrees',
    async run(s) {
      const reference = await approvedPayment(s, true);
      withStatus(await syncPayment(s, reference), 'succeeded', 'sync after capture');
    },
  },
  {
    name: 'partial capture: captures the given amount; refunds are bounded by it',
    async run(s) {
      const reference = await approvedPayment(s, false);
      const half = s.fixtures.amount / 2;
      const capture = await s.caller.call(s.processor, 'capture', { idempotencyKey: s.key('capture'), reference, amount: half, currency: s.fixtures.currency });
      const captured = withStatus(resultOf(capture, 'capture'), 'succeeded', 'partial capture');
      ensure(captured.amountCaptured === half, `partial capture: expected amountCaptured ${half}, got ${captured.amountCaptured}.`);
      withStatus(await syncPayment(s, reference), 'succeeded', 'sync after capture');
      expectRefused(await refund(s, reference, half + 1), 'refund above the captured amount');
    },
  },
  {
    name: 'cancel: an authorization is canceled and can no longer be captured',
    async run(s) {
      const reference = await approvedPayment(s, false);
      const canceled = resultOf(await s.caller.call(s.processor, 'cancel', { idempotencyKey: s.key('cancel'), reference }), 'cancel');
      withStatus(canceled, 'canceled', 'cancel');
      withStatus(await syncPayment(s, reference), 'canceled', 'sync after cancel');
      const capture = await s.caller.call(s.processor, 'capture', { idempotencyKey: s.key('capture'), reference, amount: s.fixtures.amount, currency: s.fixtures.currency });
      expectRefused(capture, 'capture after cancel');
    },
  },
  {
    name: 'decline mapping: each declining method gives declined with the normalised code',
    async run(s) {
      for (const { method, code, declineCode } of s.fixtures.methods.declined) {
        const what = `decline ${code}${declineCode ? `/${declineCode}` : ''}`;
        const declined = withStatus(resultOf(await s.authorize(method, true), what), 'declined', what);
        ensure(declined.code === code, `${what}: expected code '${code}', got '${declined.code}'.`);
        if (declineCode !== undefined) {
          ensure(declined.declineCode === declineCode, `${what}: expected declineCode '${declineCode}', got '${declined.declineCode}'.`);
        }
        if (declined.reference) withStatus(await syncPayment(s, declined.reference), 'failed', `${what}: sync`);
      }
    },
  },
  {
    name: 'refund in full: goes through once, then nothing remains',
    async run(s) {
      const reference = await approvedPayment(s, true);
      await expectRefunded(s, await refund(s, reference, s.fixtures.amount), 'full refund');
      expectRefused(await refund(s, reference, 1), 'refund after a full refund');
    },
  },
  {
    name: 'refund partially: two halves go through, a third refund is refused',
    async run(s) {
      const reference = await approvedPayment(s, true);
      const half = s.fixtures.amount / 2;
      const first = await expectRefunded(s, await refund(s, reference, half), 'first partial refund');
      const second = await expectRefunded(s, await refund(s, reference, half), 'second partial refund');
      ensure(first !== second, 'partial refunds: two refunds must have two references.');
      expectRefused(await refund(s, reference, 1), 'refund beyond the captured amount');
    },
  },
  {
    name: 'refund failure: a refused refund is a failed result with a code',
    async run(s) {
      const value = resultOf(await s.authorize(s.fixtures.methods.refundFails, true), 'authorize refund-failing method');
      const { reference } = withStatus(value, 'succeeded', 'authorize refund-failing method');
      const failed = withStatus(resultOf(await refund(s, reference, s.fixtures.amount), 'refund'), 'failed', 'refund');
      ensure(failed.code.length > 0, 'refund failure: the failed result needs a code.');
    },
  },
  {
    name: 'sync of a pending outcome: pending until settlement, then final',
    async run(s) {
      const { method, settlesTo, code } = s.fixtures.methods.pending;
      const { reference } = withStatus(resultOf(await s.authorize(method, true), 'authorize pending method'), 'pending', 'authorize pending method');
      withStatus(await syncPayment(s, reference), 'pending', 'sync before settlement');
      await s.instance.settle();
      const final = await syncPayment(s, reference);
      ensure(final.status === settlesTo, `sync after settlement: expected '${settlesTo}', got ${JSON.stringify(final)}.`);
      if (code !== undefined) ensure('code' in final && final.code === code, `sync after settlement: expected code '${code}', got ${JSON.stringify(final)}.`);
    },
  },
  {
    name: 'idempotent replay: the same key gives the same answer and acts once',
    async run(s) {
      const key = s.key('replay');
      const first = resultOf(await s.authorize(s.fixtures.methods.approved, true, key), 'authorize');
      const again = resultOf(await s.authorize(s.fixtures.methods.approved, true, key), 'authorize replay');
      ensure(JSON.stringify(first) === JSON.stringify(again), `authorize replay: ${JSON.stringify(first)} then ${JSON.stringify(again)}.`);
      const { reference } = withStatus(first, 'succeeded', 'authorize');
      const half = s.fixtures.amount / 2;
      const refundKey = s.key('refund');
      const one = await expectRefunded(s, await refund(s, reference, half, refundKey), 'refund');
      const two = await expectRefunded(s, await refund(s, reference, half, refundKey), 'refund replay');
      ensure(one === two, `refund replay: references ${one} and ${two} differ.`);
      await expectRefunded(s, await refund(s, reference, half), 'refund of the rest after a replay');
    },
  },
  {
    name: 'timeout: no answer in time is unknown, never declined',
    async run(s) {
      const outcome = await s.authorize(s.fixtures.methods.timeout, true, s.key('timeout'), s.impatientCaller);
      ensure(outcome.kind === 'unknown' && outcome.reason === 'timeout', `timeout: expected unknown/timeout, got ${JSON.stringify(outcome)}.`);
    },
  },
  {
    name: 'webhook signatures: genuine callbacks parse, anything else is rejected',
    async run(s) {
      if (!s.processor.acceptsWebhooks) return; // nothing to verify: the route answers 404
      ensure(s.instance.webhook, 'webhooks: the connector has parseWebhook, so the fixture must provide webhook().');
      const genuine = await s.instance.webhook();
      const body = await genuine.clone().text();
      // The registry types a connector's parse as unknown; the SDK's contract says what it returns.
      const event = (await s.processor.parseWebhook(genuine.clone() as Request)) as WebhookEvent;
      ensure(event.eventId && event.reference, `webhooks: genuine callback parsed to ${JSON.stringify(event)}.`);
      const copy = (text: string, headers: Headers | Record<string, string> = genuine.headers): Request =>
        new Request(genuine.url, { method: 'POST', headers, body: text });
      await webhookRejected(s, copy(`${body} `), 'body changed after signing');
      await webhookRejected(s, copy(body, { 'content-type': 'application/json' }), 'signature headers removed');
      await webhookRejected(s, copy([...body].reverse().join('')), 'garbage body with the genuine headers');
    },
  },
];
