import type { Config, NimbusEnv } from './model';
import { parseKeyList } from './secret-keys';

export type { Config, NimbusEnv } from './model';
export { keyMaterial } from './secret-keys';

/** Thrown for any bad variable; the CLI prints the message and exits non-zero. */
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got '${raw}'.`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be from ${min} to ${max}, got ${value}.`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  switch (raw.toLowerCase()) {
    case 'true':
    case '1':
    case 'yes':
      return true;
    case 'false':
    case '0':
    case 'no':
      return false;
    default:
      throw new ConfigError(name, `must be true or false, got '${raw}'.`);
  }
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got '${raw}'.`);
  }
  return raw as T;
}

function jwks(env: Env): string | undefined {
  const raw = read(env, 'NIMBUS_JWT_PRIVATE_JWKS');
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('NIMBUS_JWT_PRIVATE_JWKS', 'must be the JSON text of a JWK set ({"keys":[...]}).');
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError('NIMBUS_JWT_PRIVATE_JWKS', 'must hold at least one key in "keys".');
  }
  for (const key of keys as Record<string, unknown>[]) {
    if (key.kty !== 'EC' || key.crv !== 'P-256' || typeof key.d !== 'string' || typeof key.kid !== 'string') {
      throw new ConfigError('NIMBUS_JWT_PRIVATE_JWKS', 'every key must be an EC P-256 private JWK with a "kid".');
    }
  }
  return raw;
}

function keyList(env: Env, name: string): string[] | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  const parsed = parseKeyList(raw);
  if ('error' in parsed) throw new ConfigError(name, parsed.error);
  return parsed.keys;
}

function url(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL, got something else.`);
  }
  return raw;
}

const ENVS: readonly NimbusEnv[] = ['development', 'staging', 'production'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Parses the environment once at start. Every error names its variable and what is
 * allowed, so a bad deployment fails loudly and early rather than at the first request.
 */
export function loadConfig(env: Env = process.env): Config {
  const nimbusEnv = oneOf(env, 'NIMBUS_ENV', ENVS, 'development');
  const development = nimbusEnv === 'development';
  const host = read(env, 'HOST') ?? (development ? '127.0.0.1' : '0.0.0.0');
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const publicHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const fingerprintKey = read(env, 'NIMBUS_FINGERPRINT_KEY');
  if (fingerprintKey !== undefined && fingerprintKey.length < 16) {
    throw new ConfigError('NIMBUS_FINGERPRINT_KEY', 'must be at least 16 characters of random text.');
  }
  const config: Config = {
    env: nimbusEnv,
    host,
    port,
    databaseUrl: url(env, 'DATABASE_URL'),
    databasePoolMax: integer(env, 'DATABASE_POOL_MAX', 10, 1, 100),
    dataDir: read(env, 'NIMBUS_DATA_DIR') ?? '.nimbus/data',
    jwtPrivateJwks: jwks(env),
    tokenTtlSeconds: integer(env, 'NIMBUS_TOKEN_TTL_S', 900, 60, 86400),
    webhookAllowPrivate: boolean(env, 'NIMBUS_WEBHOOK_ALLOW_PRIVATE', development),
    allowSimulator: boolean(env, 'NIMBUS_ALLOW_SIMULATOR', false),
    metricsToken: read(env, 'NIMBUS_METRICS_TOKEN'),
    issuer: (url(env, 'NIMBUS_ISSUER') ?? `http://${publicHost}:${port}`).replace(/\/+$/, ''),
    reconcileAfterMs: integer(env, 'NIMBUS_RECONCILE_AFTER_MS', 30_000, 0, 86_400_000),
    authorizationTtlMs: integer(env, 'NIMBUS_AUTHORIZATION_TTL_MS', 7 * 24 * 3600 * 1000, 1, 31 * 24 * 3600 * 1000),
    shutdownGraceMs: integer(env, 'NIMBUS_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    fingerprintKey,
    webhookSecretKeys: keyList(env, 'NIMBUS_WEBHOOK_SECRET_KEYS'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  };
  assertSafeForEnvironment(config);
  return config;
}

/**
 * What production refuses (staging too, except that it may run the simulator): the
 * embedded database, generated signing, fingerprint and webhook secret encryption keys
 * (a generated key sits in the database beside what it protects). The simulator-only
 * check lives with the registry, which knows the processors.
 */
export function assertSafeForEnvironment(config: Config): void {
  if (config.env === 'development') return;
  if (!config.databaseUrl) {
    throw new ConfigError('DATABASE_URL', `is required when NIMBUS_ENV=${config.env}: the embedded database is for development only.`);
  }
  if (!config.jwtPrivateJwks) {
    throw new ConfigError('NIMBUS_JWT_PRIVATE_JWKS', `is required when NIMBUS_ENV=${config.env}: generated development signing keys are refused.`);
  }
  if (!config.fingerprintKey) {
    throw new ConfigError('NIMBUS_FINGERPRINT_KEY', `is required when NIMBUS_ENV=${config.env}: generated development keys are refused.`);
  }
  if (!config.webhookSecretKeys) {
    throw new ConfigError(
      'NIMBUS_WEBHOOK_SECRET_KEYS',
      `is required when NIMBUS_ENV=${config.env}: webhook signing secrets are encrypted with it (openssl rand -base64 32); generated development keys are refused.`,
    );
  }
}

/**
 * Production also refuses to run on test doubles alone (the simulator declares itself
 * `testOnly`) unless NIMBUS_ALLOW_SIMULATOR=true. Called at start with the registered
 * processors.
 */
export function assertProcessorsAllowed(config: Config, processors: ReadonlyArray<{ id: string; testOnly?: boolean }>): void {
  if (config.env !== 'production' || config.allowSimulator) return;
  if (processors.every((processor) => processor.testOnly)) {
    const ids = processors.map((processor) => processor.id).join(', ') || 'none';
    throw new ConfigError('NIMBUS_ALLOW_SIMULATOR', `only test processors are registered (${ids}); set NIMBUS_ALLOW_SIMULATOR=true to run production on them anyway.`);
  }
}

/** Warnings worth a log line at start (the process still starts). */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.webhookAllowPrivate && config.env !== 'development') {
    warnings.push('NIMBUS_WEBHOOK_ALLOW_PRIVATE=true outside development: webhooks may target private and http:// addresses.');
  }
  return warnings;
}
