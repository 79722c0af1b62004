import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { api, type List } from '../lib/api';
import type { Tenant } from '../lib/config';
import { time } from '../lib/format';
import { href, navigate, type Route } from '../lib/router';
import { canReadTenants, isAdmin, type Session, signOut } from '../lib/session';
import { useLoad } from '../lib/use-load';

const SECTIONS = [
  { path: '/payments', label: 'Payments' },
  { path: '/webhooks', label: 'Webhooks' },
  { path: '/health', label: 'Health' },
  { path: '/audit', label: 'Audit' },
] as const;

/** Tenants for the picker: the first 100 (GET /v1/tenants allows both platform scopes). */
export function useTenants(session: Session) {
  return useLoad(() => api<List<Tenant>>('/v1/tenants?limit=100'), session.token);
}

function TenantPicker({ route, tenants, required }: { route: Route; tenants: Tenant[]; required: boolean }) {
  const selected = route.query.tenant ?? '';
  function choose(event: Event) {
    const tenant = (event.currentTarget as HTMLSelectElement).value;
    // A new tenant starts a new list: cursors and the chosen endpoint belong to the old one.
    const { starting_after: _after, ending_before: _before, endpoint: _endpoint, ...rest } = route.query;
    const base = route.segments[0] === 'payments' && route.segments.length > 1 ? '/payments' : route.path;
    navigate(base, { ...rest, tenant: tenant || undefined });
  }
  return (
    <div class="tenant-picker">
      <label for="tenant">Tenant</label>
      <select id="tenant" value={selected} onChange={choose}>
        <option value="">{required ? 'Choose a tenant…' : 'All tenants'}</option>
        {tenants.map((tenant) => (
          <option value={tenant.id} key={tenant.id}>
            {tenant.name} ({tenant.id})
          </option>
        ))}
      </select>
    </div>
  );
}

export function Layout({ route, session, children }: { route: Route; session: Session; children: ComponentChildren }) {
  const tenants = useTenants(session);
  const main = useRef<HTMLElement>(null);
  const section = `/${route.segments[0] ?? 'payments'}`;

  // A new view moves focus to its heading, so a screen reader announces where it landed.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.path]);

  const role = isAdmin(session) ? (canReadTenants(session) ? 'Admin' : 'Admin (no tenant reads)') : 'Support (read-only)';
  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <p class="brand">NimbusPay support</p>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((item) => (
              <li key={item.path}>
                <a href={href(item.path, route.query.tenant ? { tenant: route.query.tenant } : {})} aria-current={section === item.path ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {section !== '/health' ? <TenantPicker route={route} tenants={tenants.data?.data ?? []} required={section === '/webhooks'} /> : null}
        <div class="who">
          <span>
            {session.clientId} · <strong>{role}</strong>
          </span>
          <span class="muted">session ends {time(new Date(session.expiresAt).toISOString())}</span>
          <button type="button" class="secondary" onClick={() => signOut('manual')}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
