import { ConfigError, type Config } from '../config';

/**
 * Where migrations run: NIMBUS_MIGRATION_DATABASE_URL (the owner of the schema) when set,
 * else DATABASE_URL. The API and workers connect with DATABASE_URL as a role that owns
 * nothing, so creating or altering tables needs the other connection.
 */
export function migrationDatabaseUrl(config: Pick<Config, 'databaseUrl'>, env: Record<string, string | undefined> = process.env): string | undefined {
  const raw = env.NIMBUS_MIGRATION_DATABASE_URL?.trim();
  if (!raw) return config.databaseUrl;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError('NIMBUS_MIGRATION_DATABASE_URL', 'must be a URL, got something else.');
  }
  if (!config.databaseUrl) {
    throw new ConfigError('NIMBUS_MIGRATION_DATABASE_URL', 'is set but DATABASE_URL is not: the embedded database has no separate owner.');
  }
  return raw;
}
