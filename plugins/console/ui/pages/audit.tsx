import { useEffect, useState } from 'preact/hooks';
import { ErrorNotice, Loading, Pager, pageOf, Status } from '../components/common';
import { api, type List, query } from '../lib/api';
import { time } from '../lib/format';
import { href, navigate, parseHash, type Route } from '../lib/router';
import type { AuditEvent } from '../lib/types';
import { useLoad } from '../lib/use-load';
import { useOnChange } from '../lib/use-on-change';

export function AuditPage({ route }: { route: Route }) {
  const [client, setClient] = useState(route.query.client ?? '');
  const [action, setAction] = useState(route.query.action ?? '');
  const [outcome, setOutcome] = useState(route.query.outcome ?? '');
  // The fields follow the applied filters, not every route change: choosing a tenant keeps
  // what was typed but not yet applied (as on the payments page).
  const { client: appliedClient = '', action: appliedAction = '', outcome: appliedOutcome = '' } = route.query;
  useOnChange(JSON.stringify([appliedClient, appliedAction, appliedOutcome]), () => {
    setClient(appliedClient);
    setAction(appliedAction);
    setOutcome(appliedOutcome);
  });
  useEffect(() => {
    document.title = 'Audit · NimbusPay support console';
  }, []);
  const list = useLoad(() => api<List<AuditEvent>>(`/v1/support/audit_events${query({ limit: 25, ...route.query })}`), JSON.stringify(route.query));
  const rows = list.data?.data ?? [];

  function apply(event: Event) {
    event.preventDefault();
    // The tenant from the address as it is now (hashchange is asynchronous).
    navigate('/audit', { tenant: parseHash(location.hash).query.tenant, client: client.trim(), action: action.trim(), outcome });
  }

  return (
    <>
      <h1 tabIndex={-1}>Audit</h1>
      <form class="filters" onSubmit={apply} aria-label="Audit filters">
        <div class="field">
          <label for="a-client">Actor (client id)</label>
          <input id="a-client" value={client} onInput={(e) => setClient(e.currentTarget.value)} placeholder="cli_…" />
        </div>
        <div class="field">
          <label for="a-action">Action</label>
          <input id="a-action" value={action} onInput={(e) => setAction(e.currentTarget.value)} placeholder="event.redeliver" />
        </div>
        <div class="field">
          <label for="a-outcome">Outcome</label>
          <select id="a-outcome" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}>
            <option value="">Any</option>
            <option value="succeeded">succeeded</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div class="actions">
          <button type="submit">Apply filters</button>
          <a href={href('/audit', { tenant: route.query.tenant })}>Clear</a>
        </div>
      </form>
      <ErrorNotice error={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data ? (
        <>
          <table class="data">
            <caption>{rows.length === 0 ? 'Nothing matches these filters.' : 'Who did what, newest first'}</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Tenant</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Outcome</th>
                <th scope="col">Request</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id}>
                  <td class="nowrap">{time(row.created_at)}</td>
                  <td>
                    {row.client ? <a href={href('/audit', { tenant: route.query.tenant, client: row.client })}>{row.client}</a> : '—'}
                  </td>
                  <td>{row.tenant ?? '—'}</td>
                  <td>
                    <code>{row.action}</code>
                  </td>
                  <td>{row.resource?.startsWith('pay_') ? <a href={href(`/payments/${row.resource}`, { tenant: row.tenant ?? undefined })}>{row.resource}</a> : (row.resource ?? '—')}</td>
                  <td>
                    <Status value={row.outcome} /> <span class="muted">{row.status}</span>
                  </td>
                  <td class="muted">{row.request_id}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager path="/audit" query={route.query} page={pageOf(rows, list.data.has_more)} />
        </>
      ) : null}
    </>
  );
}
