import type { TSchema } from '@sinclair/typebox';
import { ApiError, internalError, invalidRequest, parameterInvalid } from '../errors';
import type { Logger } from '../logger';
import { explain } from './validation';

/** The only place an error becomes an HTTP response (API.md "Errors"). */
export function errorResponse(error: ApiError, requestId: string): Response {
  const headers = new Headers({ 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers });
  return new Response(JSON.stringify({ error: { ...error.toBody(), request_id: requestId } }), {
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

/**
 * Maps anything thrown during a request to an ApiError. Unknown errors are logged in
 * full server-side and answered as a bare 500: no stack, no SQL, no driver message.
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
      logger.error({ err: error, code }, 'unhandled error');
      return internalError();
  }
}
