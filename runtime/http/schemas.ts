import { Type } from '@sinclair/typebox';

/** Schemas every route family documents the same way; one definition, imported everywhere. */

/** `:id` path parameter of any object route. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) });

/** The /v1 error envelope (API.md "Errors"), for the documented error responses. */
export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    type: Type.String({ description: 'invalid_request_error, authentication_error, permission_error, idempotency_error, card_error, rate_limit_error or api_error.' }),
    code: Type.String({
      description:
        'What went wrong, for code to act on. Among others: `body_too_large` (413, bodies over 64 KiB); ' +
        '`body_too_complex` (400, JSON nested more than 32 levels deep or holding more than 10000 values); ' +
        '`parameter_invalid` (400) also for text containing NUL (U+0000) or an unpaired UTF-16 surrogate, which cannot be stored ' +
        '(any other character, control characters included, is stored and returned exactly); ' +
        '`database_unavailable` (503 api_error with Retry-After: the database could not be reached; retry later); ' +
        '`internal_error` (500).',
    }),
    message: Type.String({ description: 'For people; may change at any time.' }),
    param: Type.Optional(Type.String({ description: 'The parameter at fault, as a dotted path: `description`, `metadata.order_id`, `payment_method.card.number`, `rules[0].processors[1]`.' })),
    decline_code: Type.Optional(Type.String()),
    request_id: Type.String(),
  }),
});

/** The statuses a route may document with the error envelope. */
export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503;

/** What each status means across the API (API.md "Errors"); route families may say more. */
export const ERROR_DESCRIPTIONS: Readonly<Record<ErrorStatus, string>> = {
  400: 'Invalid request: parameter_missing, parameter_invalid, parameter_unknown, body_not_json, body_too_complex (or a more specific code; see `param`).',
  401: 'No valid access token: token_missing, token_invalid, token_expired (with WWW-Authenticate).',
  402: 'The card was declined (card_error).',
  403: 'The token lacks the scope (scope_missing).',
  404: 'No such object for this tenant (resource_missing).',
  409: 'The object is in the wrong state, or idempotency_key_in_use: a request with this Idempotency-Key is still running (with Retry-After).',
  413: 'body_too_large: request bodies are limited to 64 KiB.',
  422: 'idempotency_key_reused: this Idempotency-Key was used with another request.',
  429: 'rate_limited (with Retry-After).',
  500: 'internal_error: an unexpected error, logged on the server; the answer holds no detail.',
  503: 'database_unavailable or processor_unavailable: retry later (after Retry-After, when sent).',
};

/** Sent with 503, 429 and 409 idempotency_key_in_use (RFC 9110 section 10.2.3, in seconds). */
export const RetryAfter = Type.Integer({ minimum: 0, description: 'Seconds to wait before retrying.' });

const WITH_RETRY_AFTER: ReadonlySet<number> = new Set([409, 429, 503]);

/** Every route can answer these: 500 internal_error and 503 database_unavailable. */
const SERVER_ERRORS: readonly ErrorStatus[] = [500, 503];

/** One error response of the document: the envelope, the status's description, and Retry-After where it is sent. */
export function errorResponse(status: ErrorStatus, description: string = ERROR_DESCRIPTIONS[status]) {
  return { ...ErrorEnvelope, description, ...(WITH_RETRY_AFTER.has(status) ? { headers: { 'Retry-After': RetryAfter } } : {}) };
}

/**
 * `response` entries for the listed statuses plus 500 and 503, all with the one error
 * envelope. `descriptions` overrides the API-wide wording for a route family.
 */
export function errorResponses(
  statuses: readonly ErrorStatus[],
  descriptions: Partial<Readonly<Record<ErrorStatus, string>>> = {},
): { [status: string]: typeof ErrorEnvelope } {
  const all = [...new Set([...statuses, ...SERVER_ERRORS])];
  return Object.fromEntries(all.map((status) => [status, errorResponse(status, descriptions[status] ?? ERROR_DESCRIPTIONS[status])]));
}

/**
 * The same error response as an OpenAPI response object, for the few routes that write
 * their responses in `detail` (the token endpoint, whose own errors follow RFC 6749 but
 * whose 413 and 5XX come from this kernel).
 */
export function errorResponseObject(status: ErrorStatus, description: string = ERROR_DESCRIPTIONS[status]) {
  return {
    description,
    ...(WITH_RETRY_AFTER.has(status) ? { headers: { 'Retry-After': { schema: RetryAfter } } } : {}),
    content: { 'application/json': { schema: ErrorEnvelope } },
  };
}
