import { useEffect } from 'preact/hooks';
import { ErrorNotice, Loading, Section, Status } from '../components/common';
import { api } from '../lib/api';
import { age, percent, time } from '../lib/format';
import type { SupportHealth } from '../lib/types';
import { useLoad } from '../lib/use-load';
import { HourChart } from './chart';

/** Refreshes while the page is open: it is the page people leave on a screen during an incident. */
const REFRESH_MS = 30_000;

function Figure({ label, value, hint }: { label: string; value: string | number; hint?: string }) {
  return (
    <div class="figure">
      <dt>{label}</dt>
      <dd>
        {value}
        {hint ? <span class="muted"> {hint}</span> : null}
      </dd>
    </div>
  );
}

export function HealthPage() {
  const health = useLoad(() => api<SupportHealth>('/v1/support/health'), 'health');
  useEffect(() => {
    document.title = 'Health · NimbusPay support console';
    const timer = setInterval(health.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const data = health.data;
  const active = data?.series.points.some((point) => point.processor_calls + point.webhook_succeeded + point.webhook_failed > 0);
  return (
    <>
      <h1 tabIndex={-1}>Health</h1>
      <ErrorNotice error={health.error} />
      <Loading when={health.loading && !data} />
      {data ? (
        <>
          <p class="muted">
            As of {time(data.generated_at)}, refreshed every {REFRESH_MS / 1000} s.{' '}
            <button type="button" class="secondary small" onClick={health.reload}>
              Refresh now
            </button>
          </p>
          <div class="cards">
            <Section title="Readiness" id="readiness">
              <dl class="figures">
                <Figure label="Status" value={data.readiness.status} />
                {Object.entries(data.readiness.checks).map(([check, value]) => (
                  <Figure key={check} label={check} value={value} />
                ))}
              </dl>
            </Section>
            <Section title="Webhook queue" id="queue">
              <dl class="figures">
                <Figure label="Queue depth" value={data.webhooks.queue_depth} />
                <Figure label="Oldest pending delivery" value={age(data.webhooks.oldest_pending_age_seconds)} />
                <Figure label="Failing endpoints" value={data.webhooks.failing_endpoints} />
                <Figure label="Disabled by the platform" value={data.webhooks.disabled_endpoints} />
              </dl>
            </Section>
            <Section title="Reconciliation backlog" id="reconciliation">
              <dl class="figures">
                <Figure label="Payments open" value={data.reconciliation.payments_open} hint={`(${data.reconciliation.payments_due} due)`} />
                <Figure label="Refunds open" value={data.reconciliation.refunds_open} hint={`(${data.reconciliation.refunds_due} due)`} />
                <Figure label="Oldest open since" value={time(data.reconciliation.oldest_open_since) || '—'} />
              </dl>
            </Section>
          </div>
          <Section title="Processors (last hour)" id="processors">
            <table class="data">
              <caption>Circuit breaker as seen by the replica that answered; calls from every replica.</caption>
              <thead>
                <tr>
                  <th scope="col">Processor</th>
                  <th scope="col">Circuit</th>
                  <th scope="col" class="num">
                    Calls
                  </th>
                  <th scope="col" class="num">
                    Errors
                  </th>
                  <th scope="col" class="num">
                    Error rate
                  </th>
                  <th scope="col" class="num">
                    p95 latency
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.processors.map((processor) => (
                  <tr key={processor.id}>
                    <th scope="row">{processor.id}</th>
                    <td>
                      <Status value={processor.circuit} />
                    </td>
                    <td class="num">{processor.calls}</td>
                    <td class="num">{processor.errors}</td>
                    <td class="num">{percent(processor.error_rate)}</td>
                    <td class="num">{processor.p95_ms === null ? '—' : `${Math.round(processor.p95_ms)} ms`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          <Section title="Last hour" id="last-hour">
            {active ? <HourChart points={data.series.points} /> : <p class="muted">No processor call and no webhook attempt in the last hour.</p>}
          </Section>
        </>
      ) : null}
    </>
  );
}
