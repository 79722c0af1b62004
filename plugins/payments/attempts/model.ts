import { type Static, Type } from '@sinclair/typebox';
import { ProcessorOperation } from '../../../processors/sdk/index.ts';

/** TypeBox schemas of `GET /v1/payments/:id/attempts`: the single source of the attempt's shape. */

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const PaymentAttempt = Type.Object(
  {
    id: Type.String({ pattern: '^att_' }),
    object: Type.Literal('payment_attempt'),
    payment: Type.String({ description: 'The payment the call was for.' }),
    refund: Nullable(Type.String({ description: 'The refund, for a `refund` call or the `sync` of a refund.' })),
    processor: Type.String({ description: 'The processor id.' }),
    operation: ProcessorOperation,
    kind: Type.Union([Type.Literal('result'), Type.Literal('error'), Type.Literal('unknown')], {
      description: '`result`: the processor answered; `error`: it refused and nothing happened there; `unknown`: no answer (timeout, unexpected error, circuit open).',
    }),
    outcome: Type.String({
      description:
        'The answer (`succeeded`, `authorized`, `pending`, `declined`, `failed`, `canceled`, `not_found`), or why there was none ' +
        '(`timeout`, `exception`, `invalid_result`, `circuit_open`, `processor_error`, `invalid_input`).',
    }),
    code: Nullable(Type.String({ description: 'The decline code (`insufficient_funds`), failure or return code (`R01`), or the processor error code.' })),
    attempts: Type.Integer({ minimum: 0, description: 'Tries within the call, retries with the same idempotency key included; 0 when the circuit was open.' }),
    duration_ms: Type.Integer({ minimum: 0, description: 'Wall time of the whole call, retries included.' }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { description: 'One call NimbusPay made to a processor for a payment. Holds no card or account data.' },
);
export type PaymentAttempt = Static<typeof PaymentAttempt>;

export const PaymentAttemptList = Type.Object({ object: Type.Literal('list'), data: Type.Array(PaymentAttempt), has_more: Type.Boolean() });
