/**
 * Derives the part of Stripe's published OpenAPI description that the Stripe connector
 * uses and writes it into the project, so tests can check every request the connector
 * sends and every response the Stripe test server answers against Stripe's own schemas
 * (a clone has no ../shared).
 *
 *   bun scripts/vendor-stripe-contract.ts [spec-dir]          write the contract
 *   bun scripts/vendor-stripe-contract.ts --check [spec-dir]  exit 1 if the committed one differs
 *
 * `spec-dir` defaults to ../shared/vendor/stripe-openapi-2023-08-16 (beside the repository).
 *
 * What the derivation does, and nothing else:
 * - keeps the operations listed in OPERATIONS: the form-encoded request body schema (POST)
 *   or an object schema built from the query parameters (GET), the path parameters, and
 *   the 200 and default (error) response schemas;
 * - keeps the `event` schema (webhook payloads) and every component schema reachable by
 *   `$ref` from what it keeps, unchanged except that `description` and `x-*` keys are
 *   dropped (documentation only; they do not take part in validation);
 * - records where it came from (upstream commit, file hash) so the contract can be traced.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

export const API_VERSION = '2023-08-16';

/** The operations the connector calls; ids are ours, method and path are Stripe's. */
export const OPERATIONS = {
  createPaymentIntent: { method: 'post', path: '/v1/payment_intents' },
  retrievePaymentIntent: { method: 'get', path: '/v1/payment_intents/{intent}' },
  capturePaymentIntent: { method: 'post', path: '/v1/payment_intents/{intent}/capture' },
  cancelPaymentIntent: { method: 'post', path: '/v1/payment_intents/{intent}/cancel' },
  searchPaymentIntents: { method: 'get', path: '/v1/payment_intents/search' },
  createRefund: { method: 'post', path: '/v1/refunds' },
  retrieveRefund: { method: 'get', path: '/v1/refunds/{refund}' },
} as const;

const ROOT = resolve(import.meta.dir, '..');
const OUTPUT = join(ROOT, 'processors', 'stripe', 'contract', `stripe-${API_VERSION}.json`);
const DEFAULT_SPEC_DIR = resolve(ROOT, '..', 'shared', 'vendor', `stripe-openapi-${API_VERSION}`);
const UPSTREAM = 'github.com/stripe/openapi@63a674638635c68de26b9f3add13e58198f4df44 openapi/spec3.yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Parameter = { in: string; name: string; required?: boolean; schema: JsonObject };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonObject }> };
  responses: Record<string, { content?: Record<string, { schema: JsonObject }> }>;
};
type Spec = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, JsonObject> } };

/** Keywords whose value maps names to schemas: a property may well be called `description`. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties']);

/** Drops documentation-only keywords, recursively; keeps everything that validates. */
function strip(value: Json): Json {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const kept: JsonObject = {};
  for (const key of Object.keys(value).sort()) {
    if (key === 'description' || key.startsWith('x-')) continue;
    const child = value[key]!;
    kept[key] =
      SCHEMA_MAPS.has(key) && child !== null && typeof child === 'object' && !Array.isArray(child)
        ? Object.fromEntries(Object.keys(child).sort().map((name) => [name, strip(child[name]!)]))
        : strip(child);
  }
  return kept;
}

function refsIn(value: Json, found: Set<string>): void {
  if (Array.isArray(value)) return value.forEach((item) => refsIn(item, found));
  if (value === null || typeof value !== 'object') return;
  const ref = value.$ref;
  if (typeof ref === 'string') {
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
    if (!match) throw new Error(`Unexpected $ref ${ref}`);
    found.add(match[1]!);
  }
  for (const child of Object.values(value)) refsIn(child, found);
}

/** An object schema of the query parameters, so a decoded query string can be validated like a body. */
function querySchema(parameters: Parameter[]): JsonObject {
  const query = parameters.filter((parameter) => parameter.in === 'query');
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(query.map((parameter) => [parameter.name, parameter.schema])),
    required: query.filter((parameter) => parameter.required).map((parameter) => parameter.name),
  };
}

function pathSchema(parameters: Parameter[]): JsonObject {
  const path = parameters.filter((parameter) => parameter.in === 'path');
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(path.map((parameter) => [parameter.name, parameter.schema])),
    required: path.map((parameter) => parameter.name),
  };
}

function responseSchema(operation: Operation, status: string, where: string): JsonObject {
  const schema = operation.responses[status]?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${where}: no application/json response schema for ${status}`);
  return schema;
}

export function deriveContract(specText: string): JsonObject {
  const spec = parse(specText, { maxAliasCount: -1 }) as Spec;
  const operations: JsonObject = {};
  for (const [id, { method, path }] of Object.entries(OPERATIONS)) {
    const operation = spec.paths[path]?.[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the spec`);
    const parameters = operation.parameters ?? [];
    const request =
      method === 'post'
        ? operation.requestBody?.content['application/x-www-form-urlencoded']?.schema
        : querySchema(parameters);
    if (!request) throw new Error(`${id}: no form-encoded request body`);
    operations[id] = strip({
      method: method.toUpperCase(),
      path,
      pathParameters: pathSchema(parameters),
      request,
      responses: { 200: responseSchema(operation, '200', id), default: responseSchema(operation, 'default', id) },
    });
  }
  const roots: JsonObject = { event: { $ref: '#/components/schemas/event' } };

  const wanted = new Set<string>();
  refsIn(operations, wanted);
  refsIn(roots, wanted);
  const schemas: JsonObject = {};
  const queue = [...wanted];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (name in schemas) continue;
    const schema = spec.components.schemas[name];
    if (!schema) throw new Error(`Missing component schema ${name}`);
    schemas[name] = strip(schema);
    const next = new Set<string>();
    refsIn(schemas[name]!, next);
    queue.push(...[...next].filter((child) => !(child in schemas)));
  }
  const sorted = Object.fromEntries(Object.keys(schemas).sort().map((name) => [name, schemas[name]!]));

  return {
    $comment: `Generated by scripts/vendor-stripe-contract.ts from Stripe's published OpenAPI description; do not edit by hand.`,
    source: {
      apiVersion: API_VERSION,
      upstream: UPSTREAM,
      sha256: createHash('sha256').update(specText).digest('hex'),
    },
    operations,
    roots,
    components: { schemas: sorted },
  };
}

export function render(contract: JsonObject): string {
  return `${JSON.stringify(contract, null, 1)}\n`;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const specDir = argv.find((arg) => !arg.startsWith('--')) ?? DEFAULT_SPEC_DIR;
  const specFile = join(specDir, 'spec3.yaml');
  if (!existsSync(specFile)) {
    console.error(`No Stripe OpenAPI description at ${specFile}.`);
    return 2;
  }
  const text = render(deriveContract(readFileSync(specFile, 'utf8')));
  if (check) {
    const committed = existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '';
    if (committed !== text) {
      console.error(`${OUTPUT} differs from what ${specFile} derives: run bun scripts/vendor-stripe-contract.ts.`);
      return 1;
    }
    console.log('The vendored Stripe contract is up to date.');
    return 0;
  }
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, text);
  console.log(`Wrote ${OUTPUT} (${Object.keys(OPERATIONS).length} operations, ${text.length} bytes).`);
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
