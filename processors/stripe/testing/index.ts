/**
 * Test support for the Stripe connector: a stateful Stripe test server answering only
 * what Stripe's published contract allows, a fault proxy, and the contract checks.
 * Used by the connector's tests and the end-to-end suites; never by production code.
 */
export { startStripeTestServer, TEST_SECRET_KEY, TEST_WEBHOOK_SECRET, type StripeTestServer, type RecordedRequest } from './server.ts';
export { startFaultProxy, type FaultProxy, type FaultMode } from './fault-proxy.ts';
export { checkComponent, checkEvent, checkRequest, checkResponse, operationFor, type ContractProblem } from './contract.ts';
export { TEST_PAYMENT_METHODS } from './payment-methods.ts';

/** The connector's credentials for a test server (or a proxy in front of it). */
export function credentialsFor(server: { secretKey: string; webhookSecret: string; url: string }, baseUrl = server.url) {
  return { secretKey: server.secretKey, webhookSecret: server.webhookSecret, baseUrl };
}

/** The environment variables the connector reads, for apps built from the composition root. */
export function envFor(server: { secretKey: string; webhookSecret: string; url: string }, baseUrl = server.url): Record<string, string> {
  return { STRIPE_SECRET_KEY: server.secretKey, STRIPE_WEBHOOK_SECRET: server.webhookSecret, STRIPE_BASE_URL: baseUrl };
}
