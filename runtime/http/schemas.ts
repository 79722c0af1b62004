import { Type } from '@sinclair/typebox';

/** Schemas every route family documents the same way; one definition, imported everywhere. */

/** `:id` path parameter of any object route. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) });

/** The /v1 error envelope (API.md "Errors"), for the documented error responses. */
export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    type: Type.String(),
    code: Type.String(),
    message: Type.String(),
    param: Type.Optional(Type.String()),
    decline_code: Type.Optional(Type.String()),
    request_id: Type.String(),
  }),
});
