/**
 * Load with autocannon (from this process, never from the server's), and the figures a
 * benchmark table shows for it.
 */
// autocannon ships CommonJS without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: Record<string, number>;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
}

export interface LoadFigures {
  name: string;
  connections: number;
  seconds: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  non2xx: number;
}

export interface LoadSpec {
  name: string;
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Headers made afresh for every request (a new Idempotency-Key each time, as an integrator sends). */
  perRequest?: () => Record<string, string>;
}

export async function load(spec: LoadSpec): Promise<LoadFigures> {
  const perRequest = spec.perRequest;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    method: spec.method ?? 'GET',
    headers: spec.headers,
    body: spec.body,
    timeout: 10,
    ...(perRequest
      ? {
          requests: [
            {
              setupRequest: (request: { headers?: Record<string, string> }) => ({ ...request, headers: { ...request.headers, ...perRequest() } }),
            },
          ],
        }
      : {}),
  });
  return {
    name: spec.name,
    connections: spec.connections,
    seconds: spec.seconds,
    requests: result.requests.total,
    perSecond: result['2xx'] / result.duration,
    p50: result.latency.p50 ?? 0,
    p99: result.latency.p99 ?? 0,
    p999: result.latency.p99_9 ?? 0,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A fixed-width table for the terminal. */
export function table(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const cell = (value: string | number) => (typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(1)) : value);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column] ?? '').length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((row) => line(columns.map((c) => cell(row[c] ?? ''))))].join('\n');
}
