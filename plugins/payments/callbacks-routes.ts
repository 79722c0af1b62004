import { Type } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { RawBody } from '../../runtime/http';
import type { PaymentsPluginDeps } from './index';
import { errorResponses } from './model';

const CallbackAck = Type.Object({
  received: Type.Literal(true),
  outcome: Type.Union(
    [Type.Literal('applied'), Type.Literal('unchanged'), Type.Literal('duplicate'), Type.Literal('unmatched')],
    { description: 'What the callback did: a repeated or out-of-date callback changes nothing and is still acknowledged.' },
  ),
});

/**
 * POST /v1/processors/:processor/webhooks: no bearer token; the connector checks its
 * own signature over the exact bytes received, so the route rebuilds the request from
 * the raw body the HTTP layer read.
 */
export function callbackRoutes(deps: PaymentsPluginDeps) {
  const { callbacks } = deps.service;
  return new Elysia({ name: 'nimbus:payments:callbacks' }).post(
    '/v1/processors/:processor/webhooks',
    async ({ params, request, body }) => {
      const text = body instanceof RawBody ? body.text : typeof body === 'string' ? body : JSON.stringify(body ?? {});
      const copy = new Request(request.url, { method: 'POST', headers: request.headers, body: text });
      const outcome = await callbacks.handle(params.processor, copy);
      return { received: true as const, outcome };
    },
    {
      params: Type.Object({ processor: Type.String({ minLength: 1, maxLength: 40 }) }),
      response: { 200: CallbackAck, ...errorResponses(400, 404, 413) },
      detail: {
        tags: ['Processor callbacks'],
        summary: 'Receive a processor callback',
        operationId: 'receiveProcessorCallback',
        description:
          'Called by processors, not by integrators: authenticated by the processor\'s own signature (400 when missing or wrong, ' +
          'nothing changes). 404 for a processor that is unknown or sends no callbacks. A repeated callback answers 200 and changes nothing.',
        security: [],
      },
    },
  );
}
