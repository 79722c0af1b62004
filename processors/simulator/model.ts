import { Type, type Static } from '@sinclair/typebox';

/** Behaviour knobs (NIMBUS_SIMULATOR_LATENCY_MS, NIMBUS_SIMULATOR_SETTLE_MS). */
export const SimulatorSettings = Type.Object({
  /** Added to every call, to make the simulator feel like a network hop (default 0). */
  latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  /** When bank transfers, their refunds and the timeout card settle (default 2000). */
  settleMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
});
export type SimulatorSettings = Static<typeof SimulatorSettings>;

/**
 * The simulator's credentials and settings, from NIMBUS_SIMULATOR_CALLBACK_SECRET,
 * NIMBUS_SIMULATOR_SETTLE_MS and NIMBUS_SIMULATOR_LATENCY_MS.
 */
export const SimulatorCredentials = Type.Object(
  {
    callbackSecret: Type.Optional(
      Type.String({ minLength: 16, description: 'HMAC key of the Simulator-Signature header (default: random per process).' }),
    ),
    ...SimulatorSettings.properties,
  },
  { additionalProperties: false },
);
export type SimulatorCredentials = Static<typeof SimulatorCredentials>;

/**
 * The body of a simulator callback, shaped like a real processor's event: an id to
 * dedupe on, a type, and the object's new state. Snake case, as on the wire.
 */
export const SimulatorCallback = Type.Object({
  id: Type.String({ pattern: '^simevt_[A-Za-z0-9]+$' }),
  type: Type.Union([Type.Literal('payment.updated'), Type.Literal('refund.updated')]),
  created: Type.Integer(),
  data: Type.Object({
    reference: Type.String({ minLength: 1 }),
    status: Type.Union([
      Type.Literal('pending'),
      Type.Literal('authorized'),
      Type.Literal('succeeded'),
      Type.Literal('canceled'),
      Type.Literal('failed'),
    ]),
    code: Type.Optional(Type.String()),
    decline_code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  }),
});
export type SimulatorCallback = Static<typeof SimulatorCallback>;
