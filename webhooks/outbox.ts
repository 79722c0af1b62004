import type { Tx } from '../db';
import type { RecordedEvent } from '../runtime/events';

/**
 * Called by recordEvent inside the transaction that writes the event: writes one
 * delivery per matching enabled endpoint, then NOTIFY. (Placeholder until the webhook
 * delivery issue lands; it must stay transactional.)
 */
export async function fanOutEvent(_tx: Tx, _event: RecordedEvent): Promise<void> {}
