import { createHash, randomBytes } from 'node:crypto';
import { defineProcessor, type ProcessorContext, type ProcessorDefinition } from '../sdk/define.ts';
import { ProcessorTimeoutError } from '../sdk/errors.ts';
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
 * ledger in the processor state (the database in a deployment) for `sync`, and signed
 * callbacks for whatever settles later.
 */
export function createSimulator(options: SimulatorOptions = {}): SimulatorDefinition {
  const now = options.now ?? Date.now;
  // Without a configured secret, one per process: fine for one process, whose callbacks
  // come back to itself; replicas that receive each other's callbacks need a shared one.
  const processSecret = randomBytes(24).toString('base64url');
  const secretOf = (credentials: SimulatorCredentials) => credentials.callbackSecret ?? processSecret;
  const latencyOf = (credentials: SimulatorCredentials) => options.latencyMs ?? credentials.latencyMs ?? 0;
  const settleOf = (credentials: SimulatorCredentials) => options.settleMs ?? credentials.settleMs ?? 2000;
  type Ctx = ProcessorContext<SimulatorCredentials>;

  function sender(ctx: Ctx) {
    return options.deliverCallback ? (request: Request) => options.deliverCallback!(SIMULATOR_ID, request) : ctx.deliverCallback;
  }

  /** Settles the object now (its time has come) and sends the signed callback once. */
  async function deliver(ctx: Ctx, announcement: operations.Announcement): Promise<void> {
    const send = sender(ctx);
    if (!send) return;
    const { kind, reference } = announcement;
    const state = await ctx.state.transaction(async (tx) => {
      const ledger = createLedger(tx, now);
      const entry = kind === 'payment' ? await ledger.payment(reference) : await ledger.refund(reference);
      if (!entry) return undefined;
      const settled = operations.stateOf(kind, await ledger.settle(entry, true));
      await ledger.flush();
      return settled;
    });
    if (!state || state.status === 'not_found') return;
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
    await send(signedCallbackRequest(secretOf(ctx.credentials), callback, { timestamp: callback.created }));
  }

  function schedule(ctx: Ctx, announcement: operations.Announcement): void {
    if (!sender(ctx)) return;
    const timer = setTimeout(() => void deliver(ctx, announcement).catch(() => undefined), settleOf(ctx.credentials));
    // A pending callback must not keep a finished process (or test run) alive.
    (timer as { unref?: () => void }).unref?.();
  }

  /**
   * Runs one operation against the ledger in one state transaction. A simulated timeout
   * means the processor did the work and only the answer was lost: its writes commit,
   * then the timeout surfaces. Callbacks are scheduled only once the writes are durable.
   */
  async function inLedger<T>(ctx: Ctx, run: (deps: operations.Deps) => Promise<T>): Promise<T> {
    await pause(latencyOf(ctx.credentials), ctx.signal);
    const announcements: operations.Announcement[] = [];
    let lostAnswer: ProcessorTimeoutError | undefined;
    const result = await ctx.state.transaction(async (tx) => {
      const ledger = createLedger(tx, now);
      const deps: operations.Deps = { ledger, now, settleMs: settleOf(ctx.credentials), announce: (a) => void announcements.push(a) };
      try {
        const value = await run(deps);
        await ledger.flush();
        return value;
      } catch (error) {
        if (!(error instanceof ProcessorTimeoutError)) throw error;
        await ledger.flush();
        lostAnswer = error;
        return undefined;
      }
    });
    for (const announcement of announcements) schedule(ctx, announcement);
    if (lostAnswer) throw lostAnswer;
    return result as T;
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
    authorize: (input, ctx) => inLedger(ctx, (deps) => operations.authorize(deps, input)),
    capture: (input, ctx) => inLedger(ctx, (deps) => operations.capture(deps, input)),
    cancel: (input, ctx) => inLedger(ctx, (deps) => operations.cancel(deps, input)),
    refund: (input, ctx) => inLedger(ctx, (deps) => operations.refund(deps, input)),
    sync: (input, ctx) => inLedger(ctx, (deps) => operations.sync(deps, input)),
    async parseWebhook(request, ctx) {
      return verifyCallback(secretOf(ctx.credentials), request, now());
    },
  });
}
