import { Type } from '@sinclair/typebox';
import { defineProcessor } from './define.ts';

/**
 * A connector whose behaviour a test scripts per call: `next` decides what the
 * next `authorize` does. Only for this folder's tests.
 */
export type ToyBehaviour =
  | { type: 'approve' }
  | { type: 'hang' }
  | { type: 'throw'; error: unknown }
  | { type: 'malformed' };

export function createScriptedProcessor(options: { timeoutMs?: number } = {}) {
  const script: ToyBehaviour[] = [];
  const calls: Array<{ idempotencyKey: string; attempt: number; signal: AbortSignal }> = [];
  const definition = defineProcessor({
    id: 'scripted',
    supports: { methods: ['card'], currencies: ['EUR'] },
    credentials: Type.Object({ apiKey: Type.String({ minLength: 1 }) }),
    timeoutMs: options.timeoutMs ?? 50,
    async authorize(input, ctx) {
      calls.push({ idempotencyKey: input.idempotencyKey, attempt: ctx.attempt, signal: ctx.signal });
      const behaviour = script.shift() ?? { type: 'approve' };
      switch (behaviour.type) {
        case 'approve':
          return { status: 'succeeded', reference: `toy_${input.idempotencyKey}` };
        case 'hang':
          return new Promise(() => undefined);
        case 'throw':
          throw behaviour.error;
        case 'malformed':
          return { status: 'approved-ish' } as never;
      }
    },
    async capture(input) {
      return { status: 'succeeded', reference: input.reference, amountCaptured: input.amount };
    },
    async cancel(input) {
      return { status: 'canceled', reference: input.reference };
    },
    async refund(input) {
      return { status: 'succeeded', reference: `toy_re_${input.idempotencyKey}` };
    },
    async sync(input) {
      return { kind: input.kind, status: 'not_found' };
    },
  });
  return { definition, script, calls };
}

export const cardInput = {
  idempotencyKey: 'idem-1',
  amount: 1000,
  currency: 'EUR',
  capture: true,
  paymentMethod: {
    type: 'card' as const,
    card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' },
  },
};
