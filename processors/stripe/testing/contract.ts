import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import contract from '../contract/stripe-2023-08-16.json' with { type: 'json' };

/**
 * Stripe's own request and response schemas (vendored by scripts/vendor-stripe-contract.ts),
 * compiled with ajv. Requests are checked as Stripe's server reads them: the form body
 * decoded with `qs` and its strings coerced to the declared types. Responses are checked
 * as they are, without coercion.
 */
export type OperationId = keyof typeof contract.operations;
export type ContractProblem = { where: string; errors: string[] };

// Literal paths first, so `/v1/payment_intents/search` is not read as a PaymentIntent id.
const OPERATION_IDS = (Object.keys(contract.operations) as OperationId[]).sort(
  (a, b) => Number(contract.operations[a].path.includes('{')) - Number(contract.operations[b].path.includes('{')),
);

/**
 * OpenAPI 3.0 `nullable: true` as JSON Schema: ajv only accepts `nullable` beside `type`
 * and never adds `null` to an `enum`, while Stripe also puts it on `anyOf` and on enums.
 */
function withNullAsType(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withNullAsType);
  if (value === null || typeof value !== 'object') return value;
  const { nullable, ...rest } = value as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, child]) => [key, withNullAsType(child)]));
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

/**
 * Stripe's published request schemas close only the top level (`additionalProperties:
 * false`); its servers refuse unknown nested parameters too ("Received unknown
 * parameter: a[b]"). So the request side closes every nested object that lists its
 * properties; maps such as `metadata` (no `properties`) stay open.
 */
function closed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(closed);
  if (value === null || typeof value !== 'object') return value;
  const schema = Object.fromEntries(Object.entries(value).map(([key, child]) => [key, closed(child)]));
  return 'properties' in schema && !('additionalProperties' in schema) ? { ...schema, additionalProperties: false } : schema;
}

const RESPONSE_SCHEMAS = withNullAsType(contract) as object;
const REQUEST_SCHEMAS = withNullAsType({
  ...contract,
  operations: Object.fromEntries(Object.entries(contract.operations).map(([id, operation]) => [id, { ...operation, request: closed(operation.request) }])),
}) as object;

function createAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    // Each of the ~500 component schemas compiled once, unoptimised: compiling the closure of
    // `payment_intent` otherwise costs seconds of CPU per process.
    inlineRefs: false,
    code: { optimize: false },
    coerceTypes: coerce ? 'array' : false,
  });
  addFormats(ajv);
  // Stripe's own formats: timestamps in seconds, and file uploads.
  ajv.addFormat('unix-time', { type: 'number', validate: (value: number) => Number.isInteger(value) && value >= 0 });
  ajv.addFormat('binary', true);
  ajv.addFormat('decimal', /^-?[0-9]+(\.[0-9]+)?$/);
  ajv.addSchema(coerce ? REQUEST_SCHEMAS : RESPONSE_SCHEMAS, 'stripe');
  return ajv;
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 10).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`);
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const requestAjv = lazy(() => createAjv(true));
const responseAjv = lazy(() => createAjv(false));
const compiled = new Map<string, ValidateFunction>();

function validator(ajv: Ajv, pointer: string): ValidateFunction {
  const key = `${ajv === requestAjv() ? 'req' : 'res'}:${pointer}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.getSchema(`stripe#${pointer}`);
    if (!validate) throw new Error(`No schema at ${pointer} in the vendored Stripe contract.`);
    compiled.set(key, validate);
  }
  return validate;
}

export function operationFor(method: string, path: string): { id: OperationId; params: Record<string, string> } | undefined {
  for (const id of OPERATION_IDS) {
    const operation = contract.operations[id];
    if (operation.method !== method.toUpperCase()) continue;
    const names: string[] = [];
    const pattern = new RegExp(`^${operation.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
    const match = pattern.exec(path);
    if (match) return { id, params: Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1]!)])) };
  }
  return undefined;
}

/** Checks a decoded request (body for POST, query for GET) and its path parameters; mutates `params` by coercion. */
export function checkRequest(id: OperationId, params: unknown, pathParams: Record<string, string>): ContractProblem | undefined {
  const errors: string[] = [];
  const body = validator(requestAjv(), `/operations/${id}/request`);
  if (!body(params)) errors.push(...describe(body.errors));
  const path = validator(requestAjv(), `/operations/${id}/pathParameters`);
  if (!path(pathParams)) errors.push(...describe(path.errors).map((error) => `path ${error}`));
  return errors.length > 0 ? { where: `${id} request`, errors } : undefined;
}

/** Checks a response body against the 200 schema or the error (default) schema of the operation. */
export function checkResponse(id: OperationId, status: number, body: unknown): ContractProblem | undefined {
  const which = status === 200 ? '200' : 'default';
  const validate = validator(responseAjv(), `/operations/${id}/responses/${which}`);
  return validate(body) ? undefined : { where: `${id} response ${status}`, errors: describe(validate.errors) };
}

/** Checks a webhook event against Stripe's `event` schema. */
export function checkEvent(event: unknown): ContractProblem | undefined {
  const validate = validator(responseAjv(), '/roots/event');
  return validate(event) ? undefined : { where: 'event', errors: describe(validate.errors) };
}

/** Checks any object against a named component schema (`payment_intent`, `refund`, ...). */
export function checkComponent(name: string, value: unknown): ContractProblem | undefined {
  const validate = validator(responseAjv(), `/components/schemas/${name}`);
  return validate(value) ? undefined : { where: name, errors: describe(validate.errors) };
}

export const STRIPE_API_VERSION = contract.source.apiVersion;

/** Compiles every validator now, so the first request to a test server is not slowed by it. */
export function compileContract(): void {
  for (const id of OPERATION_IDS) {
    validator(requestAjv(), `/operations/${id}/request`);
    validator(requestAjv(), `/operations/${id}/pathParameters`);
    validator(responseAjv(), `/operations/${id}/responses/200`);
    validator(responseAjv(), `/operations/${id}/responses/default`);
  }
  validator(responseAjv(), '/roots/event');
  validator(responseAjv(), '/components/schemas/payment_intent');
  validator(responseAjv(), '/components/schemas/refund');
}
