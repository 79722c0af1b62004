import { Type } from '@sinclair/typebox';
import { eq, type SQL } from 'drizzle-orm';
import { Elysia } from 'elysia';
import { type Database, schema } from '../../../db';
import type { Config } from '../../../runtime/config';
import { parameterInvalid } from '../../../runtime/errors';
import type { Logger } from '../../../runtime/logger';
import { listPage, listParams } from '../../../runtime/pagination';
import { AuditEvent, flushAudit } from '../../audit';
import { authGuard } from '../../auth';
import { errorResponses } from '../../tenancy/model';
import { SearchAuditQuery } from './model';

const FILTERS = ['tenant', 'client', 'action', 'outcome'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;
type AuditRow = typeof schema.auditEvents.$inferSelect;

/** The audit event as GET /v1/audit_events shows it (plugins/audit/routes.ts). */
function auditResource(row: AuditRow) {
  return {
    id: row.id,
    object: 'audit_event' as const,
    client: row.clientId,
    tenant: row.tenantId,
    action: row.action,
    resource: row.resourceId,
    request_id: row.requestId,
    outcome: row.outcome === 'succeeded' ? ('succeeded' as const) : ('failed' as const),
    status: Number(row.status),
    created_at: row.createdAt.toISOString(),
  };
}

function auditFilters(filters: Filters): { scope?: SQL; filters: SQL[] } {
  const table = schema.auditEvents;
  const conditions: SQL[] = [];
  if (filters.client !== undefined) conditions.push(eq(table.clientId, filters.client));
  if (filters.action !== undefined) conditions.push(eq(table.action, filters.action));
  if (filters.outcome !== undefined) {
    if (filters.outcome !== 'succeeded' && filters.outcome !== 'failed') throw parameterInvalid('outcome', 'outcome must be succeeded or failed.');
    conditions.push(eq(table.outcome, filters.outcome));
  }
  return { scope: filters.tenant === undefined ? undefined : eq(table.tenantId, filters.tenant), filters: conditions };
}

/**
 * `GET /v1/support/audit_events`: who did what, across tenants, for `platform:support`,
 * by tenant and by actor (client). Platform actions show with the tenant they acted on.
 */
export function auditSearchRoutes(deps: { config: Config; database: Database; logger: Logger }) {
  return new Elysia({ name: 'nimbus:console:audit-search' })
    .use(authGuard(deps))
    .get(
      '/v1/support/audit_events',
      async ({ query }) => {
        const params = listParams(query, FILTERS);
        const where = auditFilters(query as Filters);
        await flushAudit(deps.database);
        const page = await deps.database.system((tx) => listPage<AuditRow>(tx, schema.auditEvents, { params, ...where, kind: 'audit_event' }));
        return { object: 'list' as const, data: page.rows.map(auditResource), has_more: page.hasMore };
      },
      {
        scopes: ['platform:support'],
        query: SearchAuditQuery,
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(AuditEvent), has_more: Type.Boolean() }), ...errorResponses(400, 401, 403, 404) },
        detail: {
          tags: ['Support'],
          summary: 'Search the audit trail across tenants (platform support)',
          operationId: 'searchAuditEvents',
          description:
            'Every mutating request under /v1, newest first: who (`client`), on which `tenant`, what (`action`, `resource`), the request id ' +
            'and the outcome. Filter by `tenant`, `client` (the actor), `action`, `outcome` and creation time. `platform:support` only; ' +
            'GET /v1/audit_events remains the per-tenant view.',
        },
      },
    );
}
