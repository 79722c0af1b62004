/**
 * The drills' traffic: payment "flows" as an integrator runs them (create, then capture,
 * partial refunds or cancel), every write with its own Idempotency-Key and the key also
 * in `metadata.drill_key`, so the checks can count objects per key in SQL. Every answer
 * a flow got is recorded for the checks (verify.ts).
 */
import type { DrillClient, Final, Json } from './client';

export const CARDS = {
  visa: '4242424242424242',
  mastercard: '5555555555554444',
  processorError: '4000000000000119',
  timeout: '4000000000000408',
} as const;

export type FlowKind =
  /** automatic capture, then two partial refunds sent at once (they race on the same payment) */
  | 'refunds'
  /** manual capture of 80%, then a partial refund */
  | 'capture'
  /** manual capture, then cancel */
  | 'cancel'
  /** automatic capture, then a refund of more than remains (must be 409 and leave nothing behind) */
  | 'over_refund'
  /** the simulator's timeout card: outcome unknown, reconciliation finds it approved */
  | 'timeout'
  /** the simulator's retryable processor error */
  | 'processor_error';

export interface Recorded {
  key: string;
  op: 'create' | 'capture' | 'cancel' | 'refund';
  flow: FlowKind;
  /** The payment the operation is about (known once the create answered). */
  paymentId?: string;
  answer: Final;
  /** For refunds and captures: the amount asked. */
  amount?: number;
}

export interface Journal {
  records: Recorded[];
  flows: number;
  faultCards: number;
}

export function newJournal(): Journal {
  return { records: [], flows: 0, faultCards: 0 };
}

function cardMethod(number: string) {
  return { type: 'card', card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 4, cvc: '123', holder_name: 'Drill Runner' } };
}

/**
 * Picks a flow for flow number `n`. With a `faultShare` of 0.1, flows 3, 13, 23... use the
 * timeout card and 8, 18, 28... the processor-error card: one in ten, both kinds from the start.
 */
export function pickFlow(n: number, faultShare: number): FlowKind {
  if (faultShare > 0) {
    const every = Math.round(1 / faultShare);
    if (n % every === 3 % every) return 'timeout';
    if (n % every === Math.floor(every * 0.8) && every > 1) return 'processor_error';
  }
  const regular: FlowKind[] = ['refunds', 'capture', 'cancel', 'refunds', 'capture', 'over_refund'];
  return regular[n % regular.length]!;
}

/** Runs one flow to its end (or to the first unresolved step). */
export async function runFlow(client: DrillClient, journal: Journal, runId: string, n: number, flow: FlowKind): Promise<void> {
  const keyOf = (step: string) => `${runId}-${n}-${step}`;
  const amount = 1000 + ((n * 37) % 9000);
  const manual = flow === 'capture' || flow === 'cancel';
  const number = flow === 'timeout' ? CARDS.timeout : flow === 'processor_error' ? CARDS.processorError : n % 2 ? CARDS.visa : CARDS.mastercard;
  if (flow === 'timeout' || flow === 'processor_error') journal.faultCards += 1;
  journal.flows += 1;

  const createKey = keyOf('create');
  const created = await client.send('POST', '/v1/payments', {
    amount,
    currency: 'EUR',
    capture_method: manual ? 'manual' : 'automatic',
    payment_method: cardMethod(number),
    description: `drill ${runId} flow ${n}`,
    metadata: { drill_key: createKey, drill_flow: flow },
  }, createKey);
  const payment: Json = created.status === 201 ? created.body : undefined;
  journal.records.push({ key: createKey, op: 'create', flow, paymentId: payment?.id, answer: created });
  if (!payment) return;

  const refund = async (step: string, value: number) => {
    const key = keyOf(step);
    const answer = await client.send('POST', '/v1/refunds', { payment: payment.id, amount: value, metadata: { drill_key: key } }, key);
    journal.records.push({ key, op: 'refund', flow, paymentId: payment.id, answer, amount: value });
    return answer;
  };

  switch (flow) {
    case 'refunds': {
      if (payment.status !== 'succeeded') return;
      // Two refunds of 60% at once, one at each replica: only one may pass.
      const share = Math.ceil(amount * 0.6);
      await Promise.all([refund('refund-a', share), refund('refund-b', share)]);
      return;
    }
    case 'over_refund': {
      if (payment.status !== 'succeeded') return;
      const first = Math.floor(amount / 2);
      await refund('refund-1', first);
      await refund('refund-2', amount - first + 1);
      return;
    }
    case 'capture': {
      if (payment.status !== 'requires_capture') return;
      const key = keyOf('capture');
      const toCapture = Math.floor(amount * 0.8);
      const captured = await client.send('POST', `/v1/payments/${payment.id}/capture`, { amount_to_capture: toCapture }, key);
      journal.records.push({ key, op: 'capture', flow, paymentId: payment.id, answer: captured, amount: toCapture });
      if (captured.status === 200 && captured.body?.status === 'succeeded') await refund('refund-1', Math.floor(toCapture / 2));
      return;
    }
    case 'cancel': {
      if (payment.status !== 'requires_capture') return;
      const key = keyOf('cancel');
      const canceled = await client.send('POST', `/v1/payments/${payment.id}/cancel`, { cancellation_reason: 'requested_by_customer' }, key);
      journal.records.push({ key, op: 'cancel', flow, paymentId: payment.id, answer: canceled });
      return;
    }
    case 'timeout':
    case 'processor_error':
      return;
  }
}

export interface LoadOptions {
  client: DrillClient;
  journal: Journal;
  runId: string;
  /** At most this many flows... */
  flows: number;
  /** ...and at most this long (ms): whichever comes first. */
  maxMs: number;
  concurrency: number;
  faultShare?: number;
  /** Called after every finished flow with how many have finished. */
  onFlow?: (done: number) => void | Promise<void>;
  /** Set to true to stop starting new flows. */
  stop?: { requested: boolean };
}

/** A closed loop of `concurrency` flows at a time, bounded by count and time. */
export async function runLoad(options: LoadOptions): Promise<{ flows: number; ms: number }> {
  const started = Date.now();
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < options.flows && Date.now() - started < options.maxMs && !options.stop?.requested) {
      const n = next++;
      await runFlow(options.client, options.journal, options.runId, n, pickFlow(n, options.faultShare ?? 0));
      done += 1;
      await options.onFlow?.(done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  return { flows: done, ms: Date.now() - started };
}
