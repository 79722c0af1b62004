import { Type, type Static } from '@sinclair/typebox';

/**
 * The environment NimbusPay reads, as one TypeBox schema. Values arrive as strings; the
 * parser in index.ts turns them into these types and names the variable on any error.
 */
export const NimbusEnv = Type.Union([Type.Literal('development'), Type.Literal('staging'), Type.Literal('production')]);
export type NimbusEnv = Static<typeof NimbusEnv>;

export const ConfigSchema = Type.Object({
  env: NimbusEnv,
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  databaseUrl: Type.Optional(Type.String({ minLength: 1 })),
  /** Connections of this process's PostgreSQL pool (DATABASE_POOL_MAX). */
  databasePoolMax: Type.Integer({ minimum: 1, maximum: 100 }),
  dataDir: Type.String({ minLength: 1 }),
  /** JSON text of a JWK set of EC P-256 private keys; the first one signs. */
  jwtPrivateJwks: Type.Optional(Type.String({ minLength: 1 })),
  tokenTtlSeconds: Type.Integer({ minimum: 60, maximum: 86400 }),
  webhookAllowPrivate: Type.Boolean(),
  allowSimulator: Type.Boolean(),
  metricsToken: Type.Optional(Type.String({ minLength: 1 })),
  issuer: Type.String({ minLength: 1 }),
  reconcileAfterMs: Type.Integer({ minimum: 0 }),
  authorizationTtlMs: Type.Integer({ minimum: 1 }),
  shutdownGraceMs: Type.Integer({ minimum: 0 }),
  /** HMAC key for card and account fingerprints; generated and persisted in development. */
  fingerprintKey: Type.Optional(Type.String({ minLength: 16 })),
  /**
   * Keys that encrypt webhook signing secrets at rest (NIMBUS_WEBHOOK_SECRET_KEYS): the
   * first encrypts, every one decrypts, so a rotation can read rows of the old key.
   * Generated and persisted in development.
   */
  webhookSecretKeys: Type.Optional(Type.Array(Type.String({ minLength: 32 }), { minItems: 1 })),
  logLevel: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
  ),
});

export type Config = Static<typeof ConfigSchema>;
