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

/** Turns a RawBody into JSON for a /v1 route: empty means `{}`, anything unparsable is body_not_json. */
export function jsonBody(body: unknown): unknown {
  if (!(body instanceof RawBody)) return body ?? {};
  if (body.text.trim() === '') return {};
  if (body.contentType && body.contentType !== 'application/json' && !body.contentType.endsWith('+json')) {
    throw invalidRequest('body_not_json', 'Request bodies must be JSON with Content-Type: application/json.');
  }
  try {
    return JSON.parse(body.text);
  } catch {
    throw invalidRequest('body_not_json', 'The request body is not valid JSON.');
  }
}
