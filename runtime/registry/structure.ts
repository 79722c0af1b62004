import { KindGuard, type TSchema, type TUnion } from '@sinclair/typebox';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { invalidRequest, parameterInvalid, parameterMissing, parameterUnknown } from '../errors.ts';

/** `/bank_transfer/iban` under prefix `payment_method` -> `payment_method.bank_transfer.iban`. */
export function paramPath(prefix: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .filter((part) => part !== '')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [prefix, ...parts].filter((part) => part !== '').join('.');
}

/**
 * The literal property every variant of a union carries (`scheme`, `type`), if any. A
 * discriminated union lets us report "which field is wrong" instead of TypeBox's opaque
 * "expected union value".
 */
function discriminatorOf(schema: TUnion): string | undefined {
  const [first, ...rest] = schema.anyOf;
  if (!first || !KindGuard.IsObject(first)) return undefined;
  return Object.keys(first.properties).find((key) =>
    [first, ...rest].every((variant) => KindGuard.IsObject(variant) && KindGuard.IsLiteral(variant.properties[key])),
  );
}

function variantFor(schema: TUnion, key: string, value: unknown): TSchema | undefined {
  return schema.anyOf.find(
    (variant) => KindGuard.IsObject(variant) && (variant.properties[key] as { const?: unknown }).const === value,
  );
}

/**
 * Throws the API.md 400 for the first structural problem of `value` against `schema`.
 * Messages name the field, never the value (which may be a card number).
 */
export function assertStructure(schema: TSchema, value: unknown, prefix: string): void {
  if (KindGuard.IsUnion(schema) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const key = discriminatorOf(schema);
    if (key !== undefined) {
      const tag = (value as Record<string, unknown>)[key];
      if (tag === undefined) throw parameterMissing(`${prefix}.${key}`);
      const variant = variantFor(schema, key, tag);
      if (!variant) throw parameterInvalid(`${prefix}.${key}`, `Invalid value for ${prefix}.${key}.`);
      return assertStructure(variant, value, prefix);
    }
  }
  const error = Value.Errors(schema, value).First();
  if (!error) return;
  const param = paramPath(prefix, error.path);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      throw parameterMissing(param);
    case ValueErrorType.ObjectAdditionalProperties:
      throw parameterUnknown(param);
    default:
      if (error.value === undefined && error.path !== '') throw parameterMissing(param);
      throw invalidRequest('parameter_invalid', `Invalid ${param}: ${error.message}.`, param);
  }
}
