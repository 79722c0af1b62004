import { Type, type Static } from '@sinclair/typebox';

const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 UTC.' });

/** API.md "Conventions": at most 50 keys, key <= 40 chars, value <= 500 chars. */
export const METADATA_KEY_MAX = 40;
/** An object with string values (not a TypeBox Record) so a bad value is reported as `metadata.<key>`; key lengths are checked in the service. */
export const Metadata = Type.Object(
  {},
  {
    additionalProperties: Type.String({ maxLength: 500 }),
    maxProperties: 50,
    description: 'String-to-string map: at most 50 keys, keys up to 40 characters, values up to 500.',
  },
);

export const Name = Type.String({ minLength: 1, maxLength: 200 });

export const CreateTenantBody = Type.Object(
  { name: Name, metadata: Type.Optional(Metadata) },
  { additionalProperties: false },
);
export type CreateTenantBody = Static<typeof CreateTenantBody>;

export const CreateClientBody = Type.Object(
  {
    name: Name,
    scopes: Type.Array(Type.String(), { minItems: 1, maxItems: 16, description: 'Tenant scopes only.' }),
  },
  { additionalProperties: false },
);
export type CreateClientBody = Static<typeof CreateClientBody>;

export const Client = Type.Object({
  id: Type.String({ pattern: '^cli_' }),
  object: Type.Literal('client'),
  name: Type.String(),
  scopes: Type.Array(Type.String({ description: 'A scope, e.g. payments:write.' })),
  created_at: Timestamp,
});
export type Client = Static<typeof Client>;

/** A client with its secret: only in the answer to create and rotate_secret. */
export const ClientWithSecret = Type.Composite([Client, Type.Object({ secret: Type.String({ description: 'Shown once; store it now.' }) })]);
export type ClientWithSecret = Static<typeof ClientWithSecret>;

export const Tenant = Type.Object({
  id: Type.String({ pattern: '^ten_' }),
  object: Type.Literal('tenant'),
  name: Type.String(),
  metadata: Type.Record(Type.String(), Type.String()),
  created_at: Timestamp,
});
export type Tenant = Static<typeof Tenant>;

export const TenantWithClient = Type.Composite([Tenant, Type.Object({ client: ClientWithSecret })]);

export const DeletedClient = Type.Object({ id: Type.String(), object: Type.Literal('client'), deleted: Type.Literal(true) });

export function listOf<T extends ReturnType<typeof Type.Object>>(item: T) {
  return Type.Object({ object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean() });
}

/** Query strings arrive as strings; they are declared for the docs and validated in pagination.ts. */
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ description: '1..100, default 10.' })),
    starting_after: Type.Optional(Type.String({ description: 'An object id: the page after (older than) it. An id unknown to this tenant is 404 resource_missing (param starting_after), like an unknown id in a body.' })),
    ending_before: Type.Optional(Type.String({ description: 'An object id: the page just newer than it. Mutually exclusive with starting_after (400 parameter_invalid).' })),
    created_gte: Type.Optional(Type.String({ description: 'RFC 3339, inclusive.' })),
    created_lte: Type.Optional(Type.String({ description: 'RFC 3339, inclusive.' })),
  },
  { additionalProperties: false },
);


import { ErrorEnvelope, type ErrorStatus, errorResponses as kernelErrorResponses, IdParams } from '../../runtime/http/schemas';

export { ErrorEnvelope, IdParams };

/** `response` entries for the listed error statuses plus 500 and 503, all with the one error envelope (runtime/http/schemas.ts). */
export function errorResponses(...statuses: ErrorStatus[]) {
  return kernelErrorResponses(statuses);
}
