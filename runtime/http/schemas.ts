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
