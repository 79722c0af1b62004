import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric NimbusPay exports, on one registry per app instance (so two
 * apps in one test process do not collide). Labels are bounded sets: route templates,
 * never raw paths; processor ids; statuses. Amounts and ids are never labels.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client names three gauges `*_total`, which promtool rejects (that suffix is for counters).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }

  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const paymentsTotal = new Counter({
    name: 'nimbus_payments_total',
    help: 'Payments that reached a status, by payment method, processor and status.',
    labelNames: ['method', 'processor', 'status'] as const,
    registers: [registry],
  });

  const refundsTotal = new Counter({
    name: 'nimbus_refunds_total',
    help: 'Refunds that reached a status.',
    labelNames: ['status'] as const,
    registers: [registry],
  });

  const processorRequestDuration = new Histogram({
    name: 'nimbus_processor_request_duration_seconds',
    help: 'Processor call latency by processor, operation and outcome.',
    labelNames: ['processor', 'operation', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const processorErrorsTotal = new Counter({
    name: 'nimbus_processor_errors_total',
    help: 'Processor calls that failed, by processor, operation and kind (timeout, retryable, fatal, circuit_open).',
    labelNames: ['processor', 'operation', 'kind'] as const,
    registers: [registry],
  });

  const circuitOpen = new Gauge({
    name: 'nimbus_processor_circuit_open',
    help: '1 while the circuit breaker of a processor is open, else 0.',
    labelNames: ['processor'] as const,
    registers: [registry],
  });

  const webhookDeliveriesTotal = new Counter({
    name: 'nimbus_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (succeeded, failed, blocked).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const webhookDeliveryDuration = new Histogram({
    name: 'nimbus_webhook_delivery_duration_seconds',
    help: 'Duration of one webhook delivery attempt.',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });

  const webhookQueueDepth = new Gauge({
    name: 'nimbus_webhook_queue_depth',
    help: 'Webhook deliveries waiting to be sent (pending, due or scheduled).',
    registers: [registry],
  });

  const webhookOldestPendingAge = new Gauge({
    name: 'nimbus_webhook_oldest_pending_age_seconds',
    help: 'Age of the oldest due webhook delivery that has not been sent yet.',
    registers: [registry],
  });

  const databaseUp = new Gauge({
    name: 'nimbus_database_up',
    help: '1 when the last readiness check reached the database, else 0.',
    registers: [registry],
  });

  return {
    registry,
    httpRequestDuration,
    paymentsTotal,
    refundsTotal,
    processorRequestDuration,
    processorErrorsTotal,
    circuitOpen,
    webhookDeliveriesTotal,
    webhookDeliveryDuration,
    webhookQueueDepth,
    webhookOldestPendingAge,
    databaseUp,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
