import { describe, expect, test } from 'bun:test';
import { ConfigError } from '../../runtime/config';
import { credentialsFromEnv } from '../../runtime/registry/index.ts';
import { createSimulator } from './index.ts';

/** The simulator's settings come from the variables it declares, checked at start. */
describe('simulator settings from the environment', () => {
  const simulator = createSimulator();

  test('defaults: no latency, settles after 2000 ms, a per-process callback secret', () => {
    expect(credentialsFromEnv(simulator, {})).toEqual({});
    expect(
      credentialsFromEnv(simulator, {
        NIMBUS_SIMULATOR_SETTLE_MS: '50',
        NIMBUS_SIMULATOR_LATENCY_MS: '3',
        NIMBUS_SIMULATOR_CALLBACK_SECRET: 'a-shared-callback-secret',
      }),
    ).toEqual({ settleMs: 50, latencyMs: 3, callbackSecret: 'a-shared-callback-secret' });
  });

  test.each([
    [{ NIMBUS_SIMULATOR_SETTLE_MS: '-1' }, 'NIMBUS_SIMULATOR_SETTLE_MS'],
    [{ NIMBUS_SIMULATOR_SETTLE_MS: 'soon' }, 'NIMBUS_SIMULATOR_SETTLE_MS'],
    [{ NIMBUS_SIMULATOR_LATENCY_MS: '60001' }, 'NIMBUS_SIMULATOR_LATENCY_MS'],
    [{ NIMBUS_SIMULATOR_CALLBACK_SECRET: 'short' }, 'NIMBUS_SIMULATOR_CALLBACK_SECRET'],
  ])('%p is refused naming %s, never echoing the value', (env, variable) => {
    let caught: unknown;
    try {
      credentialsFromEnv(simulator, env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toStartWith(`${variable}:`);
    expect((caught as ConfigError).message).not.toContain(Object.values(env)[0]!);
  });
});
