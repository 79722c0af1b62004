import { createTestDatabase, withoutRowLevelSecurity } from '../helpers/db';
import { describeTenantIsolation } from '../helpers/isolation';

/**
 * The same walk with row-level security out of the way: only the `tenant_id` predicate
 * every query carries keeps tenants apart (the first of the two layers; RLS is the
 * second, and without the predicate PostgreSQL also ignores the (tenant_id, ...) indexes).
 */
await describeTenantIsolation(async () => ({ database: withoutRowLevelSecurity(await createTestDatabase()) }));
