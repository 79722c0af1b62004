import type { PaymentStatus } from '../model';

/**
 * The only transitions API.md allows. Every guarded UPDATE takes its `WHERE status IN`
 * list from here, so the SQL and the contract cannot drift apart.
 */
const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  requires_confirmation: ['processing', 'requires_capture', 'succeeded', 'failed', 'canceled'],
  processing: ['requires_capture', 'succeeded', 'failed'],
  requires_capture: ['succeeded', 'canceled'],
  succeeded: [],
  failed: [],
  canceled: [],
};

/** The statuses a payment may be in to move to `target`. */
export function sourcesOf(target: PaymentStatus): PaymentStatus[] {
  return (Object.keys(TRANSITIONS) as PaymentStatus[]).filter((from) => TRANSITIONS[from].includes(target));
}

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isFinal(status: PaymentStatus): boolean {
  switch (status) {
    case 'succeeded':
    case 'failed':
    case 'canceled':
      return true;
    case 'requires_confirmation':
    case 'processing':
    case 'requires_capture':
      return false;
  }
}

/** The event each status announces on entry (API.md "Events and webhooks"). */
export function eventFor(status: PaymentStatus): `payment.${Exclude<PaymentStatus, 'requires_confirmation'>}` | undefined {
  switch (status) {
    case 'requires_confirmation':
      return undefined;
    case 'processing':
    case 'requires_capture':
    case 'succeeded':
    case 'failed':
    case 'canceled':
      return `payment.${status}`;
  }
}
