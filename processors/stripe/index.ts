import { Value } from '@sinclair/typebox/value';
import { defineProcessor, ProcessorError, WebhookSignatureError, type ProcessorDefinition } from '../sdk/index.ts';
import { errorCode, send, unexpected, type StripeAnswer } from './client.ts';
import { PaymentIntent, PaymentIntentSearchResult, Refund, StripeCredentials, StripeErrorBody, StripeEvent } from './model.ts';
import { SIGNATURE_HEADER, verifyStripeSignature } from './signature.ts';
import * as wire from './transformers.ts';

export { STRIPE_API_VERSION, StripeCredentials } from './model.ts';
export { STRIPE_TEST_CARDS } from './test-cards.ts';
export { SIGNATURE_HEADER, verifyStripeSignature } from './signature.ts';

export const STRIPE_ID = 'stripe';

/** Every currency NimbusPay supports (API.md); Stripe takes them all, in the same minor units. */
const CURRENCIES = ['USD', 'EUR', 'GBP', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF', 'CAD', 'AUD', 'NZD', 'JPY', 'KRW'];

export type StripeOptions = {
  /** Per-call timeout (default 10000 ms); the SDK call wrapper enforces it. */
  timeoutMs?: number;
  /** Clock in ms for webhook timestamp checks; tests move it. */
  now?: () => number;
};

export type StripeDefinition = ProcessorDefinition<typeof STRIPE_ID, typeof StripeCredentials, wire.StripeMethods>;

const pathOf = (base: string, id: string) => `${base}/${encodeURIComponent(id)}`;

/** Stripe refused a state change (capture a canceled intent, cancel a succeeded one): a result, not an error. */
const UNEXPECTED_STATE = 'payment_intent_unexpected_state';

function intentOf(answer: StripeAnswer, operation: string): PaymentIntent {
  if (answer.status !== 200) throw unexpected(answer, operation);
  return wire.read(PaymentIntent, answer.body, 'PaymentIntent');
}

/**
 * The Stripe connector: cards through PaymentIntents, form-encoded over ky, pinned to
 * Stripe-Version 2023-08-16. Credentials come from STRIPE_SECRET_KEY,
 * STRIPE_WEBHOOK_SECRET and STRIPE_BASE_URL. See README.md beside this file.
 */
export function createStripe(options: StripeOptions = {}): StripeDefinition {
  const now = options.now ?? Date.now;

  return defineProcessor({
    id: STRIPE_ID,
    displayName: 'Stripe',
    supports: { methods: ['card', 'card_token'], currencies: CURRENCIES },
    credentials: StripeCredentials,
    env: { secretKey: 'STRIPE_SECRET_KEY', webhookSecret: 'STRIPE_WEBHOOK_SECRET', baseUrl: 'STRIPE_BASE_URL' },
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),

    async authorize(input, ctx) {
      const choice = wire.paymentMethodFor(input.paymentMethod, wire.modeOf(ctx.credentials.secretKey));
      switch (choice.kind) {
        case 'not_a_test_card':
          // Stripe declines live cards in test mode; we do not even send the number.
          return { status: 'declined', code: 'card_declined', declineCode: 'test_mode_live_card', message: 'Only Stripe test cards are accepted in test mode.' };
        case 'card_data_not_accepted':
          throw new ProcessorError('Stripe takes card numbers only from PCI-approved accounts: send a card_token.', { retryable: false, code: choice.kind });
        case 'token_invalid':
          throw new ProcessorError('The card token is not a Stripe PaymentMethod id.', { retryable: false, code: choice.kind });
        case 'send':
          break;
      }
      const answer = await send(ctx.credentials, {
        method: 'POST',
        path: 'v1/payment_intents',
        params: wire.createIntentParams(input, choice.paymentMethod),
        idempotencyKey: input.idempotencyKey,
        signal: ctx.signal,
      });
      if (answer.status === 200) return wire.authorizeResultFrom(wire.read(PaymentIntent, answer.body, 'PaymentIntent'));
      if (answer.status !== 402) throw unexpected(answer, 'authorize');
      const { error } = wire.read(StripeErrorBody, answer.body, 'card error');
      // Stripe's "try again" decline: nothing was charged, another processor may take it.
      if (error.code === 'processing_error') throw new ProcessorError('Stripe could not process the card.', { retryable: true, code: 'processing_error' });
      const decline = wire.declineFrom(error);
      return { status: 'declined', ...(error.payment_intent ? { reference: error.payment_intent.id } : {}), ...decline };
    },

    async capture(input, ctx) {
      const answer = await send(ctx.credentials, {
        method: 'POST',
        path: `${pathOf('v1/payment_intents', input.reference)}/capture`,
        params: wire.captureParams(input),
        idempotencyKey: input.idempotencyKey,
        signal: ctx.signal,
      });
      if (answer.status === 400 && errorCode(answer) === UNEXPECTED_STATE) {
        return { status: 'failed', reference: input.reference, code: UNEXPECTED_STATE, message: 'The PaymentIntent cannot be captured in its state.' };
      }
      const intent = intentOf(answer, 'capture');
      if (intent.status !== 'succeeded') throw new Error(`Stripe answered a capture with status ${intent.status}.`);
      return { status: 'succeeded', reference: intent.id, amountCaptured: intent.amount_received ?? input.amount };
    },

    async cancel(input, ctx) {
      const answer = await send(ctx.credentials, {
        method: 'POST',
        path: `${pathOf('v1/payment_intents', input.reference)}/cancel`,
        params: wire.cancelParams(input),
        idempotencyKey: input.idempotencyKey,
        signal: ctx.signal,
      });
      if (answer.status === 400 && errorCode(answer) === UNEXPECTED_STATE) {
        return { status: 'failed', reference: input.reference, code: UNEXPECTED_STATE, message: 'The PaymentIntent cannot be canceled in its state.' };
      }
      const intent = intentOf(answer, 'cancel');
      if (intent.status !== 'canceled') throw new Error(`Stripe answered a cancel with status ${intent.status}.`);
      return { status: 'canceled', reference: intent.id };
    },

    async refund(input, ctx) {
      const answer = await send(ctx.credentials, {
        method: 'POST',
        path: 'v1/refunds',
        params: wire.refundParams(input),
        idempotencyKey: input.idempotencyKey,
        signal: ctx.signal,
      });
      if (answer.status !== 200) throw unexpected(answer, 'refund');
      return wire.refundResultFrom(wire.read(Refund, answer.body, 'Refund'));
    },

    async sync(input, ctx) {
      if (input.kind === 'refund') {
        // Refunds cannot be searched: unknown by key, the payments layer re-sends the refund
        // under the same key and Stripe answers the original (keys live 24 hours).
        if (!input.reference) return { kind: 'refund', status: 'not_found' };
        const answer = await send(ctx.credentials, { method: 'GET', path: pathOf('v1/refunds', input.reference), signal: ctx.signal });
        if (answer.status === 404) return { kind: 'refund', status: 'not_found' };
        if (answer.status !== 200) throw unexpected(answer, 'sync');
        return { kind: 'refund', reference: input.reference, ...wire.refundState(wire.read(Refund, answer.body, 'Refund')) };
      }
      if (input.reference) {
        const answer = await send(ctx.credentials, { method: 'GET', path: pathOf('v1/payment_intents', input.reference), signal: ctx.signal });
        if (answer.status === 404) return { kind: 'payment', status: 'not_found' };
        return wire.paymentSyncFrom(intentOf(answer, 'sync'));
      }
      // The authorize answer was lost: find the intent by the key we stored in its metadata.
      const answer = await send(ctx.credentials, {
        method: 'GET',
        path: 'v1/payment_intents/search',
        params: { query: wire.searchQueryFor(input.idempotencyKey!), limit: 1 },
        signal: ctx.signal,
      });
      if (answer.status !== 200) throw unexpected(answer, 'sync');
      const [intent] = wire.read(PaymentIntentSearchResult, answer.body, 'search result').data;
      return intent ? wire.paymentSyncFrom(intent) : { kind: 'payment', status: 'not_found' };
    },

    async parseWebhook(request, ctx) {
      const payload = await request.text();
      verifyStripeSignature(payload, request.headers.get(SIGNATURE_HEADER), ctx.credentials.webhookSecret, now());
      let event: unknown;
      try {
        event = JSON.parse(payload);
      } catch {
        throw new WebhookSignatureError('malformed', 'The Stripe event is not JSON.');
      }
      if (!Value.Check(StripeEvent, event)) throw new WebhookSignatureError('malformed', 'The body is not a Stripe event.');
      let mapped;
      try {
        mapped = wire.webhookEventFrom(event);
      } catch {
        throw new WebhookSignatureError('malformed', `The ${event.type} event carries an object the connector cannot read.`);
      }
      if (!mapped) throw new WebhookSignatureError('malformed', `Stripe events of type ${event.type} are not handled; subscribe the endpoint to the documented types only.`);
      return mapped;
    },
  });
}
