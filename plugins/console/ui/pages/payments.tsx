import { useEffect, useState } from 'preact/hooks';
import { ErrorNotice, Loading, Pager, pageOf, Status } from '../components/common';
import { api, type List, query } from '../lib/api';
import type { ConsoleConfig } from '../lib/config';
import { methodLabel, money, time } from '../lib/format';
import { href, navigate, parseHash, type Route } from '../lib/router';
import type { Payment } from '../lib/types';
import { useLoad } from '../lib/use-load';
import { useOnChange } from '../lib/use-on-change';

/** The filter fields, as they sit in the URL (`#/payments?status=failed&q=...`). */
const FIELDS = ['status', 'method', 'processor', 'created_gte', 'created_lte', 'amount_gte', 'amount_lte', 'q'] as const;
type Filters = Partial<Record<(typeof FIELDS)[number], string>>;

/** datetime-local (the browser's local time) <-> RFC 3339 UTC for the API. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
function toLocal(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function FilterForm({ route, config }: { route: Route; config: ConsoleConfig }) {
  const fromRoute = (): Filters => Object.fromEntries(FIELDS.map((field) => [field, route.query[field]]));
  const [draft, setDraft] = useState<Filters>(fromRoute);
  // The draft follows the applied filters, not every route change: choosing a tenant
  // (which keeps the applied filters) must not throw away fields typed but not yet applied.
  useOnChange(JSON.stringify(FIELDS.map((field) => route.query[field] ?? '')), () => setDraft(fromRoute()));
  const set = (field: keyof Filters) => (event: Event) => {
    const value = (event.currentTarget as HTMLInputElement).value;
    setDraft((current) => ({ ...current, [field]: value }));
  };

  function apply(event: Event) {
    event.preventDefault();
    // The tenant from the address as it is now: a tenant chosen a moment ago may not have
    // reached this render yet (hashchange is asynchronous).
    navigate('/payments', { tenant: parseHash(location.hash).query.tenant, ...draft });
  }
  const select = (field: 'status' | 'method' | 'processor', label: string, options: string[]) => (
    <div class="field">
      <label for={`f-${field}`}>{label}</label>
      <select id={`f-${field}`} value={draft[field] ?? ''} onChange={set(field)}>
        <option value="">Any</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option.replace(/_/g, ' ')}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form class="filters" onSubmit={apply} aria-label="Payment filters">
      {select('status', 'Status', config.statuses)}
      {select('method', 'Method', config.payment_methods)}
      {select('processor', 'Processor', config.processors)}
      <div class="field">
        <label for="f-from">Created from (local time)</label>
        <input id="f-from" type="datetime-local" value={toLocal(draft.created_gte)} onChange={(e) => { const value = toIso(e.currentTarget.value); setDraft((current) => ({ ...current, created_gte: value })); }} />
      </div>
      <div class="field">
        <label for="f-to">Created to (local time)</label>
        <input id="f-to" type="datetime-local" value={toLocal(draft.created_lte)} onChange={(e) => { const value = toIso(e.currentTarget.value); setDraft((current) => ({ ...current, created_lte: value })); }} />
      </div>
      <div class="field">
        <label for="f-min">Amount from (minor units)</label>
        <input id="f-min" inputMode="numeric" pattern="[0-9]*" value={draft.amount_gte ?? ''} onInput={set('amount_gte')} aria-describedby="amount-help" />
      </div>
      <div class="field">
        <label for="f-max">Amount to (minor units)</label>
        <input id="f-max" inputMode="numeric" pattern="[0-9]*" value={draft.amount_lte ?? ''} onInput={set('amount_lte')} aria-describedby="amount-help" />
      </div>
      <div class="field wide">
        <label for="f-q">Payment id, processor reference or metadata</label>
        <input id="f-q" type="search" value={draft.q ?? ''} onInput={set('q')} placeholder="pay_…, order_id=1234" aria-describedby="q-help" />
      </div>
      <p id="amount-help" class="hint">
        Minor units: 1050 is 10.50 EUR.
      </p>
      <p id="q-help" class="hint">
        A metadata value matches any key; write <code>key=value</code> for one key.
      </p>
      <div class="actions">
        <button type="submit">Apply filters</button>
        <a href={href('/payments', { tenant: route.query.tenant })}>Clear</a>
      </div>
    </form>
  );
}

export function PaymentsPage({ route, config }: { route: Route; config: ConsoleConfig }) {
  const key = JSON.stringify(route.query);
  const list = useLoad(() => api<List<Payment>>(`/v1/support/payments${query({ limit: 25, ...route.query })}`), key);
  useEffect(() => {
    document.title = 'Payments · NimbusPay support console';
  }, []);
  const rows = list.data?.data ?? [];
  return (
    <>
      <h1 tabIndex={-1}>Payments</h1>
      <FilterForm route={route} config={config} />
      <ErrorNotice error={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data ? (
        <>
          <table class="data">
            <caption>
              {rows.length === 0 ? 'No payment matches these filters.' : `Payments, newest first${route.query.tenant ? ` (tenant ${route.query.tenant})` : ', every tenant'}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Payment</th>
                <th scope="col">Tenant</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">Method</th>
                <th scope="col">Processor</th>
                <th scope="col">Failure</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((payment) => (
                <tr key={payment.id}>
                  <td class="nowrap">{time(payment.created_at)}</td>
                  <td>
                    <a href={href(`/payments/${payment.id}`, { tenant: payment.tenant })}>{payment.id}</a>
                  </td>
                  <td>{payment.tenant}</td>
                  <td class="num">{money(payment.amount, payment.currency)}</td>
                  <td>
                    <Status value={payment.status} />
                  </td>
                  <td class="nowrap">{methodLabel(payment.payment_method)}</td>
                  <td>{payment.processor ?? ''}</td>
                  <td>{payment.failure ? [payment.failure.code, payment.failure.decline_code].filter(Boolean).join(': ') : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager path="/payments" query={route.query} page={pageOf(rows, list.data.has_more)} />
        </>
      ) : null}
    </>
  );
}
