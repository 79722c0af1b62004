import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db';
import { eventResource, type EventType } from '../plugins/events/service';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import type { BackgroundWorker } from '../runtime/server';
import { WEBHOOK_CHANNEL } from './outbox';
import { createOutcomeRecorder } from './outcomes';
import { type AttemptResult, claimDue, type ClaimedDelivery, queueStats, releaseClaims } from './queue';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './schedule';
import { keyringFor, openSecret, SecretUnreadable } from './sealing';
import { type SendOutcome, sendWebhook } from './sender';
import { signedHeaders } from './signing';
import type { Resolver } from './ssrf';

export interface WebhookWorkerDeps {
  database: Database;
  logger: Logger;
  metrics?: Metrics;
}

/** Every knob has the production value as default; tests shrink the timings. */
export interface WebhookWorkerOptions {
  /** NIMBUS_WEBHOOK_ALLOW_PRIVATE: lifts the SSRF guard (and allows http://). */
  allowPrivate: boolean;
  /** Deliveries in flight at once in this worker (default 32: with outcomes group-committed, slots cost little). */
  concurrency?: number;
  /** Deliveries of one endpoint in flight at once, across all workers: a slow receiver cannot take every slot. */
  perEndpoint?: number;
  /** How long a claim is ours; must exceed `timeoutMs`. A crashed worker's claims come back after it. */
  leaseMs?: number;
  /** Polling fallback when no NOTIFY arrives (lost connection, scheduled retries coming due). */
  pollIntervalMs?: number;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How often queue depth and oldest due age are refreshed for /metrics. */
  statsIntervalMs?: number;
  /** On stop, in-flight sends get this long to finish before they are cut and their claims released. */
  drainMs?: number;
  resolve?: Resolver;
  tls?: { ca?: string };
  workerId?: string;
  /** NIMBUS_WEBHOOK_SECRET_KEYS; without it, the development key persisted in the database. */
  secretKeys?: readonly string[];
}

export interface WebhookWorker extends BackgroundWorker {
  readonly workerId: string;
  /** Deliveries currently in flight (for tests and the benchmark). */
  inFlight(): number;
}

function outcomeOf(send: SendOutcome): AttemptResult {
  switch (send.kind) {
    case 'response':
      if (send.status >= 200 && send.status < 300) {
        return { outcome: 'succeeded', responseStatus: send.status, responseBody: send.body, durationMs: send.durationMs };
      }
      return {
        outcome: 'failed',
        responseStatus: send.status,
        responseBody: send.body,
        durationMs: send.durationMs,
        retryAfterMs: send.retryAfterMs,
        gone: send.status === 410,
      };
    case 'network':
    case 'blocked':
      return { outcome: 'failed', error: send.error, durationMs: send.durationMs };
  }
}

/**
 * The delivery loop: claim what is due (up to the free slots), send each claim
 * concurrently, record the outcome, repeat. It wakes on NOTIFY from the outbox, when a
 * slot frees up, and at least every `pollIntervalMs` (scheduled retries and lost
 * notifications are picked up by polling).
 */
export function startWebhookWorker(deps: WebhookWorkerDeps, options: WebhookWorkerOptions): WebhookWorker {
  const { database, logger, metrics } = deps;
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const concurrency = options.concurrency ?? 32;
  const perEndpoint = options.perEndpoint ?? 4;
  const leaseMs = options.leaseMs ?? Math.max(60_000, (options.timeoutMs ?? 15_000) * 4);
  // An attempt must end before its lease does, or a second worker could send it concurrently.
  const timeoutMs = Math.max(100, Math.min(options.timeoutMs ?? 15_000, leaseMs - 1000));
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const log = logger.child({ component: 'webhook-worker', worker_id: workerId });
  // Successes are group-committed (outcomes.ts), with the claim of what fills the slots
  // they free; failures keep their own transaction.
  const outcomes = createOutcomeRecorder(database, workerId, policy, {
    size: (freed) => (stopping ? 0 : Math.max(0, concurrency - inFlight.size + freed)),
    claim: { workerId, leaseMs, perEndpoint },
    launch: (deliveries) => deliveries.forEach(launch),
  });

  const inFlight = new Map<string, { done: Promise<void>; abort: AbortController }>();
  let stopping = false;
  let wakeRequested = false;
  let wakeUp: (() => void) | undefined;

  function wake(): void {
    wakeRequested = true;
    wakeUp?.();
  }

  function sleep(ms: number): Promise<void> {
    if (wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });
  }

  /** The endpoint's secrets in the clear, or why they cannot be had (then nothing is sent: never unsigned, never half-signed). */
  async function signingSecrets(delivery: ClaimedDelivery): Promise<string[] | SecretUnreadable> {
    const ring = await keyringFor(database, options.secretKeys);
    try {
      return delivery.endpoint.secrets.map((stored) => openSecret(ring, delivery.endpointId, stored));
    } catch (error) {
      if (error instanceof SecretUnreadable) return error;
      throw error;
    }
  }

  async function deliver(delivery: ClaimedDelivery, abort: AbortController): Promise<void> {
    let result: AttemptResult;
    let metricOutcome: 'succeeded' | 'failed' | 'blocked' | undefined;
    const secrets = delivery.endpoint.status === 'enabled' ? await signingSecrets(delivery) : [];
    if (delivery.endpoint.status !== 'enabled') {
      result = { outcome: 'failed', error: 'endpoint disabled: not sent', durationMs: 0, final: true };
    } else if (secrets instanceof SecretUnreadable) {
      // A key missing from NIMBUS_WEBHOOK_SECRET_KEYS (or a tampered row): loud in the log and the metrics, retried on schedule.
      log.error({ err: secrets, delivery_id: delivery.id, endpoint_id: delivery.endpointId, key_id: secrets.kid }, 'webhook signing secret unreadable: delivery not sent');
      result = { outcome: 'failed', error: 'not sent: the signing secret could not be decrypted with the configured keys', durationMs: 0, platformFault: true };
      metricOutcome = 'failed';
    } else {
      const body = JSON.stringify(eventResource({ ...delivery.event, type: delivery.event.type as EventType, data: delivery.event.data as never }));
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = signedHeaders(secrets, delivery.event.id, timestamp, body);
      const send = await sendWebhook(delivery.endpoint.url, body, headers, {
        allowPrivate: options.allowPrivate,
        timeoutMs,
        resolve: options.resolve,
        tls: options.tls,
        signal: abort.signal,
      });
      if (abort.signal.aborted) {
        // Cut by shutdown: the outcome is unknown, so give the claim back rather than record a failure.
        await releaseClaims(database, workerId, [delivery.id]).catch(() => {});
        log.info({ delivery_id: delivery.id, event_id: delivery.eventId }, 'webhook delivery interrupted by shutdown, released');
        return;
      }
      result = outcomeOf(send);
      metricOutcome = send.kind === 'blocked' ? 'blocked' : result.outcome;
    }
    const recorded = await outcomes.record(delivery, result);
    if (metricOutcome && metrics) {
      metrics.webhookDeliveriesTotal.inc({ outcome: metricOutcome });
      metrics.webhookDeliveryDuration.observe({ outcome: metricOutcome }, result.durationMs / 1000);
    }
    const line = {
      delivery_id: delivery.id,
      event_id: delivery.eventId,
      event_type: delivery.event.type,
      endpoint_id: delivery.endpointId,
      tenant_id: delivery.tenantId,
      attempt: delivery.attempt,
      outcome: metricOutcome ?? 'skipped',
      response_status: result.responseStatus,
      duration_ms: result.durationMs,
      error: result.outcome === 'failed' ? result.error : undefined,
      retry_at: recorded.retryAt?.toISOString(),
      endpoint_disabled: recorded.endpointDisabled,
      lease_lost: recorded.recorded ? undefined : true,
    };
    if (result.outcome === 'succeeded') log.info(line, 'webhook delivered');
    else log.warn(line, 'webhook delivery failed');
  }

  function launch(delivery: ClaimedDelivery): void {
    const abort = new AbortController();
    const done = deliver(delivery, abort)
      .catch((error: unknown) => {
        // Typically the database went away while recording: the lease runs out and another attempt follows.
        log.error({ err: error, delivery_id: delivery.id }, 'webhook delivery could not be recorded');
      })
      .finally(() => {
        inFlight.delete(delivery.id);
        wake();
      });
    inFlight.set(delivery.id, { done, abort });
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      wakeRequested = false;
      const free = Math.max(0, concurrency - inFlight.size);
      let claimed = 0;
      if (free > 0) {
        try {
          const due = await claimDue(database, { workerId, batch: free, leaseMs, perEndpoint });
          claimed = due.length;
          if (stopping) {
            await releaseClaims(database, workerId, due.map((delivery) => delivery.id));
            break;
          }
          for (const delivery of due) launch(delivery);
        } catch (error) {
          log.error({ err: error }, 'claiming webhook deliveries failed; retrying after the poll interval');
        }
      }
      // A full batch means more may be due: go again as soon as a slot frees.
      if (claimed > 0 && claimed === free) continue;
      await sleep(pollIntervalMs);
    }
  }

  let unlisten: (() => Promise<void>) | undefined;
  database
    .listen(WEBHOOK_CHANNEL, wake)
    .then((stop) => {
      if (stopping) void stop().catch(() => {});
      else unlisten = stop;
    })
    .catch((error: unknown) => log.warn({ err: error }, 'LISTEN failed: webhook worker falls back to polling'));

  async function refreshStats(): Promise<void> {
    if (!metrics) return;
    try {
      const stats = await queueStats(database);
      metrics.webhookQueueDepth.set(stats.depth);
      metrics.webhookOldestPendingAge.set(stats.oldestDueSeconds);
    } catch {
      // The database may be briefly unreachable; the next tick tries again.
    }
  }
  const statsTimer = metrics ? setInterval(() => void refreshStats(), options.statsIntervalMs ?? 5000) : undefined;
  void refreshStats();

  const running = loop();
  log.info({ concurrency, per_endpoint: perEndpoint, lease_ms: leaseMs, poll_ms: pollIntervalMs }, 'webhook worker started');

  return {
    name: 'webhooks',
    workerId,
    inFlight: () => inFlight.size,
    async stop() {
      if (stopping) return running;
      stopping = true;
      if (statsTimer) clearInterval(statsTimer);
      wake();
      await running;
      const pending = [...inFlight.values()];
      const drained = Promise.all(pending.map((entry) => entry.done));
      const cut = new Promise<'cut'>((resolve) => setTimeout(() => resolve('cut'), options.drainMs ?? 8000).unref());
      if ((await Promise.race([drained.then(() => 'drained' as const), cut])) === 'cut') {
        for (const entry of inFlight.values()) entry.abort.abort();
        await drained;
      }
      await unlisten?.().catch(() => {});
      log.info('webhook worker stopped');
    },
  };
}
