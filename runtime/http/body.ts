import { ApiError, invalidRequest } from '../errors';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The request body as read off the wire, before anything interprets it. Parsing is
 * deferred so that authentication (401/403) is answered before a malformed body (400),
 * and so processor callbacks can verify signatures over the exact bytes.
 */
export class RawBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

export function bodyTooLarge(): ApiError {
  return new ApiError(413, 'invalid_request_error', 'body_too_large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
}

/** Reads at most MAX_BODY_BYTES, whatever Content-Length claims (chunked bodies included). */
export async function readBody(request: Request): Promise<RawBody> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw bodyTooLarge();
  const contentType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!request.body) return new RawBody('', contentType);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge();
    }
    chunks.push(value);
  }
  return new RawBody(Buffer.concat(chunks).toString('utf8'), contentType);
}

/**
 * Structural limits of a JSON body, checked before anything walks the value. A 40 KB
 * body of 20,000 nested arrays parses in milliseconds, but every recursive walk after
 * it (validation, its error report, fingerprints) costs far more: such bodies are
 * refused first, in time linear in the body's size. No legitimate request comes near
 * either limit (the deepest API field is 4 levels down; the largest body, a tenant's
 * routing, holds under a thousand values).
 */
export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_VALUES = 10_000;

export function bodyTooComplex(): ApiError {
  return invalidRequest(
    'body_too_complex',
    `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels deep and hold at most ${MAX_JSON_VALUES} values.`,
  );
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/**
 * One pass over the raw text, before JSON.parse: the nesting depth, and the number of
 * values (the top-level one plus every array element and object member; keys ride
 * along with their values). Characters inside strings do not count. On malformed text
 * the counts mean little, but JSON.parse refuses such text right after.
 */
export function assertJsonShape(text: string, limits = { depth: MAX_JSON_DEPTH, values: MAX_JSON_VALUES }): void {
  let depth = 0;
  let values = 1;
  let inString = false;
  let justOpened = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
      continue;
    }
    if (code <= 0x20) continue; // whitespace; other control characters are malformed anyway
    if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--;
      justOpened = false;
      continue;
    }
    // Something other than a closing bracket right after an opening one: a first element.
    if (justOpened || code === COMMA) values++;
    justOpened = code === OPEN_ARRAY || code === OPEN_OBJECT;
    if (justOpened && ++depth > limits.depth) throw bodyTooComplex();
    if (code === QUOTE) inString = true;
    if (values > limits.values) throw bodyTooComplex();
  }
}

/** Turns a RawBody into JSON for a /v1 route: empty means `{}`, anything unparsable is body_not_json. */
export function jsonBody(body: unknown): unknown {
  if (!(body instanceof RawBody)) return body ?? {};
  if (body.text.trim() === '') return {};
  if (body.contentType && body.contentType !== 'application/json' && !body.contentType.endsWith('+json')) {
    throw invalidRequest('body_not_json', 'Request bodies must be JSON with Content-Type: application/json.');
  }
  assertJsonShape(body.text);
  try {
    return JSON.parse(body.text);
  } catch {
    throw invalidRequest('body_not_json', 'The request body is not valid JSON.');
  }
}
