import { APP_ROLE, inspectRoles, roleProblems, type Database } from '../../db';
import { ConfigError, type Config } from '../config';
import type { Logger } from '../logger';

/**
 * Refuses to serve on a connection that row-level security would not bind: always when
 * the restricted role has BYPASSRLS; in staging and production also when DATABASE_URL
 * connects as a superuser, a BYPASSRLS role or the tables' owner (run migrations with
 * NIMBUS_MIGRATION_DATABASE_URL as the owner instead). Development only warns.
 */
export async function assertServingRoles(database: Database, config: Pick<Config, 'env'>, logger: Logger, appRole = APP_ROLE): Promise<void> {
  const report = await inspectRoles(database, appRole);
  if (!report) return;
  const { fatal, warnings } = roleProblems(report, appRole);
  if (fatal.length > 0) throw new ConfigError('DATABASE_URL', fatal.join(' '));
  if (warnings.length === 0) return;
  if (config.env === 'development') {
    for (const warning of warnings) logger.warn(`${warning} Outside development this is refused: connect as a login role that owns nothing (see deploy/README.md).`);
    return;
  }
  throw new ConfigError('DATABASE_URL', `${warnings.join(' ')} Connect as a login role that is a member of ${appRole} and owns nothing; migrations run as the owner with NIMBUS_MIGRATION_DATABASE_URL.`);
}
