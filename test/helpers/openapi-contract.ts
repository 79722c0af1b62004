import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * The OpenAPI document as a contract every response of the test run is held to
 * (issue 17): integrators generate strict clients from /docs/json, so a response the
 * document does not describe is a production bug for them.
 *
 * For each response: the operation by method and path template, the response object by
 * exact status (else the `4XX`/`5XX` range, else `default`), the media type, then the
 * JSON body against its schema with ajv (OpenAPI 3.0 `nullable` or 3.1 type arrays, as
 * the document declares), and headers the document must declare when they are sent
 * (`Retry-After`). An undocumented status is a violation; so is a body that breaks its
 * schema. The wiring (which apps and sockets are observed, the table at the end of the
 * run) is in ./openapi-observer.ts.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Exchange {
  method: string;
  /** The full request URL (only the path is matched). */
  url: string;
  status: number;
  headers: Headers;
  /** The body text, read for JSON responses only. */
  body?: string;
  /** The test file and line that sent the request, for the report. */
  where?: string;
}

export type ViolationKind = 'status' | 'content-type' | 'body' | 'header';

export interface Violation {
  /** `POST /v1/refunds`: the method and the document's path template. */
  operation: string;
  status: number;
  kind: ViolationKind;
  /** The first schema error with its instance path, or what is undocumented. */
  message: string;
  requestId: string;
  where?: string;
}

/** Headers that the document must declare on a response whenever the server sends them. */
export const HEADERS_TO_DECLARE = ['Retry-After'] as const;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  /** Literal segments win over templated ones (`/v1/events/{id}` vs a literal sibling). */
  literals: number;
  operation: Json;
}

export function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/** OpenAPI 3.0 draft-04 leftovers that draft-07 ajv reads differently (boolean exclusive bounds). */
function normalize30(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(normalize30);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) out[key] = normalize30(value);
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag] && typeof out[bound] === 'number') out[flag] = out[bound], delete out[bound];
      else delete out[flag];
    }
  }
  return out;
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The most specific of ajv's errors (deepest instance path), as one readable line. */
export function describeAjvErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'invalid';
  const depth = (error: ErrorObject) => (error.instancePath.match(/\//g) ?? []).length;
  const best = [...errors].sort((a, b) => depth(b) - depth(a) || (a.keyword === 'anyOf' ? 1 : 0) - (b.keyword === 'anyOf' ? 1 : 0))[0]!;
  const params = best.params as Record<string, unknown>;
  let detail = '';
  if (Array.isArray(params.allowedValues)) detail = ` (${params.allowedValues.map((value) => JSON.stringify(value)).join(', ')})`;
  else if (typeof params.additionalProperty === 'string') detail = ` (${params.additionalProperty})`;
  else if (typeof params.missingProperty === 'string') detail = '';
  return `${best.instancePath || '/'} ${best.message ?? best.keyword}${detail} [schema ${best.schemaPath}]`;
}

/** One document, its operations indexed and its response schemas compiled on first use. */
export class OpenApiContract {
  readonly version: '3.0' | '3.1';
  private readonly routes: Route[] = [];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: Json) {
    const declared = String(document?.openapi ?? '');
    if (!/^3\.[01]\./.test(declared)) throw new Error(`not an OpenAPI 3.0 or 3.1 document (openapi: ${JSON.stringify(declared)})`);
    this.version = declared.startsWith('3.0.') ? '3.0' : '3.1';
    // strict: false because OpenAPI adds annotations ajv does not know (example, xml,
    // externalDocs, x-*); the document's structure is redocly's job (test/e2e/ops.test.ts).
    const options = { strict: false, allErrors: true, validateFormats: true };
    this.ajv = this.version === '3.1' ? new Ajv2020(options) : new Ajv(options);
    addFormats(this.ajv);
    for (const [template, item] of Object.entries<Json>(document.paths ?? {})) {
      const segments = template.split('/');
      const pattern = new RegExp(
        `^${segments.map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`,
      );
      const literals = segments.filter((segment) => !segment.startsWith('{')).length;
      for (const method of HTTP_METHODS) {
        if (item?.[method]) this.routes.push({ method: method.toUpperCase(), template, pattern, literals, operation: item[method] });
      }
    }
    this.routes.sort((a, b) => b.literals - a.literals);
  }

  /** The operation serving `method pathname`, if the document has one. */
  route(method: string, pathname: string): Route | undefined {
    const upper = method.toUpperCase();
    return this.routes.find((route) => route.method === upper && route.pattern.test(pathname));
  }

  /** The response object for a status: exact, else its range (`4XX`), else `default`. */
  static responseFor(operation: Json, status: number): { key: string; response: Json } | undefined {
    const responses: Record<string, Json> = operation?.responses ?? {};
    const range = `${Math.floor(status / 100)}XX`;
    for (const key of [String(status), range, range.toLowerCase(), 'default']) {
      if (responses[key]) return { key, response: responses[key] };
    }
    return undefined;
  }

  /** Every way `exchange` breaks the document; `undefined` when no operation matches its path and method. */
  check(exchange: Exchange): Violation[] | undefined {
    const pathname = new URL(exchange.url).pathname;
    const route = this.route(exchange.method, pathname);
    if (!route) return undefined;
    const operation = `${route.method} ${route.template}`;
    const requestId = exchange.headers.get('x-request-id') ?? '-';
    const violation = (kind: ViolationKind, message: string): Violation => ({ operation, status: exchange.status, kind, message, requestId, where: exchange.where });
    const found = OpenApiContract.responseFor(route.operation, exchange.status);
    if (!found) {
      const documented = Object.keys(route.operation.responses ?? {}).join(', ') || 'none';
      return [violation('status', `status ${exchange.status} is not documented (documented: ${documented})`)];
    }
    const violations: Violation[] = [];
    const response = found.response;
    for (const name of HEADERS_TO_DECLARE) {
      const declared = Object.keys(response.headers ?? {}).some((key) => key.toLowerCase() === name.toLowerCase());
      if (exchange.headers.has(name) && !declared) violations.push(violation('header', `sends ${name} but response ${found.key} does not declare it`));
    }
    const mediaType = mediaTypeOf(exchange.headers.get('content-type'));
    const content: Record<string, Json> = response.content ?? {};
    const hasBody = exchange.body !== undefined ? exchange.body.length > 0 : mediaType !== '';
    if (!hasBody) return violations;
    if (Object.keys(content).length === 0) {
      violations.push(violation('content-type', `answers ${mediaType || 'a body'} but response ${found.key} documents no content`));
      return violations;
    }
    const key = [mediaType, `${mediaType.split('/')[0]}/*`, '*/*'].find((candidate) => content[candidate]);
    if (!key) {
      violations.push(violation('content-type', `answers ${mediaType || 'an untyped body'}, response ${found.key} documents ${Object.keys(content).join(', ')}`));
      return violations;
    }
    const schema = content[key]?.schema;
    if (!schema || !isJsonMediaType(mediaType) || exchange.body === undefined) return violations;
    let value: unknown;
    try {
      value = JSON.parse(exchange.body);
    } catch {
      violations.push(violation('body', `answers ${mediaType} that is not JSON`));
      return violations;
    }
    const pointer = `#/paths/${escapePointer(route.template)}/${route.method.toLowerCase()}/responses/${escapePointer(found.key)}/content/${escapePointer(key)}/schema`;
    const validate = this.validatorFor(pointer, schema);
    if (!validate(value)) violations.push(violation('body', describeAjvErrors(validate.errors)));
    return violations;
  }

  private validatorFor(pointer: string, schema: Json): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      const body = this.version === '3.0' ? normalize30(schema) : schema;
      // `components` rides along so that `#/components/schemas/...` references resolve.
      validate = this.ajv.compile({ ...body, components: this.document.components ?? {} });
      this.validators.set(pointer, validate);
    }
    return validate;
  }
}

/** Contracts by document text: apps that serve the same document share compiled schemas. */
const contracts = new Map<string, OpenApiContract>();

export function contractFor(documentText: string): OpenApiContract {
  let contract = contracts.get(documentText);
  if (!contract) {
    contract = new OpenApiContract(JSON.parse(documentText));
    contracts.set(documentText, contract);
  }
  return contract;
}

/** Groups violations by operation and status, as the table at the end of a run shows them. */
export function violationTable(violations: readonly Violation[]): string {
  const groups = new Map<string, { first: Violation; count: number; kinds: Set<string> }>();
  for (const violation of violations) {
    const key = `${violation.operation}\u0000${violation.status}`;
    const group = groups.get(key);
    if (group) {
      group.count++;
      group.kinds.add(violation.message);
    } else groups.set(key, { first: violation, count: 1, kinds: new Set([violation.message]) });
  }
  const rows = [...groups.values()]
    .sort((a, b) => a.first.operation.localeCompare(b.first.operation) || a.first.status - b.first.status)
    .map(({ first, count, kinds }) => [
      first.operation,
      String(first.status),
      String(count),
      `${first.kind}: ${first.message}${kinds.size > 1 ? ` (+${kinds.size - 1} other error${kinds.size > 2 ? 's' : ''})` : ''}`,
      first.requestId,
      first.where ?? '-',
    ]);
  const header = ['operation', 'status', 'count', 'first error', 'request id', 'first seen at'];
  const cell = (text: string) => text.replaceAll('|', '\\|');
  return [header, header.map(() => '---'), ...rows].map((row) => `| ${row.map(cell).join(' | ')} |`).join('\n');
}
