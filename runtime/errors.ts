/**
 * One error hierarchy for the whole API. Anything thrown inside a request that is an
 * `ApiError` becomes the API.md error envelope in one place (runtime/http/errors.ts);
 * anything else becomes a 500 `internal_error` with no detail leaked.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'idempotency_error'
  | 'card_error'
  | 'rate_limit_error'
  | 'api_error';

export interface ApiErrorBody {
  type: ErrorType;
  code: string;
  message: string;
  param?: string;
  decline_code?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param?: string;
  readonly declineCode?: string;
  /** Extra response headers (WWW-Authenticate, Retry-After, ...). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    type: ErrorType,
    code: string,
    message: string,
    options: { param?: string; declineCode?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = options.param;
    this.declineCode = options.declineCode;
    this.headers = options.headers ?? {};
  }

  toBody(): ApiErrorBody {
    const body: ApiErrorBody = { type: this.type, code: this.code, message: this.message };
    if (this.param !== undefined) body.param = this.param;
    if (this.declineCode !== undefined) body.decline_code = this.declineCode;
    return body;
  }
}

/** 400 invalid_request_error: the request itself is wrong. */
export function invalidRequest(code: string, message: string, param?: string): ApiError {
  return new ApiError(400, 'invalid_request_error', code, message, { param });
}

export function parameterMissing(param: string, message = `Missing required parameter: ${param}.`): ApiError {
  return invalidRequest('parameter_missing', message, param);
}

export function parameterInvalid(param: string, message: string): ApiError {
  return invalidRequest('parameter_invalid', message, param);
}

export function parameterUnknown(param: string): ApiError {
  return invalidRequest('parameter_unknown', `Received unknown parameter: ${param}.`, param);
}

/** 404 resource_missing: also answered for another tenant's objects, never 403. */
export function resourceMissing(kind: string, id: string, param?: string): ApiError {
  return new ApiError(404, 'invalid_request_error', 'resource_missing', `No such ${kind}: '${id}'.`, { param });
}

/** 409 for an object that exists but is in the wrong state for the action. */
export function unexpectedState(code: string, message: string): ApiError {
  return new ApiError(409, 'invalid_request_error', code, message);
}

export function authenticationError(code: 'token_missing' | 'token_invalid' | 'token_expired', message: string): ApiError {
  const challenge =
    code === 'token_missing' ? 'Bearer realm="nimbuspay"' : 'Bearer realm="nimbuspay", error="invalid_token"';
  return new ApiError(401, 'authentication_error', code, message, { headers: { 'WWW-Authenticate': challenge } });
}

export function scopeMissing(scopes: readonly string[]): ApiError {
  return new ApiError(403, 'permission_error', 'scope_missing', `This request needs the scope ${scopes.join(' or ')}.`);
}

export function internalError(): ApiError {
  return new ApiError(500, 'api_error', 'internal_error', 'An unexpected error occurred. It has been logged.');
}

export function databaseUnavailable(): ApiError {
  return new ApiError(503, 'api_error', 'database_unavailable', 'The database is not reachable. Retry later.', {
    headers: { 'Retry-After': '1' },
  });
}
