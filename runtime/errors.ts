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

/** Node socket errors that mean the database server cannot be reached right now. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** postgres.js's own codes for a connection that could not be opened or was lost. */
const DRIVER_CODES = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED']);
/** SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (class 08 is matched whole). */
const SHUTDOWN_STATES = new Set(['57P01', '57P02', '57P03']);
const CONNECTION_LOST = /connection (terminated|closed|ended|refused|reset)|terminating connection|the database system is (starting up|shutting down)/i;

/**
 * Whether `error` (or anything in its `cause` chain: drizzle wraps driver errors) says
 * the database is unreachable rather than that the query was wrong. Such a request is
 * answered 503 `database_unavailable` with Retry-After; the pool reconnects by itself
 * once the server is back. Everything else stays a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let hops = 0; hops < 8 && current && typeof current === 'object'; hops++) {
    const { code, message, name, cause } = current as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string') {
      if (UNREACHABLE_CODES.has(code) || DRIVER_CODES.has(code) || SHUTDOWN_STATES.has(code)) return true;
      if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    } else if (typeof message === 'string' && name !== 'DrizzleQueryError' && CONNECTION_LOST.test(message)) {
      // Errors without a code (other drivers, wrapped sockets). Never drizzle's own
      // message: it quotes the query's parameters, i.e. client text.
      return true;
    }
    current = cause;
  }
  return false;
}

/** SQLSTATE 22021 (a byte sequence invalid in UTF-8, e.g. NUL) and 22P05 (NUL in jsonb). */
const UNSTORABLE_TEXT_STATES = new Set(['22021', '22P05']);

/**
 * Whether the database refused a text value it cannot store (NUL, an unpaired
 * surrogate). Request input is checked before it gets that far; this is the net for
 * whatever the check did not see, so that such input is still a 400, never a 500.
 */
export function isUnstorableText(error: unknown): boolean {
  let current: unknown = error;
  for (let hops = 0; hops < 8 && current && typeof current === 'object'; hops++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && UNSTORABLE_TEXT_STATES.has(code)) return true;
    current = cause;
  }
  return false;
}
