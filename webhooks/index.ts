/** Webhooks: endpoints, the transactional outbox, the delivery worker, signing and the SSRF guard. */
export { webhookRoutes, type WebhookRoutesDeps } from './routes';
export { startWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from './worker';
export { fanOutEvent, WEBHOOK_CHANNEL } from './outbox';
export { signedHeaders, generateSecret } from './signing';
export { blockedReason, checkEndpointUrl, type Resolver } from './ssrf';
