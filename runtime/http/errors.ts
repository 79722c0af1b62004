import type { TSchema } from '@sinclair/typebox';
import { ApiError, databaseUnavailable, internalError, invalidRequest, isDatabaseUnavailable, isUnstorableText, parameterInvalid } from '../errors';
import type { Logger } from '../logger';
import { explain } from './validation';

/** The envelope's text: what `errorResponse` sends (a service storing its answer for replay writes exactly this). */
export function errorBody(error: ApiError, requestId: string): string {
  return JSON.stringify({ error: { ...error.toBody(), request_id: requestId } });
}

/** The only place an error becomes an HTTP response (API.md "Errors"). */
export function errorResponse(error: ApiError, requestId: string): Response {
  const headers = new Headers({ 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers });
  return new Response(errorBody(error, requestId), {
    status: error.status,
    headers,
  });
}

interface ElysiaValidationError {
  type: string;
  value: unknown;
  validator?: unknown;
  valueError?: { path: string; message: string };
}

function schemaOf(validator: unknown): TSchema | undefined {
  if (!validator || typeof validator !== 'object') return undefined;
  const candidate = (validator as { schema?: TSchema }).schema ?? (validator as TSchema);
  return typeof candidate === 'object' ? candidate : undefined;
}

/** Turns Elysia's validation failure into the API.md error with the exact `param`. */
function fromValidation(error: ElysiaValidationError): ApiError {
  const schema = schemaOf(error.validator);
  const explained = schema ? explain(schema, error.value) : undefined;
  if (explained) return explained;
  const path = (error.valueError?.path ?? '').replace(/^\//, '').replaceAll('/', '.');
  return parameterInvalid(path || error.type, error.valueError?.message ?? `Invalid ${error.type}.`);
}

/** The driver's own words for an outage (a code, a short message), never the query or its parameters. */
function outageSummary(error: unknown): { code?: string; reason?: string } {
  let current: unknown = error;
  for (let hops = 0; hops < 8 && (current as { cause?: unknown } | null)?.cause; hops++) current = (current as { cause: unknown }).cause;
  const { code, message } = (current ?? {}) as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : undefined, reason: typeof message === 'string' ? message.slice(0, 200) : undefined };
}

/**
 * Maps anything thrown during a request to an ApiError. A database that cannot be
 * reached is a 503 (retry later), not a bug; text the database refused to store is the
 * client's 400. Unknown errors are logged in full server-side and answered as a bare
 * 500: no stack, no SQL, no driver message.
 */
export function toApiError(code: string | number, error: unknown, request: Request, logger: Logger): ApiError {
  if (error instanceof ApiError) return error;
  // Elysia wraps whatever a parse hook throws (our 413) in a ParseError; unwrap it.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof ApiError) return cause;
  switch (code) {
    case 'VALIDATION':
      return fromValidation(error as ElysiaValidationError);
    case 'NOT_FOUND': {
      const url = new URL(request.url);
      return new ApiError(404, 'invalid_request_error', 'resource_missing', `Unrecognized request URL (${request.method}: ${url.pathname}).`);
    }
    case 'PARSE':
      return invalidRequest('body_not_json', 'The request body could not be parsed.');
    case 'INVALID_COOKIE_SIGNATURE':
      return invalidRequest('parameter_invalid', 'Invalid cookie.');
    default:
      if (isDatabaseUnavailable(error)) {
        logger.warn({ database: outageSummary(error) }, 'database unavailable');
        return databaseUnavailable();
      }
      if (isUnstorableText(error)) {
        // The kernel's check (assertStorableText) should have caught it with a param: worth a look.
        logger.warn({ route: new URL(request.url).pathname }, 'the database refused unstorable text the request checks missed');
        return invalidRequest('parameter_invalid', 'The request contains a NUL character (U+0000) or an unpaired UTF-16 surrogate: text must be valid Unicode without NUL.');
      }
      logger.error({ err: error, code }, 'unhandled error');
      return internalError();
  }
}
