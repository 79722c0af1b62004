import { sql } from 'drizzle-orm';
import { APP_ROLE, type Db } from './client';

/**
 * Row-level security for every table with a `tenant_id` column, applied after each
 * migration run (idempotent), so a table added later is covered without anyone
 * remembering to. Requests run as APP_ROLE with `nimbus.tenant_id` set per transaction;
 * workers and platform routes set `nimbus.system`. FORCE makes it bind the table owner
 * too; a superuser still bypasses RLS, which is why transactions switch to APP_ROLE.
 */
export async function secureTenantTables(db: Db): Promise<void> {
  await db.execute(sql.raw(`
    DO $$
    BEGIN
      CREATE ROLE ${APP_ROLE} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$;
  `));
  await db.execute(sql.raw(`
    DO $$
    DECLARE t record;
    BEGIN
      -- The migrating user must be able to SET ROLE to the application role.
      EXECUTE format('GRANT ${APP_ROLE} TO %I', current_user);
      GRANT USAGE ON SCHEMA public TO ${APP_ROLE};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${APP_ROLE};
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${APP_ROLE};
      FOR t IN
        SELECT c.table_name, k.relrowsecurity, k.relforcerowsecurity FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        JOIN pg_class k ON k.oid = format('%I.%I', c.table_schema, c.table_name)::regclass
        WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
      LOOP
        -- ALTER TABLE takes an ACCESS EXCLUSIVE lock: only when something changes, so that
        -- migrating a current schema (every replica start in development, every migration
        -- Job) never queues behind, or deadlocks with, the requests of running replicas.
        IF NOT t.relrowsecurity THEN
          EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.table_name);
        END IF;
        IF NOT t.relforcerowsecurity THEN
          EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.table_name);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public' AND tablename = t.table_name AND policyname = 'nimbus_tenant_isolation') THEN
          EXECUTE format($p$CREATE POLICY nimbus_tenant_isolation ON %I FOR ALL TO ${APP_ROLE}
            USING (tenant_id = current_setting('nimbus.tenant_id', true))
            WITH CHECK (tenant_id = current_setting('nimbus.tenant_id', true))$p$, t.table_name);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public' AND tablename = t.table_name AND policyname = 'nimbus_system_access') THEN
          EXECUTE format($p$CREATE POLICY nimbus_system_access ON %I FOR ALL TO ${APP_ROLE}
            USING (current_setting('nimbus.system', true) = 'on')
            WITH CHECK (current_setting('nimbus.system', true) = 'on')$p$, t.table_name);
        END IF;
      END LOOP;
    END $$;
  `));
}
