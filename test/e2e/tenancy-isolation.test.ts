import { describeTenantIsolation } from '../helpers/isolation';

/** Tenant isolation over every /v1 route, with row-level security binding as in production. */
await describeTenantIsolation();
