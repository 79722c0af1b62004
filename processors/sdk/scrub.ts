/**
 * Masks anything in free text that looks like a card or account number (a run of 12 or
 * more digits, possibly grouped) or an IBAN. Connector and library error messages are
 * written by others and may echo a request; this keeps them safe to log and return.
 */
export function scrubSensitive(text: string): string {
  return text
    .replace(/\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b/g, '[redacted]')
    .replace(/\d(?:[ -]?\d){11,}/g, '[redacted]')
    .slice(0, 500);
}
