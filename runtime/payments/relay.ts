/**
 * Carries the simulator's signed callbacks to `POST /v1/processors/simulator/webhooks`
 * of this process's app, in-process, exactly as an external processor's request would
 * arrive. The registry is built before the app exists, so the app attaches later; a
 * callback sent while nothing is attached is dropped (reconciliation covers it).
 */
export interface CallbackRelay {
  deliver(processorId: string, request: Request): Promise<void>;
  attach(handle: (request: Request) => Promise<Response>): void;
}

export function createCallbackRelay(): CallbackRelay {
  let target: ((request: Request) => Promise<Response>) | undefined;
  return {
    async deliver(_processorId, request) {
      if (!target) return;
      const response = await target(request);
      await response.arrayBuffer().catch(() => undefined);
    },
    attach(handle) {
      target = handle;
    },
  };
}
