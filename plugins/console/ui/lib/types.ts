/** The API objects the console shows, as far as it reads them (the OpenAPI document at /docs/json has them all). */

export interface Payment {
  id: string;
  object: 'payment';
  status: string;
  amount: number;
  currency: string;
  capture_method: string;
  amount_capturable: number;
  amount_received: number;
  amount_refunded: number;
  payment_method: { type: string; [key: string]: unknown };
  processor: string | null;
  processor_reference: string | null;
  failure: { code: string; decline_code?: string; message: string } | null;
  description: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  tenant?: string;
}

export interface Refund {
  id: string;
  status: string;
  amount: number;
  currency: string;
  reason: string | null;
  failure: { code: string; message: string } | null;
  created_at: string;
}

export interface NimbusEvent {
  id: string;
  type: string;
  created_at: string;
  data: { object: { id?: string } };
}

export interface Attempt {
  id: string;
  refund: string | null;
  processor: string;
  operation: string;
  kind: 'result' | 'error' | 'unknown';
  outcome: string;
  code: string | null;
  attempts: number;
  duration_ms: number;
  created_at: string;
}

export interface Delivery {
  id: string;
  endpoint: string;
  event: string;
  event_type: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'pending';
  response_status: number | null;
  response_body: string | null;
  error: string | null;
  duration_ms: number | null;
  created_at: string;
  next_attempt_at: string | null;
}

export interface Endpoint {
  id: string;
  url: string;
  enabled_events: string[];
  status: 'enabled' | 'disabled';
  description: string | null;
  created_at: string;
}

export interface EndpointHealth {
  endpoint: string;
  status: string;
  disabled_reason: string | null;
  failing_since: string | null;
  window_hours: number;
  succeeded: number;
  failed: number;
  success_ratio: number | null;
  pending: number;
  oldest_pending_since: string | null;
  next_attempt_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
}

export interface AuditEvent {
  id: string;
  client: string | null;
  tenant: string | null;
  action: string;
  resource: string | null;
  request_id: string;
  outcome: 'succeeded' | 'failed';
  status: number;
  created_at: string;
}

export interface SupportHealth {
  environment: string;
  generated_at: string;
  readiness: { status: 'ok' | 'unavailable'; checks: Record<string, string> };
  webhooks: { queue_depth: number; oldest_pending_age_seconds: number; failing_endpoints: number; disabled_endpoints: number };
  reconciliation: { payments_open: number; payments_due: number; refunds_open: number; refunds_due: number; oldest_open_since: string | null };
  processors: Array<{ id: string; circuit: 'open' | 'closed'; calls: number; errors: number; error_rate: number | null; p95_ms: number | null }>;
  series: {
    step_seconds: number;
    points: Array<{ at: string; processor_calls: number; processor_errors: number; processor_p95_ms: number | null; webhook_succeeded: number; webhook_failed: number }>;
  };
}
