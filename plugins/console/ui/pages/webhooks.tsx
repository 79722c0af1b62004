import { useEffect, useState } from 'preact/hooks';
import { ErrorNotice, Loading, Pager, pageOf, Section, Status } from '../components/common';
import { api, ApiError, type List, query } from '../lib/api';
import { duration, percent, time } from '../lib/format';
import { href, type Route } from '../lib/router';
import { isAdmin } from '../lib/session';
import type { Delivery, Endpoint, EndpointHealth } from '../lib/types';
import { useLoad } from '../lib/use-load';

async function loadEndpoints(tenant: string) {
  const endpoints = await api<List<Endpoint>>('/v1/webhook_endpoints?limit=100', { tenant });
  const health = await Promise.all(endpoints.data.map((endpoint) => api<EndpointHealth>(`/v1/webhook_endpoints/${endpoint.id}/health`, { tenant })));
  return endpoints.data.map((endpoint, index) => ({ endpoint, health: health[index]! }));
}

function Endpoints({ tenant, selected }: { tenant: string; selected?: string }) {
  const list = useLoad(() => loadEndpoints(tenant), tenant);
  return (
    <Section title="Endpoints" id="endpoints">
      <ErrorNotice error={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data ? (
        <table class="data">
          <caption>{list.data.length === 0 ? 'This tenant has no webhook endpoint.' : `Health over the last ${list.data[0]!.health.window_hours} hours`}</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Success
              </th>
              <th scope="col" class="num">
                Succeeded / failed
              </th>
              <th scope="col" class="num">
                Pending
              </th>
              <th scope="col">Oldest pending since</th>
              <th scope="col">Disabled reason</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map(({ endpoint, health }) => (
              <tr key={endpoint.id} aria-current={endpoint.id === selected ? 'true' : undefined}>
                <th scope="row">
                  <a href={href('/webhooks', { tenant, endpoint: endpoint.id })}>{endpoint.url}</a>
                  <div class="muted">{endpoint.id}</div>
                </th>
                <td>
                  <Status value={endpoint.status} />
                  {health.failing_since ? <div class="muted">failing since {time(health.failing_since)}</div> : null}
                </td>
                <td class="num">{percent(health.success_ratio)}</td>
                <td class="num">
                  {health.succeeded} / {health.failed}
                </td>
                <td class="num">{health.pending}</td>
                <td>{time(health.oldest_pending_since) || '—'}</td>
                <td>{health.disabled_reason ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

function Redeliver({ delivery, tenant, onQueued }: { delivery: Delivery; tenant: string; onQueued: (message: string) => void }) {
  const [busy, setBusy] = useState(false);
  async function redeliver() {
    setBusy(true);
    try {
      const queued = await api<List<Delivery>>(`/v1/support/events/${delivery.event}/redeliver`, { method: 'POST', tenant, body: { endpoint: delivery.endpoint } });
      onQueued(`Redelivery of ${delivery.event} queued as ${queued.data.map((row) => row.id).join(', ')}.`);
    } catch (error) {
      onQueued(`Redelivery refused: ${error instanceof ApiError ? `${error.status} ${error.code}: ${error.message}` : String(error)}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <button type="button" class="small" disabled={busy} onClick={redeliver} aria-label={`Redeliver ${delivery.event} to ${delivery.endpoint}`}>
      {busy ? 'Queuing…' : 'Redeliver'}
    </button>
  );
}

function Deliveries({ route, tenant, endpoint }: { route: Route; tenant: string; endpoint: string }) {
  const { starting_after, ending_before } = route.query;
  const list = useLoad(
    () => api<List<Delivery>>(`/v1/webhook_endpoints/${endpoint}/deliveries${query({ limit: 20, starting_after, ending_before })}`, { tenant }),
    `${tenant} ${endpoint} ${starting_after ?? ''} ${ending_before ?? ''}`,
  );
  const [message, setMessage] = useState<string>();
  const admin = isAdmin();
  const rows = list.data?.data ?? [];
  return (
    <Section title={`Delivery attempts to ${endpoint}`} id="deliveries">
      <div class="actions">
        <button type="button" class="secondary" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <p class="notice" role="status" hidden={!message}>
        {message}
      </p>
      <ErrorNotice error={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data ? (
        <>
          <table class="data">
            <caption>{rows.length === 0 ? 'No delivery attempt yet.' : 'Newest first'}</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col" class="num">
                  Attempt
                </th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Response
                </th>
                <th scope="col" class="num">
                  Duration
                </th>
                <th scope="col">Answer (first bytes) or error</th>
                {admin ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((delivery) => (
                <tr key={delivery.id}>
                  <td class="nowrap">{time(delivery.created_at)}</td>
                  <td>
                    <code>{delivery.event_type}</code>
                    <div class="muted">{delivery.event}</div>
                  </td>
                  <td class="num">{delivery.attempt}</td>
                  <td>
                    <Status value={delivery.status} />
                    {delivery.next_attempt_at ? <div class="muted">due {time(delivery.next_attempt_at)}</div> : null}
                  </td>
                  <td class="num">{delivery.response_status ?? '—'}</td>
                  <td class="num">{duration(delivery.duration_ms)}</td>
                  <td>
                    {delivery.response_body ? (
                      <details>
                        <summary>{delivery.response_body.length} characters</summary>
                        <pre tabIndex={0}>{delivery.response_body}</pre>
                      </details>
                    ) : (
                      (delivery.error ?? '')
                    )}
                  </td>
                  {admin ? (
                    <td>
                      {delivery.status === 'failed' ? (
                        <Redeliver
                          delivery={delivery}
                          tenant={tenant}
                          onQueued={(text) => {
                            setMessage(text);
                            list.reload();
                          }}
                        />
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
          <Pager path="/webhooks" query={route.query} page={pageOf(rows, list.data.has_more)} />
        </>
      ) : null}
    </Section>
  );
}

export function WebhooksPage({ route }: { route: Route }) {
  const tenant = route.query.tenant;
  const endpoint = route.query.endpoint;
  useEffect(() => {
    document.title = 'Webhooks · NimbusPay support console';
  }, []);
  return (
    <>
      <h1 tabIndex={-1}>Webhooks</h1>
      {!tenant ? (
        <p class="notice">Choose a tenant above to see its webhook endpoints.</p>
      ) : (
        <>
          <Endpoints tenant={tenant} selected={endpoint} />
          {endpoint ? <Deliveries route={route} tenant={tenant} endpoint={endpoint} /> : <p class="hint">Choose an endpoint to see its delivery attempts.</p>}
        </>
      )}
    </>
  );
}
