import { randomBytes } from 'node:crypto';
import { builtinPaymentMethods } from '../../plugins/payment-methods/index.ts';
import { createSimulator, SIMULATOR_ID, type SimulatorOptions } from '../../processors/simulator/index.ts';
import { createRegistry } from './create.ts';
import type { DefaultRegistrySettings } from './model.ts';

export type DefaultRegistryOptions = DefaultRegistrySettings & Pick<SimulatorOptions, 'deliverCallback' | 'now'>;

/**
 * The registry NimbusPay ships with: `card`, `bank_transfer` and the `simulator`.
 * `latencyMs` / `settleMs` come from NIMBUS_SIMULATOR_LATENCY_MS / _SETTLE_MS;
 * `deliverCallback` is where the simulator pushes its signed callbacks (wire it to
 * `POST /v1/processors/simulator/webhooks`); without it the simulator only answers `sync`.
 */
export function defaultRegistry(options: DefaultRegistryOptions = {}) {
  const { callbackSecret, ...simulatorOptions } = options;
  return createRegistry({
    paymentMethods: builtinPaymentMethods,
    processors: [createSimulator(simulatorOptions)],
    credentials: { [SIMULATOR_ID]: { callbackSecret: callbackSecret ?? randomBytes(24).toString('base64url') } },
  });
}

/** The registry type `defaultRegistry` returns, with literal ids `card`, `bank_transfer`, `simulator`. */
export type DefaultRegistry = ReturnType<typeof defaultRegistry>;
