/**
 * Small pieces every drill uses: webhook endpoints at the drill's receiver, a list of
 * failed checks that becomes the test's assertion, latency figures.
 */
import type { Cluster } from './cluster';
import { percentile, type Stats } from './client';
import type { DrillReceiver } from './receiver';

/** One endpoint per path, every event type; answers endpoint id -> receiver path. */
export async function createEndpoints(cluster: Cluster, receiver: DrillReceiver, paths: string[]): Promise<Map<string, string>> {
  const endpoints = new Map<string, string>();
  for (const path of paths) {
    const response = await fetch(`${cluster.api[0]!.url}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url(path), enabled_events: ['*'], description: `drill ${path}` }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as { id?: string };
    if (response.status !== 201 || !body.id) throw new Error(`creating a webhook endpoint answered ${response.status}: ${JSON.stringify(body)}`);
    endpoints.set(body.id, path);
  }
  return endpoints;
}

/** Named conditions; the failed ones are the drill's failure message. */
export class Checks {
  readonly failed: string[] = [];
  that(condition: boolean, description: string): void {
    if (!condition) this.failed.push(description);
  }
}

export function latencyRows(stats: Stats): Array<[string, string]> {
  return [['latency p50 / p99', `${percentile(stats.latencies, 50).toFixed(0)} / ${percentile(stats.latencies, 99).toFixed(0)} ms`]];
}

export function fiveHundreds(stats: Stats): string {
  const parts = [...stats.byStatus.entries()].filter(([label]) => /^5\d\d/.test(label) || label === 'network' || label === 'timeout');
  return parts.length ? parts.map(([label, n]) => `${label} x${n}`).join(', ') : 'none';
}

export function runId(drill: string): string {
  return `${drill}-${Date.now().toString(36)}`;
}

/** Answers a drill does not expect at all (a 401, a 422, a 500...), by label. */
export function unexpectedAnswers(stats: Stats, allowed: string[]): string[] {
  const ok = new Set(['200', '201', '409 refund_exceeds_captured', '409 idempotency_key_in_use', 'network', ...allowed]);
  return [...stats.byStatus.entries()].filter(([label]) => !ok.has(label)).map(([label, n]) => `${label} x${n}`);
}
