import { eq } from 'drizzle-orm';
import { type Database, schema } from '../db';
import type { CommandSpec } from '../runtime/plugin';
import { keyringFor } from './sealing';
import { type SecretKeyOptions, secretUpgrade } from './service';

export interface ReencryptReport {
  /** Id of the key everything is sealed under now (the first of NIMBUS_WEBHOOK_SECRET_KEYS). */
  key_id: string;
  endpoints: number;
  /** Rows whose secrets were plaintext or sealed under another key, now sealed under `key_id`. */
  reencrypted: number;
  /** Rows whose rotation overlap had ended: their previous secret was dropped. */
  expired_previous_cleared: number;
  /** Endpoints whose secrets no configured key opens: left as they are. */
  unreadable: string[];
}

/**
 * Seals every stored webhook secret under the current key: the step of a key rotation
 * after the new key is first in NIMBUS_WEBHOOK_SECRET_KEYS everywhere (the old one
 * still listed), and the way to encrypt rows written before encryption at once instead
 * of at their next write. One short transaction per endpoint, row-locked, so a
 * concurrent rotation is neither lost nor blocked for long; running it twice is harmless.
 */
export async function reencryptSecrets(database: Database, options: SecretKeyOptions = {}): Promise<ReencryptReport> {
  const ring = await keyringFor(database, options.secretKeys);
  const table = schema.webhookEndpoints;
  const ids = await database.system((tx) => tx.select({ id: table.id }).from(table).orderBy(table.seq));
  const report: ReencryptReport = { key_id: ring.keys[0]!.kid, endpoints: ids.length, reencrypted: 0, expired_previous_cleared: 0, unreadable: [] };
  for (const { id } of ids) {
    await database.system(async (tx) => {
      const [row] = await tx.select().from(table).where(eq(table.id, id)).for('update');
      if (!row) return; // deleted meanwhile
      let changes;
      try {
        changes = secretUpgrade(ring, row, true);
      } catch {
        report.unreadable.push(id);
        return;
      }
      if (Object.keys(changes).length === 0) return;
      await tx.update(table).set(changes).where(eq(table.id, id));
      if (changes.secret !== undefined || typeof changes.previousSecret === 'string') report.reencrypted += 1;
      if (changes.previousSecret === null) report.expired_previous_cleared += 1;
    });
  }
  return report;
}

/** `nimbus reencrypt-webhook-secrets [--json]`. Exits non-zero when an endpoint's secrets could not be read. */
export const reencryptCommand: CommandSpec<unknown> = {
  usage: 'reencrypt-webhook-secrets [--json] seal every webhook secret under the first NIMBUS_WEBHOOK_SECRET_KEYS key',
  flags: ['--json'],
  async run(ctx): Promise<ReencryptReport> {
    const report = await reencryptSecrets(ctx.database, { secretKeys: ctx.config.webhookSecretKeys });
    const line = { key_id: report.key_id, endpoints: report.endpoints, reencrypted: report.reencrypted, unreadable: report.unreadable.length };
    if (report.unreadable.length > 0) ctx.logger.error({ ...line, endpoint_ids: report.unreadable }, 'webhook secrets re-encrypted, some unreadable');
    else ctx.logger.info(line, 'webhook secrets re-encrypted');
    return report;
  },
  print(result, flags) {
    const report = result as ReencryptReport;
    if (report.unreadable.length > 0) process.exitCode = 1;
    if (flags.has('--json')) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const lines = [
      `Webhook secrets of ${report.endpoints} endpoint(s) checked; ${report.reencrypted} re-encrypted under key ${report.key_id}; ${report.expired_previous_cleared} expired previous secret(s) dropped.`,
    ];
    if (report.unreadable.length > 0) {
      lines.push(`${report.unreadable.length} endpoint(s) could not be decrypted with any configured key (left unchanged): ${report.unreadable.join(', ')}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
