import { createHash, randomBytes } from 'node:crypto';
import { defineProcessor, type ProcessorContext, type ProcessorDefinition } from '../sdk/define.ts';
import { createLedger } from './ledger.ts';
import { SimulatorCredentials, type SimulatorCallback, type SimulatorSettings } from './model.ts';
import * as operations from './operations.ts';
import { signedCallbackRequest, verifyCallback } from './signing.ts';

export { SimulatorCallback, SimulatorCredentials, SimulatorSettings } from './model.ts';
export { SIGNATURE_HEADER, signedCallbackRequest } from './signing.ts';
export { scenarioFor, type Scenario } from './test-data.ts';

export const SIMULATOR_ID = 'simulator';

/** The currencies of API.md: the simulator takes everything NimbusPay supports. */
const CURRENCIES = ['USD', 'EUR', 'GBP', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF', 'CAD', 'AUD', 'NZD', 'JPY', 'KRW'];

export type SimulatorOptions = SimulatorSettings & {
  /**
   * Called `settleMs` after a bank transfer, a bank refund or the timeout card, with the
   * signed callback, as a real processor would POST it. Default: the deployment's
   * in-process channel to `POST /v1/processors/simulator/webhooks` (the call context's
   * `deliverCallback`). Neither: the simulator only answers `sync`.
   * Delivery is attempted once; a lost callback is what reconciliation is for.
   */
  deliverCallback?: (processorId: string, request: Request) => Promise<void>;
  /** Clock in ms; tests move it to "after settle time" without waiting. */
  now?: () => number;
};

export type SimulatorDefinition = ProcessorDefinition<typeof SIMULATOR_ID, typeof SimulatorCredentials, '*'>;

/** Resolves after `ms`, or rejects with the abort reason when the call wrapper gives up. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

function eventId(reference: string, status: string): string {
  return `simevt_${createHash('sha256').update(`${reference}:${status}`).digest('hex').slice(0, 24)}`;
}

/**
 * The built-in processor: deterministic outcomes from the API.md test data, its own
 * in-memory ledger (per process) for `sync`, and signed callbacks for whatever settles
 * later. Each call to `createSimulator` is an independent "backend".
 */
export function createSimulator(options: SimulatorOptions = {}): SimulatorDefinition {
  const now = options.now ?? Date.now;
  const ledger = createLedger(now);
  // Without a configured secret, one per process: fine for one process, whose callbacks
  // come back to itself; replicas that receive each other's callbacks need a shared one.
  const processSecret = randomBytes(24).toString('base64url');
  const secretOf = (credentials: SimulatorCredentials) => credentials.callbackSecret ?? processSecret;
  const latencyOf = (credentials: SimulatorCredentials) => options.latencyMs ?? credentials.latencyMs ?? 0;
  const settleOf = (credentials: SimulatorCredentials) => options.settleMs ?? credentials.settleMs ?? 2000;

  function deliver(ctx: ProcessorContext<SimulatorCredentials>, announcement: operations.Announcement): void {
    const { kind, reference } = announcement;
    const entry = kind === 'payment' ? ledger.payment(reference) : ledger.refund(reference);
    const send = options.deliverCallback
      ? (request: Request) => options.deliverCallback!(SIMULATOR_ID, request)
      : ctx.deliverCallback;
    if (!entry || !send) return;
    const state = operations.stateOf(kind, ledger.settle(entry, true));
    if (state.status === 'not_found') return;
    const callback: SimulatorCallback = {
      id: eventId(reference, state.status),
      type: kind === 'payment' ? 'payment.updated' : 'refund.updated',
      created: Math.floor(now() / 1000),
      data: {
        reference,
        status: state.status,
        ...(state.status === 'failed' ? { code: state.code, message: state.message } : {}),
        ...('declineCode' in state && state.declineCode ? { decline_code: state.declineCode } : {}),
      },
    };
    const request = signedCallbackRequest(secretOf(ctx.credentials), callback, { timestamp: callback.created });
    send(request).catch(() => undefined);
  }

  function depsFor(ctx: ProcessorContext<SimulatorCredentials>): operations.Deps {
    const settleMs = settleOf(ctx.credentials);
    return {
      ledger,
      now,
      settleMs,
      announce(announcement) {
        if (!options.deliverCallback && !ctx.deliverCallback) return;
        const timer = setTimeout(() => deliver(ctx, announcement), settleMs);
        // A pending callback must not keep a finished process (or test run) alive.
        (timer as { unref?: () => void }).unref?.();
      },
    };
  }

  return defineProcessor({
    id: SIMULATOR_ID,
    displayName: 'NimbusPay simulator',
    // Every registered method: the simulator decides by the shape of the details.
    supports: { methods: ['*'], currencies: CURRENCIES },
    credentials: SimulatorCredentials,
    env: {
      callbackSecret: 'NIMBUS_SIMULATOR_CALLBACK_SECRET',
      settleMs: 'NIMBUS_SIMULATOR_SETTLE_MS',
      latencyMs: 'NIMBUS_SIMULATOR_LATENCY_MS',
    },
    testOnly: true,
    async authorize(input, ctx) {
      await pause(latencyOf(ctx.credentials), ctx.signal);
      return operations.authorize(depsFor(ctx), input);
    },
    async capture(input, ctx) {
      await pause(latencyOf(ctx.credentials), ctx.signal);
      return operations.capture(depsFor(ctx), input);
    },
    async cancel(input, ctx) {
      await pause(latencyOf(ctx.credentials), ctx.signal);
      return operations.cancel(depsFor(ctx), input);
    },
    async refund(input, ctx) {
      await pause(latencyOf(ctx.credentials), ctx.signal);
      return operations.refund(depsFor(ctx), input);
    },
    async sync(input, ctx) {
      await pause(latencyOf(ctx.credentials), ctx.signal);
      return operations.sync(depsFor(ctx), input);
    },
    async parseWebhook(request, ctx) {
      return verifyCallback(secretOf(ctx.credentials), request, now());
    },
  });
}
