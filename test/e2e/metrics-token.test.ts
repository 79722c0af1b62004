import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test';
import * as crypto from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/app';

/**
 * Issue 11, point 17: NIMBUS_METRICS_TOKEN is compared in constant time. Timing itself
 * is not asserted (a shared machine is too noisy); what is asserted is that every
 * comparison goes through crypto.timingSafeEqual over equal-length digests, so no input
 * (a prefix of the token, another length) can take a shortcut, and that only the exact
 * token opens /metrics.
 */

const TOKEN = 'scrape-secret-0123456789';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { NIMBUS_METRICS_TOKEN: TOKEN } });
}, 120_000);
afterAll(() => t.close());

const scrape = (authorization?: string) => t.request('GET', '/metrics', { headers: authorization === undefined ? {} : { authorization } });

describe('metrics bearer token', () => {
  test('the right token works; missing, wrong, prefixed, extended or differently cased ones are 401', async () => {
    expect((await scrape(`Bearer ${TOKEN}`)).status).toBe(200);
    const refused = [undefined, '', 'Bearer', 'Bearer ', 'Bearer wrong', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN.slice(0, 1)}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.toUpperCase()}`, TOKEN, `Basic ${TOKEN}`];
    for (const authorization of refused) {
      const response = await scrape(authorization);
      expect({ authorization, status: response.status }).toEqual({ authorization, status: 401 });
      const body = (await response.json()) as { error: { code: string } };
      expect(body.error.code).toBe('token_invalid');
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    }
  });

  test('every comparison, right or wrong, is a timingSafeEqual over two digests of one length', async () => {
    const spy = spyOn(crypto, 'timingSafeEqual');
    try {
      for (const authorization of [`Bearer ${TOKEN}`, `Bearer ${TOKEN.slice(0, 5)}`, 'Bearer a-much-longer-token-than-the-real-one-is', '']) {
        spy.mockClear();
        await scrape(authorization);
        expect(spy).toHaveBeenCalledTimes(1);
        const [presented, expected] = spy.mock.calls[0]! as unknown as [Uint8Array, Uint8Array];
        expect(presented.byteLength).toBe(expected.byteLength);
        expect(presented.byteLength).toBe(32);
        // Digests, not the token itself.
        expect(Buffer.from(expected).toString('utf8')).not.toContain(TOKEN);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
