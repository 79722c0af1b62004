/** Display helpers. Card data is shown as brand and last4 only, whatever the API object holds. */

const ZERO_DECIMAL = new Set(['JPY', 'KRW']);

export function money(amount: number, currency: string): string {
  const exponent = ZERO_DECIMAL.has(currency) ? 0 : 2;
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: exponent }).format(amount / 10 ** exponent);
  } catch {
    return `${(amount / 10 ** exponent).toFixed(exponent)} ${currency}`;
  }
}

/** UTC, to the second: support compares times with logs and processors, which are in UTC. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(ratio === 1 || ratio === 0 ? 0 : 1)}%`;
}

export function age(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

interface MethodView {
  type?: string;
  [key: string]: unknown;
}

/** `Visa •••• 4242`, `SEPA •••• 3000`. */
export function methodLabel(method: MethodView | undefined): string {
  if (!method?.type) return '';
  const details = (method[method.type] ?? {}) as { brand?: string; last4?: string; scheme?: string };
  const name = details.brand ?? details.scheme ?? method.type;
  const label = name.length <= 4 ? name.toUpperCase() : name[0]!.toUpperCase() + name.slice(1);
  return details.last4 ? `${label} •••• ${details.last4}` : label;
}

/** A copy for the raw JSON view: every `card` object reduced to its brand and last4. */
export function redactCards(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactCards);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'card' && typeof inner === 'object' && inner !== null) {
      const card = inner as { brand?: unknown; last4?: unknown };
      out[key] = { brand: card.brand, last4: card.last4 };
    } else out[key] = redactCards(inner);
  }
  return out;
}
