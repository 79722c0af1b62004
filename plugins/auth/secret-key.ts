import type { Database } from '../../db';
import { ConfigError, type Config } from '../../runtime/config';
import type { Env } from '../../runtime/plugin';
import { systemSecret } from '../../runtime/system-secrets';
import { clientSecretKey } from './secrets';

/** The fingerprint key's name in system_secrets (development generates and keeps it there). */
const FINGERPRINT_SECRET = 'fingerprint_key';
const configured = new WeakMap<Database, { explicit?: string; fingerprintKey?: string }>();
const keys = new WeakMap<Database, Promise<Buffer>>();

/**
 * Called once per process by the auth plugin's setup: NIMBUS_CLIENT_SECRET_KEY (optional,
 * at least 32 characters) or the fingerprint key feeds the HMAC of client secrets.
 */
export function configureClientSecretKey(database: Database, config: Pick<Config, 'fingerprintKey'>, env: Env): void {
  const explicit = env.NIMBUS_CLIENT_SECRET_KEY?.trim() || undefined;
  if (explicit !== undefined && explicit.length < 32) {
    throw new ConfigError('NIMBUS_CLIENT_SECRET_KEY', 'must be at least 32 characters of random text.');
  }
  configured.set(database, { explicit, fingerprintKey: config.fingerprintKey });
  keys.delete(database);
}

/** The key client secrets are hashed with in this deployment. */
export function clientSecretKeyFor(database: Database): Promise<Buffer> {
  let key = keys.get(database);
  if (!key) {
    const source = configured.get(database) ?? {};
    key = systemSecret(database, FINGERPRINT_SECRET, source.fingerprintKey).then((fingerprint) => clientSecretKey(source.explicit, fingerprint));
    key.catch(() => keys.delete(database));
    keys.set(database, key);
  }
  return key;
}
