import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { DEPLOY, PROMTOOL, announceMissing, headingAnchors } from './helpers';

/**
 * deploy/prometheus/alerts.yaml is a PrometheusRule; its spec is a Prometheus rule file.
 * promtool checks it, and its unit tests (alerts.test.yaml) must show every alert firing.
 * The structural checks (runbook links, severities) need no tool.
 */

announceMissing('promtool', PROMTOOL, 'promtool check rules / test rules on deploy/prometheus/alerts.yaml');

const RULES = resolve(DEPLOY, 'prometheus/alerts.yaml');
const UNIT_TESTS = resolve(DEPLOY, 'prometheus/alerts.test.yaml');
const RUNBOOK = resolve(DEPLOY, 'README.md');

const rule = YAML.parse(readFileSync(RULES, 'utf8'), { uniqueKeys: true });
const alerts: { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[] =
  rule.spec.groups.flatMap((group: any) => group.rules);
const unitTests = YAML.parse(readFileSync(UNIT_TESTS, 'utf8'), { uniqueKeys: true });

/** Writes the rule file and the unit tests side by side, as promtool expects them. */
function extractRuleFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-alerts-'));
  writeFileSync(join(dir, 'alerts.rules.yaml'), YAML.stringify(rule.spec));
  copyFileSync(UNIT_TESTS, join(dir, 'alerts.test.yaml'));
  return dir;
}

function promtool(args: string[], cwd: string) {
  const result = spawnSync(PROMTOOL!, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('alert rules', () => {
  test('cover every signal the issue asks for', () => {
    const exprs = alerts.map((a) => a.expr).join('\n');
    for (const metric of [
      'http_request_duration_seconds_count', // 5xx ratio
      'http_request_duration_seconds_bucket', // p99 latency
      'nimbus_processor_errors_total',
      'nimbus_processor_circuit_open',
      'nimbus_webhook_oldest_pending_age_seconds',
      'nimbus_webhook_deliveries_total',
      'kube_deployment_status_replicas_available', // readiness failing
      'nimbus_database_up',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  test('every alert has a severity, a summary and a runbook link to a section that exists', () => {
    const anchors = headingAnchors(readFileSync(RUNBOOK, 'utf8'));
    for (const alert of alerts) {
      expect({ alert: alert.alert, severity: ['critical', 'warning'].includes(alert.labels.severity ?? '') }).toEqual({ alert: alert.alert, severity: true });
      expect(alert.annotations.summary).toBeTruthy();
      const url = alert.annotations.runbook_url;
      expect(url).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/main\/deploy\/README\.md#/);
      if (url === undefined) throw new Error(`alert ${alert.alert} has no runbook_url annotation`);
      const anchor = url.split('#')[1];
      expect({ alert: alert.alert, anchor, exists: anchor !== undefined && anchors.has(anchor) }).toEqual({ alert: alert.alert, anchor, exists: true });
    }
  });

  test('alert names are unique, and every alert is aggregated per environment (namespace)', () => {
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
    for (const alert of alerts) {
      const expr = alert.expr;
      // Either an aggregation keeping `namespace`, or a raw per-target series (up) that carries it.
      expect({ alert: alert.alert, perNamespace: /by \(namespace/.test(expr) || /^up\{/.test(expr.trim()) }).toEqual({
        alert: alert.alert,
        perNamespace: true,
      });
    }
  });

  test('the unit tests make every alert fire at least once', () => {
    const fired = new Set<string>(
      unitTests.tests.flatMap((t: any) =>
        (t.alert_rule_test ?? []).filter((c: any) => (c.exp_alerts ?? []).length > 0).map((c: any) => c.alertname),
      ),
    );
    expect([...fired].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  test.skipIf(!PROMTOOL)('promtool check rules passes', () => {
    const dir = extractRuleFile();
    try {
      const { status, output } = promtool(['check', 'rules', 'alerts.rules.yaml'], dir);
      expect(output).toContain(`SUCCESS: ${alerts.length} rules found`);
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(!PROMTOOL)('promtool test rules: every alert fires on synthetic series, and only where it should', () => {
    const dir = extractRuleFile();
    try {
      const { status, output } = promtool(['test', 'rules', 'alerts.test.yaml'], dir);
      if (status !== 0) console.error(output);
      expect(output).toContain('SUCCESS');
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
