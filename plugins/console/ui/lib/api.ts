import { session, signOut } from './session';

/** The API's error envelope, as thrown by {@link api}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** 128 random bits; getRandomValues, unlike randomUUID, also exists on a plain-http origin. */
function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export interface ApiOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Sent as Nimbus-Tenant: the tenant a platform client reads (or an admin acts for). */
  tenant?: string;
}

export interface List<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

/**
 * One call to this origin's API with the session's bearer token (CSP connect-src 'self'
 * allows nothing else). A 401 means the token is gone (expired, client revoked): the
 * console signs out rather than showing errors on every panel.
 */
export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const current = session();
  if (!current) throw new ApiError(401, 'token_missing', 'Signed out.');
  const headers: Record<string, string> = { authorization: `Bearer ${current.token}`, accept: 'application/json' };
  if (options.tenant) headers['nimbus-tenant'] = options.tenant;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  // A retried click must not queue twice: every write carries its own key.
  if (options.method === 'POST') headers['idempotency-key'] = idempotencyKey();
  const response = await fetch(path, { method: options.method ?? 'GET', headers, body, credentials: 'omit', cache: 'no-store' });
  const answer = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string; request_id?: string } } | undefined;
  if (response.status === 401) signOut('rejected');
  if (!response.ok) {
    const error = answer?.error;
    throw new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`, error?.request_id);
  }
  return answer as T;
}

/** `?a=1&b=2` from the defined entries (empty strings left out). */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
