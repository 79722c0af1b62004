import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { ErrorNotice, Loading, RawJson, Section, Status } from '../components/common';
import { duration, methodLabel, money, time } from '../lib/format';
import { href } from '../lib/router';
import type { Attempt, Delivery } from '../lib/types';
import { useLoad } from '../lib/use-load';
import { loadPayment, type PaymentDetail, timeline, type TimelineEntry } from './payment-data';

function AttemptText({ attempt }: { attempt: Attempt }) {
  return (
    <>
      <span class="tag">processor</span> {attempt.processor} <code>{attempt.operation}</code>
      {attempt.refund ? <> of {attempt.refund}</> : null} → <Status value={attempt.outcome} />
      {attempt.code ? <code class="code">{attempt.code}</code> : null}
      <span class="muted">
        {' '}
        · {duration(attempt.duration_ms)} · {attempt.attempts} {attempt.attempts === 1 ? 'try' : 'tries'}
      </span>
    </>
  );
}

function DeliveryItem({ delivery }: { delivery: Delivery }) {
  return (
    <li>
      <span class="tag">webhook</span> {delivery.endpoint} attempt {delivery.attempt}: <Status value={delivery.status} />
      {delivery.response_status !== null ? <code class="code">HTTP {delivery.response_status}</code> : null}
      {delivery.error ? <span class="muted"> {delivery.error}</span> : null}
      <span class="muted"> · {time(delivery.created_at)}{delivery.duration_ms !== null ? ` · ${duration(delivery.duration_ms)}` : ''}</span>
    </li>
  );
}

function Entry({ entry, detail }: { entry: TimelineEntry; detail: PaymentDetail }) {
  if (entry.kind === 'attempt') return <AttemptText attempt={entry.attempt} />;
  if (entry.kind === 'refund') {
    const { refund } = entry;
    return (
      <>
        <span class="tag">refund</span> {refund.id} of {money(refund.amount, refund.currency)}: <Status value={refund.status} />
        {refund.failure ? <code class="code">{refund.failure.code}</code> : null}
      </>
    );
  }
  const deliveries = detail.deliveries.get(entry.event.id) ?? [];
  return (
    <>
      <span class="tag">event</span> <code>{entry.event.type}</code> <span class="muted">{entry.event.id}</span>
      {deliveries.length > 0 ? (
        <ul class="deliveries" aria-label={`Webhook deliveries of ${entry.event.id}`}>
          {deliveries.map((delivery) => (
            <DeliveryItem delivery={delivery} key={delivery.id} />
          ))}
        </ul>
      ) : null}
    </>
  );
}

function Summary({ detail }: { detail: PaymentDetail }) {
  const { payment } = detail;
  const rows: Array<[string, ComponentChildren]> = [
    ['Status', <Status value={payment.status} />],
    ['Amount', money(payment.amount, payment.currency)],
    ['Received / refunded', `${money(payment.amount_received, payment.currency)} / ${money(payment.amount_refunded, payment.currency)}`],
    ['Method', methodLabel(payment.payment_method)],
    ['Processor', payment.processor ?? '—'],
    ['Processor reference', payment.processor_reference ?? '—'],
    ['Failure', payment.failure ? `${[payment.failure.code, payment.failure.decline_code].filter(Boolean).join(': ')} (${payment.failure.message})` : '—'],
    ['Tenant', detail.tenant],
    ['Created', time(payment.created_at)],
    ['Description', payment.description ?? '—'],
    ['Metadata', Object.keys(payment.metadata).length ? Object.entries(payment.metadata).map(([k, v]) => `${k}=${v}`).join(', ') : '—'],
  ];
  return (
    <dl class="summary">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function PaymentPage({ id, tenant }: { id: string; tenant?: string }) {
  const detail = useLoad(() => loadPayment(id, tenant), `${id} ${tenant ?? ''}`);
  useEffect(() => {
    document.title = `Payment ${id} · NimbusPay support console`;
  }, [id]);
  const data = detail.data;
  return (
    <>
      <p class="crumbs">
        <a href={href('/payments', { tenant })}>← Payments</a>
      </p>
      <h1 tabIndex={-1}>Payment {id}</h1>
      <ErrorNotice error={detail.error} />
      <Loading when={detail.loading && !data} />
      {data ? (
        <>
          <div class="actions">
            <button type="button" class="secondary" onClick={detail.reload}>
              Refresh
            </button>
          </div>
          <Section title="Summary" id="summary">
            <Summary detail={data} />
            <RawJson value={data.payment} />
          </Section>
          <Section title="Timeline" id="timeline">
            <p class="hint">Events in order, processor attempts with their outcome codes and latency, refunds, and the webhook deliveries of each event.</p>
            <ol class="timeline">
              {timeline(data).map((entry) => (
                <li key={`${entry.kind}-${entry.kind === 'event' ? entry.event.id : entry.kind === 'attempt' ? entry.attempt.id : entry.refund.id}`} class={`entry entry-${entry.kind}`}>
                  <time dateTime={entry.at}>{time(entry.at)}</time>
                  <div>
                    <Entry entry={entry} detail={data} />
                  </div>
                </li>
              ))}
            </ol>
            <RawJson value={{ attempts: data.attempts, refunds: data.refunds, events: data.events }} label="Raw JSON of attempts, refunds and events" />
          </Section>
        </>
      ) : null}
    </>
  );
}
