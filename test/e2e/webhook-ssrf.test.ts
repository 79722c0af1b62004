import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app';
import { createTenant, type TestTenant } from '../helpers/auth';
import { createEndpoint } from '../../webhooks/service';
import { nextDelayMs, DEFAULT_RETRY_POLICY } from '../../webhooks/schedule';
import { parseRetryAfter, sendWebhook } from '../../webhooks/sender';
import { blockedReason, checkEndpointUrl, type Resolver } from '../../webhooks/ssrf';
import { eventually, startReceiver, writeEvent } from '../../webhooks/test-support';
import { startWebhookWorker } from '../../webhooks/worker';

describe('blockedReason', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['10.255.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.100.100.200', 'carrier-grade NAT'],
    ['0.0.0.0', 'this network'],
    ['168.63.129.16', 'metadata'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'unique-local'],
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:8.8.8.8', 'IPv4-mapped'],
    ['::ffff:7f00:1', 'IPv4-mapped'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
  ])('%s is refused (%s)', (address, reason) => {
    expect(blockedReason(address)).toContain(reason);
  });

  test.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '64:ff9b::808:808'])('%s is public', (address) => {
    expect(blockedReason(address)).toBeUndefined();
  });
});

describe('DNS checks', () => {
  const privateDns: Resolver = async () => [{ address: '10.0.0.7', family: 4 }];
  const mixedDns: Resolver = async () => [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }];

  test('a name resolving to a private address is refused at creation', async () => {
    await expect(checkEndpointUrl('https://internal.example.com/', { allowPrivate: false, resolve: privateDns })).rejects.toThrow('private');
    await expect(checkEndpointUrl('https://mixed.example.com/', { allowPrivate: false, resolve: mixedDns })).rejects.toThrow('loopback');
  });

  test('a name that does not resolve yet is accepted at creation (checked again at delivery)', async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(checkEndpointUrl('https://later.example.com/', { allowPrivate: false, resolve: failing })).resolves.toBeInstanceOf(URL);
  });

  test('the sender connects to the checked address and keeps the Host header of the URL', async () => {
    const receiver = startReceiver();
    try {
      const dns: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const outcome = await sendWebhook(`http://hooks.example.test:${receiver.port}/hook`, '{}', { 'webhook-id': 'evt_1' }, { allowPrivate: true, timeoutMs: 2000, resolve: dns });
      expect(outcome).toMatchObject({ kind: 'response', status: 200 });
      expect(receiver.received[0]!.headers.host).toBe(`hooks.example.test:${receiver.port}`);
      const refused = await sendWebhook(`https://hooks.example.test:${receiver.port}/hook`, '{}', {}, { allowPrivate: false, timeoutMs: 2000, resolve: dns });
      expect(refused.kind).toBe('blocked');
      expect(receiver.received).toHaveLength(1);
    } finally {
      receiver.stop();
    }
  });

  test('a timeout is a network failure within the limit', async () => {
    const receiver = startReceiver();
    receiver.respond = async () => {
      await Bun.sleep(1000);
      return new Response('late');
    };
    try {
      const outcome = await sendWebhook(receiver.url, '{}', {}, { allowPrivate: true, timeoutMs: 150 });
      expect(outcome.kind).toBe('network');
      expect(outcome.kind === 'network' && outcome.error).toContain('timeout');
      expect(outcome.durationMs).toBeLessThan(900);
    } finally {
      receiver.stop();
    }
  });
});

describe('retry schedule', () => {
  test('API.md schedule with +/-20% jitter, then no more attempts', () => {
    const expected = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
    expected.forEach((delay, index) => {
      expect(nextDelayMs(index + 1, DEFAULT_RETRY_POLICY, undefined, () => 0.5)).toBe(delay);
      expect(nextDelayMs(index + 1, DEFAULT_RETRY_POLICY, undefined, () => 0)).toBe(Math.round(delay * 0.8));
      expect(nextDelayMs(index + 1, DEFAULT_RETRY_POLICY, undefined, () => 1)).toBe(Math.round(delay * 1.2));
    });
    expect(nextDelayMs(8, DEFAULT_RETRY_POLICY)).toBeUndefined();
  });

  test('Retry-After is a floor, clamped to 10 h', () => {
    expect(nextDelayMs(1, DEFAULT_RETRY_POLICY, 60_000, () => 0.5)).toBe(60_000);
    expect(nextDelayMs(1, DEFAULT_RETRY_POLICY, 7 * 24 * 3600_000, () => 0.5)).toBe(10 * 3600_000);
    expect(nextDelayMs(3, DEFAULT_RETRY_POLICY, 1000, () => 0.5)).toBe(1_800_000);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThan(28_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('delivery-time SSRF check (database)', () => {
  let t: TestApp;
  let tenant: TestTenant;
  beforeAll(async () => {
    t = await createTestApp({ env: { NIMBUS_WEBHOOK_ALLOW_PRIVATE: 'false' } });
    tenant = await createTenant(t);
  });
  afterAll(() => t.close());

  test('a DNS name that resolves to a private address at delivery is refused and recorded, nothing is sent', async () => {
    const receiver = startReceiver();
    // Public when the endpoint is created, loopback when the worker resolves it (DNS rebinding).
    const atCreation: Resolver = async () => [{ address: '93.184.216.34', family: 4 }];
    const atDelivery: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const endpoint = await createEndpoint(
      t.database,
      tenant.tenantId,
      { url: `https://rebind.example.com:${receiver.port}/hook`, enabled_events: ['*'] },
      { allowPrivate: false, resolve: atCreation },
    );
    const worker = startWebhookWorker(
      { database: t.database, logger: t.logger, metrics: t.metrics },
      { allowPrivate: false, resolve: atDelivery, pollIntervalMs: 50, retry: { delaysMs: [], jitter: 0 } },
    );
    try {
      await writeEvent(t.database, tenant.tenantId);
      const rows = await eventually(async () => {
        const response = await t.request('GET', `/v1/webhook_endpoints/${endpoint.id}/deliveries`, { token: tenant.token });
        const { data } = (await response.json()) as { data: Array<Record<string, any>> };
        return data[0]?.status === 'failed' && data;
      });
      expect(rows[0]!.error).toContain('127.0.0.1');
      expect(rows[0]!.response_status).toBeNull();
      expect(receiver.received).toHaveLength(0);
      expect(await t.metrics.registry.metrics()).toMatch(/nimbus_webhook_deliveries_total\{outcome="blocked"\} 1/);
    } finally {
      await worker.stop();
      receiver.stop();
    }
  });
});
