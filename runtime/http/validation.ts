import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type ApiError, parameterInvalid, parameterMissing, parameterUnknown } from '../errors';

/**
 * Explains why `value` does not match `schema` as one API error with a dotted `param`
 * path (`payment_method.card.number`). TypeBox's own report for a union is one vague
 * "expected union value"; a union discriminated by a literal property (`type`,
 * `scheme`) is instead walked into the variant the client asked for, so the error names
 * the exact field. Checks run in field order: unknown, then missing, then invalid.
 */
export function explain(schema: TSchema, value: unknown, path: string[] = []): ApiError | undefined {
  if (schema.anyOf && Array.isArray(schema.anyOf)) return explainUnion(schema, schema.anyOf as TSchema[], value, path);
  if (schema[Kind] === 'Object' || schema.type === 'object') return explainObject(schema, value, path);
  if (Value.Check(schema, value)) return undefined;
  return invalidLeaf(schema, value, path);
}

function dotted(path: string[]): string {
  return path.join('.');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function explainObject(schema: TSchema, value: unknown, path: string[]): ApiError | undefined {
  if (!isPlainObject(value)) {
    return parameterInvalid(path.length ? dotted(path) : 'body', path.length ? `${dotted(path)} must be an object.` : 'The request body must be a JSON object.');
  }
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const required = new Set<string>((schema.required as string[] | undefined) ?? []);
  if (schema.additionalProperties === false) {
    for (const key of Object.keys(value)) {
      if (!(key in properties)) return parameterUnknown(dotted([...path, key]));
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(value)) {
      if (key in properties) continue;
      const problem = explain(schema.additionalProperties as TSchema, value[key], [...path, key]);
      if (problem) return problem;
    }
  }
  for (const [key, propertySchema] of Object.entries(properties)) {
    if (value[key] === undefined) {
      if (required.has(key)) return parameterMissing(dotted([...path, key]));
      continue;
    }
    const problem = explain(propertySchema, value[key], [...path, key]);
    if (problem) return problem;
  }
  if (!Value.Check(schema, value)) return invalidLeaf(schema, value, path);
  return undefined;
}

/** The property whose literal value tells the variants apart, if there is one. */
function discriminatorOf(variants: TSchema[]): string | undefined {
  const first = variants[0]?.properties as Record<string, TSchema> | undefined;
  if (!first) return undefined;
  return Object.keys(first).find((key) =>
    variants.every((variant) => {
      const property = (variant.properties as Record<string, TSchema> | undefined)?.[key];
      return property !== undefined && property.const !== undefined;
    }),
  );
}

function explainUnion(schema: TSchema, variants: TSchema[], value: unknown, path: string[]): ApiError | undefined {
  if (Value.Check(schema, value)) return undefined;
  const discriminator = discriminatorOf(variants);
  if (discriminator && isPlainObject(value)) {
    const chosen = value[discriminator];
    if (chosen === undefined) return parameterMissing(dotted([...path, discriminator]));
    const variant = variants.find((candidate) => (candidate.properties as Record<string, TSchema>)[discriminator]!.const === chosen);
    if (!variant) {
      const allowed = variants.map((candidate) => (candidate.properties as Record<string, TSchema>)[discriminator]!.const);
      return parameterInvalid(dotted([...path, discriminator]), `${dotted([...path, discriminator])} must be one of: ${allowed.join(', ')}.`);
    }
    return explain(variant, value, path);
  }
  // A union of literals (an enum) or of scalars: one clear message listing what is allowed.
  const literals = variants.map((variant) => variant.const).filter((literal) => literal !== undefined);
  if (literals.length === variants.length) {
    return parameterInvalid(dotted(path), `${dotted(path)} must be one of: ${literals.join(', ')}.`);
  }
  return invalidLeaf(schema, value, path);
}

function invalidLeaf(schema: TSchema, value: unknown, path: string[]): ApiError {
  const name = path.length ? dotted(path) : 'body';
  const first = Value.Errors(schema, value).First();
  const detail = first ? first.message.replace(/^Expected/, 'expected') : 'invalid value';
  const bounds: string[] = [];
  if (typeof schema.minimum === 'number') bounds.push(`>= ${schema.minimum}`);
  if (typeof schema.maximum === 'number') bounds.push(`<= ${schema.maximum}`);
  if (typeof schema.minLength === 'number' && schema.minLength > 0) bounds.push(`at least ${schema.minLength} characters`);
  if (typeof schema.maxLength === 'number') bounds.push(`at most ${schema.maxLength} characters`);
  const suffix = bounds.length ? ` (${bounds.join(', ')})` : '';
  return parameterInvalid(name, `Invalid ${name}: ${detail}${suffix}.`);
}

/**
 * Whether PostgreSQL can store `text` exactly: no NUL (U+0000), which neither `text`
 * nor `jsonb` accepts, and no unpaired UTF-16 surrogate, which has no UTF-8 encoding
 * (a `text` column would silently keep U+FFFD instead, and `jsonb` refuses it).
 * Everything else, other control characters included, is stored and returned as sent.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

function elementPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path || 'body'}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function unstorable(param: string, what: string): ApiError {
  return parameterInvalid(
    param,
    `${what} contains a NUL character (U+0000) or an unpaired UTF-16 surrogate: text must be valid Unicode without NUL.`,
  );
}

/**
 * Refuses, as a 400 naming the field (`description`, `metadata.order_id`,
 * `rules[0].processors[1]`), any string in a request value that the database could not
 * store exactly (see {@link isStorableText}); a bad object key names the object holding
 * it. The value was already bounded by jsonBody (depth and number of values), so the
 * recursion is shallow and the walk short.
 */
export function assertStorableText(value: unknown, path = ''): void {
  if (typeof value === 'string') {
    if (!isStorableText(value)) throw unstorable(path || 'body', path || 'The request body');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((element, index) => assertStorableText(element, elementPath(path, index)));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, element] of Object.entries(value)) {
    if (!isStorableText(key)) throw unstorable(path || 'body', path ? `A key of ${path}` : 'A parameter name');
    assertStorableText(element, elementPath(path, key));
  }
}
