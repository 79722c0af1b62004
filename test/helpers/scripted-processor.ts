import { Type } from '@sinclair/typebox';
import {
  defineProcessor,
  WebhookSignatureError,
  type AuthorizeInput,
  type AuthorizeResult,
  type CancelInput,
  type CancelResult,
  type CaptureInput,
  type CaptureResult,
  type RefundInput,
  type RefundResult,
  type SyncInput,
  type SyncResult,
  type WebhookEvent,
} from '../../processors/sdk/index.ts';

/**
 * A test-only card processor whose every operation a test can script, that counts its
 * calls and keeps a small ledger with idempotency by key (as a real processor does), so
 * a test can tell "called twice" from "charged twice". Callbacks are JSON messages
 * (a WebhookEvent) with the header `x-scripted-signature: ok`.
 */

export type Entry = { reference: string; status: 'authorized' | 'succeeded' | 'canceled' | 'failed'; amount: number; captured: number };
type Operation = 'authorize' | 'capture' | 'cancel' | 'refund' | 'sync';

export interface Scripted {
  id: string;
  definition: ReturnType<typeof defineProcessor>;
  calls: Record<Operation, number>;
  ledger: Map<string, Entry>;
  /** Processor-side idempotency: key -> reference. */
  keys: Map<string, string>;
  /** Replace to script an operation; `defaults` keeps the well-behaved version. */
  authorize: (input: AuthorizeInput) => Promise<AuthorizeResult>;
  capture: (input: CaptureInput) => Promise<CaptureResult>;
  cancel: (input: CancelInput) => Promise<CancelResult>;
  refund: (input: RefundInput) => Promise<RefundResult>;
  sync: (input: SyncInput) => Promise<SyncResult>;
  defaults: Pick<Scripted, Operation>;
  /** Back to the well-behaved operations, counters at zero. */
  reset(): void;
}

export function scriptedProcessor(id = 'scripted'): Scripted {
  const ledger = new Map<string, Entry>();
  const keys = new Map<string, string>();
  const refunds = new Map<string, RefundResult>();

  const defaults: Pick<Scripted, Operation> = {
    async authorize(input) {
      const known = keys.get(input.idempotencyKey);
      if (known) return { status: ledger.get(known)!.status === 'authorized' ? 'authorized' : 'succeeded', reference: known };
      const reference = `scr_${keys.size + 1}_${input.idempotencyKey.slice(-12).replace(/[^a-zA-Z0-9]/g, '')}`;
      keys.set(input.idempotencyKey, reference);
      ledger.set(reference, { reference, status: input.capture ? 'succeeded' : 'authorized', amount: input.amount, captured: input.capture ? input.amount : 0 });
      return { status: input.capture ? 'succeeded' : 'authorized', reference };
    },
    async capture(input) {
      const entry = ledger.get(input.reference)!;
      if (entry.status === 'authorized') Object.assign(entry, { status: 'succeeded', captured: input.amount });
      return { status: 'succeeded', reference: input.reference, amountCaptured: entry.captured };
    },
    async cancel(input) {
      const entry = ledger.get(input.reference)!;
      if (entry.status === 'authorized') entry.status = 'canceled';
      return entry.status === 'canceled'
        ? { status: 'canceled', reference: input.reference }
        : { status: 'failed', reference: input.reference, code: 'payment_unexpected_state', message: 'Not cancelable.' };
    },
    async refund(input) {
      const known = refunds.get(input.idempotencyKey);
      if (known) return known;
      const result: RefundResult = { status: 'succeeded', reference: `scr_re_${refunds.size + 1}` };
      refunds.set(input.idempotencyKey, result);
      return result;
    },
    async sync(input) {
      if (input.kind === 'refund') {
        const known = input.idempotencyKey ? refunds.get(input.idempotencyKey) : undefined;
        return known && known.status !== 'failed' ? { kind: 'refund', reference: known.reference, status: known.status } : { kind: 'refund', status: 'not_found' };
      }
      const reference = input.reference ?? (input.idempotencyKey ? keys.get(input.idempotencyKey) : undefined);
      const entry = reference ? ledger.get(reference) : undefined;
      if (!entry) return { kind: 'payment', status: 'not_found' };
      if (entry.status === 'failed') return { kind: 'payment', reference: entry.reference, status: 'failed', code: 'card_declined', message: 'Declined.' };
      return { kind: 'payment', reference: entry.reference, status: entry.status };
    },
  };

  const scripted = {
    id,
    calls: { authorize: 0, capture: 0, cancel: 0, refund: 0, sync: 0 },
    ledger,
    keys,
    defaults,
    ...defaults,
    reset() {
      Object.assign(scripted, defaults);
      for (const operation of Object.keys(scripted.calls) as Operation[]) scripted.calls[operation] = 0;
    },
  } as Omit<Scripted, 'definition'> as Scripted;

  const count = <I, R>(operation: Operation, run: () => (input: I) => Promise<R>) => async (input: I) => {
    scripted.calls[operation] += 1;
    return run()(input);
  };

  scripted.definition = defineProcessor({
    id,
    displayName: `${id} (scripted test double)`,
    supports: { methods: ['card'], currencies: ['EUR', 'USD'] },
    credentials: Type.Object({}),
    testOnly: true,
    authorize: count('authorize', () => scripted.authorize),
    capture: count('capture', () => scripted.capture),
    cancel: count('cancel', () => scripted.cancel),
    refund: count('refund', () => scripted.refund),
    sync: count('sync', () => scripted.sync),
    async parseWebhook(request): Promise<WebhookEvent> {
      if (request.headers.get('x-scripted-signature') !== 'ok') throw new WebhookSignatureError('bad_signature', 'Unsigned.');
      return (await request.json()) as WebhookEvent;
    },
  });
  return scripted;
}

/**
 * Holds the next authorizations open: `entered` resolves when one reaches the processor,
 * and each waits until `release()`. For "a long processor call" without a real delay.
 */
export function holdAuthorizations(scripted: Scripted): { entered: Promise<void>; release: () => void } {
  let arrived!: () => void;
  const entered = new Promise<void>((resolve) => (arrived = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  scripted.authorize = async (input) => {
    arrived();
    await gate;
    return scripted.defaults.authorize(input);
  };
  return { entered, release };
}
