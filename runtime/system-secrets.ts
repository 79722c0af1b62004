import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { schema, type Database } from '../db';

const resolved = new WeakMap<Database, Map<string, Promise<string>>>();

/**
 * A deployment secret: the configured value when there is one, else one generated once and
 * kept in `system_secrets`, so restarts and replicas agree. Outside development the
 * configuration check (runtime/config) has already refused a missing value where the
 * secret must not live beside the data it protects.
 */
export function systemSecret(database: Database, name: string, configured?: string): Promise<string> {
  if (configured) return Promise.resolve(configured);
  let byName = resolved.get(database);
  if (!byName) resolved.set(database, (byName = new Map()));
  let secret = byName.get(name);
  if (!secret) {
    secret = database.system(async (tx) => {
      await tx.insert(schema.systemSecrets).values({ name, value: randomBytes(32).toString('base64url') }).onConflictDoNothing();
      const [row] = await tx.select().from(schema.systemSecrets).where(eq(schema.systemSecrets.name, name));
      return row!.value;
    });
    secret.catch(() => byName!.delete(name));
    byName.set(name, secret);
  }
  return secret;
}
