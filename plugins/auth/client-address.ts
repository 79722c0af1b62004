import { ConfigError } from '../../runtime/config';
import type { Env } from '../../runtime/plugin';

/**
 * NIMBUS_TRUSTED_PROXIES: how many proxies in front of NimbusPay append to
 * X-Forwarded-For (1 behind an AWS ALB). 0 (the default) trusts no header and uses the
 * socket address. Trusting more hops than really exist lets a client choose its own
 * address, so count exactly.
 */
export function trustedProxies(env: Env): number {
  const raw = env.NIMBUS_TRUSTED_PROXIES?.trim();
  if (!raw) return 0;
  if (!/^\d{1,2}$/.test(raw) || Number(raw) > 10) {
    throw new ConfigError('NIMBUS_TRUSTED_PROXIES', `must be a whole number of proxy hops from 0 to 10, got '${raw}'.`);
  }
  return Number(raw);
}

/**
 * The client's address: with `hops` trusted proxies, the entry of X-Forwarded-For the
 * outermost trusted proxy appended (each proxy appends the address it saw, so the
 * client is `hops` entries from the right once the socket peer is counted). Fewer
 * entries than hops means a misconfigured chain: the leftmost one is the best guess.
 */
export function clientAddress(request: Request, socketAddress: string, hops: number): string {
  if (hops === 0) return socketAddress;
  const forwarded = (request.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const chain = [...forwarded, socketAddress];
  return chain[Math.max(0, chain.length - 1 - hops)]!;
}
