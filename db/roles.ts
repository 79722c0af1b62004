import { sql } from 'drizzle-orm';
import { APP_ROLE, rowsOf, type Database } from './client';

/**
 * Who the server connects as. Row-level security is the second layer of tenant
 * isolation; it only binds a session that cannot step around it. In a deployment the API
 * and the worker connect as a login role that owns nothing and is a member of the
 * restricted APP_ROLE (so `RESET ROLE` leads nowhere useful), and migrations run as the
 * owner through another connection string.
 */
export interface RoleReport {
  user: string;
  superuser: boolean;
  bypassRls: boolean;
  /** Tables of this schema the connecting user owns (an owner can disable RLS on them). */
  ownsTables: number;
  /** The restricted role itself must never bypass RLS. */
  appRoleBypassesRls: boolean;
}

/** PGlite is one in-process database with one user: there is no separate login role to check. */
export async function inspectRoles(database: Database, appRole = APP_ROLE): Promise<RoleReport | undefined> {
  if (database.kind !== 'postgres') return undefined;
  const [row] = rowsOf<{ user: string; superuser: boolean; bypass: boolean; owns: number; app_bypass: boolean | null }>(
    await database.db.execute(sql`
      select current_user as "user",
             r.rolsuper as superuser,
             r.rolbypassrls as bypass,
             (select count(*)::int from pg_tables t where t.schemaname = 'public' and t.tableowner = current_user) as owns,
             (select a.rolbypassrls from pg_roles a where a.rolname = ${appRole}) as app_bypass
      from pg_roles r where r.rolname = current_user`),
  );
  return {
    user: row!.user,
    superuser: row!.superuser,
    bypassRls: row!.bypass,
    ownsTables: row!.owns,
    appRoleBypassesRls: row!.app_bypass === true,
  };
}

/** What is wrong with the connection for serving requests; empty when it is as it should be. */
export function roleProblems(report: RoleReport, appRole = APP_ROLE): { fatal: string[]; warnings: string[] } {
  const fatal: string[] = [];
  const warnings: string[] = [];
  if (report.appRoleBypassesRls) fatal.push(`the role ${appRole} has BYPASSRLS: row-level security would not bind it (ALTER ROLE ${appRole} NOBYPASSRLS).`);
  if (report.superuser) warnings.push(`DATABASE_URL connects as the superuser ${report.user}.`);
  else if (report.bypassRls) warnings.push(`DATABASE_URL connects as ${report.user}, which has BYPASSRLS.`);
  if (report.ownsTables > 0) warnings.push(`DATABASE_URL connects as ${report.user}, which owns ${report.ownsTables} tables and could disable their row-level security.`);
  return { fatal, warnings };
}
