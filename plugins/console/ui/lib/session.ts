/**
 * The signed-in session: the access token lives in this module's memory only (never
 * localStorage or a cookie), so closing or reloading the tab signs out, no other script
 * or tab can read it, and it ends when the token expires.
 */

export type Access = 'support' | 'admin';

export interface Session {
  token: string;
  clientId: string;
  scopes: readonly string[];
  expiresAt: number;
}

export type SignOutReason = 'manual' | 'expired' | 'rejected';

let current: Session | undefined;
let lastReason: SignOutReason | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

function changed(): void {
  for (const listener of listeners) listener();
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function session(): Session | undefined {
  return current;
}

/** Why the last session ended, for the sign-in page to say so. */
export function signOutReason(): SignOutReason | undefined {
  return lastReason;
}

export function isAdmin(value: Session | undefined = current): boolean {
  return value?.scopes.includes('platform:admin') ?? false;
}

export function canReadTenants(value: Session | undefined = current): boolean {
  return value?.scopes.includes('platform:support') ?? false;
}

export function signOut(reason: SignOutReason = 'manual'): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (!current) return;
  current = undefined;
  lastReason = reason;
  changed();
}

interface TokenAnswer {
  access_token?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

/** What the sign-in form shows when the token endpoint refuses. */
export class SignInError extends Error {}

/**
 * Client credentials at the same token endpoint every API client uses. Support asks for
 * `platform:support` only, so even an admin's credentials give a read-only session;
 * admin asks for every scope the client holds.
 */
export async function signIn(clientId: string, clientSecret: string, access: Access): Promise<void> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (access === 'support') form.set('scope', 'platform:support');
  const basic = btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`);
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    credentials: 'omit',
    cache: 'no-store',
  });
  const answer = (await response.json().catch(() => ({}))) as TokenAnswer;
  if (!response.ok || !answer.access_token || !answer.expires_in) {
    if (answer.error === 'invalid_client') throw new SignInError('Unknown client or wrong secret.');
    if (answer.error === 'invalid_scope') throw new SignInError('This client holds no platform:support scope.');
    if (response.status === 429) throw new SignInError('Too many failed attempts: wait a minute and try again.');
    throw new SignInError(answer.error_description ?? `Sign-in failed (HTTP ${response.status}).`);
  }
  const scopes = (answer.scope ?? '').split(' ').filter(Boolean);
  if (!scopes.some((scope) => scope.startsWith('platform:'))) {
    throw new SignInError('The console is for platform clients (platform:support or platform:admin), not tenant clients.');
  }
  if (timer !== undefined) clearTimeout(timer);
  current = { token: answer.access_token, clientId, scopes, expiresAt: Date.now() + answer.expires_in * 1000 };
  lastReason = undefined;
  timer = setTimeout(() => signOut('expired'), answer.expires_in * 1000);
  changed();
}
