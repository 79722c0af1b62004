/** Webhooks: endpoints, the transactional outbox, the delivery worker, signing and the SSRF guard. */
import { definePlugin } from '../runtime/plugin';
import { fanOutEvent } from './outbox';
import { reencryptCommand } from './reencrypt';
import { webhookRoutes } from './routes';
import { webhookTuning } from './tuning';
import { startWebhookWorker, type WebhookWorkerOptions } from './worker';

export { webhookRoutes, type WebhookRoutesDeps } from './routes';
export { startWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from './worker';
export { fanOutEvent, WEBHOOK_CHANNEL } from './outbox';
export { signedHeaders, generateSecret } from './signing';
export { reencryptSecrets, type ReencryptReport } from './reencrypt';
export { blockedReason, checkEndpointUrl, type Resolver } from './ssrf';
export { webhookTuning } from './tuning';

/**
 * The webhooks plugin: endpoint routes, the delivery worker, and the outbox as an event
 * sink (every recorded event queues its deliveries in the same transaction).
 * `overrides` replace the worker's tuning (tests and drills).
 */
export function webhooksPlugin(overrides: Partial<WebhookWorkerOptions> = {}) {
  return definePlugin<Partial<WebhookWorkerOptions>>({
    name: 'webhooks',
    eventSinks: [fanOutEvent],
    commands: { 'reencrypt-webhook-secrets': reencryptCommand },
    // The tuning variables are read when the process is built, so a bad one stops the
    // start at once, before migrations, naming the variable.
    setup: (ctx) => webhookTuning(ctx.env),
    routes: (ctx) => webhookRoutes(ctx),
    workers: (ctx, tuning) => [
      startWebhookWorker(ctx, {
        allowPrivate: ctx.config.webhookAllowPrivate,
        secretKeys: ctx.config.webhookSecretKeys,
        // Leave part of the shutdown grace for recording outcomes and releasing claims.
        drainMs: Math.floor(ctx.config.shutdownGraceMs * 0.8),
        ...tuning,
        ...overrides,
      }),
    ],
  });
}

export const webhooks = webhooksPlugin();
