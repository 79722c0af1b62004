import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConsoleConfig } from '../lib/config';
import { type Access, SignInError, signIn, signOutReason } from '../lib/session';

const REASONS = {
  expired: 'Your session expired: sign in again.',
  rejected: 'The server no longer accepts your token (expired or revoked): sign in again.',
  manual: 'Signed out.',
} as const;

/**
 * Sign-in with a platform client's credentials at POST /oauth/token. The secret stays in
 * the form only until the answer arrives, then the field is emptied.
 */
export function SignIn({ config }: { config: ConsoleConfig }) {
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [access, setAccess] = useState<Access>('support');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const reason = signOutReason();

  useEffect(() => {
    document.title = 'Sign in · NimbusPay support console';
    heading.current?.focus();
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(clientId.trim(), secret, access);
    } catch (failure) {
      setError(failure instanceof SignInError ? failure.message : 'The token endpoint could not be reached.');
    } finally {
      setSecret('');
      setBusy(false);
    }
  }

  return (
    <main id="main" class="sign-in">
      <h1 ref={heading} tabIndex={-1}>
        NimbusPay support console
      </h1>
      <p class="muted">
        {config.environment} · v{config.version}
      </p>
      {reason ? (
        <p class="notice" role="status">
          {REASONS[reason]}
        </p>
      ) : null}
      <form method="post" onSubmit={submit} aria-describedby="sign-in-help">
        <p id="sign-in-help">
          Sign in with a platform client (<code>platform:support</code> to read, <code>platform:admin</code> to redeliver webhooks). The token
          is kept in this tab's memory only and the console signs out when it expires.
        </p>
        <label for="client-id">Client id</label>
        <input id="client-id" name="client_id" autoComplete="username" required value={clientId} onInput={(e) => setClientId(e.currentTarget.value)} />
        <label for="client-secret">Client secret</label>
        <input
          id="client-secret"
          name="client_secret"
          type="password"
          autoComplete="current-password"
          required
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
        <fieldset>
          <legend>Access</legend>
          <label class="choice">
            <input type="radio" name="access" value="support" checked={access === 'support'} onChange={() => setAccess('support')} /> Support (read-only)
          </label>
          <label class="choice">
            <input type="radio" name="access" value="admin" checked={access === 'admin'} onChange={() => setAccess('admin')} /> Admin (every scope of
            the client)
          </label>
        </fieldset>
        {error ? (
          <p class="notice notice-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
