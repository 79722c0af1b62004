import { and, eq } from 'drizzle-orm';
import { Type } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { type Database, schema } from '../../db';
import { authGuard, tenantOf } from '../auth';
import { errorResponses, ListQuery, listOf } from '../tenancy/model';
import { type ListParams, listParams, pageQuery, toPage } from '../../runtime/pagination';
import type { Config } from '../../runtime/config';
import { resourceMissing } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import { flushAudit } from './recorder';

export const AuditEvent = Type.Object({
  id: Type.String({ pattern: '^aud_' }),
  object: Type.Literal('audit_event'),
  client: Type.Union([Type.String(), Type.Null()], { description: 'The client that made the request.' }),
  tenant: Type.Union([Type.String(), Type.Null()]),
  action: Type.String({ description: 'e.g. `POST /v1/payments` or `tenant.create`.' }),
  resource: Type.Union([Type.String(), Type.Null()], { description: 'The id of the object acted on, when known.' }),
  request_id: Type.String(),
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  status: Type.Integer({ description: 'The HTTP status answered.' }),
  created_at: Type.String({ format: 'date-time' }),
});

type AuditRow = typeof schema.auditEvents.$inferSelect;

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

export async function listAuditEvents(database: Database, tenantId: string, params: ListParams) {
  await flushAudit(database);
  return database.tenant(tenantId, async (tx) => {
    const table = schema.auditEvents;
    const inTenant = eq(table.tenantId, tenantId);
    let cursor: number | undefined;
    const cursorId = params.startingAfter ?? params.endingBefore;
    if (cursorId !== undefined) {
      const rows = await tx.select({ seq: table.seq }).from(table).where(and(eq(table.id, cursorId), inTenant)).limit(1);
      if (!rows[0]) throw resourceMissing('audit_event', cursorId, params.startingAfter !== undefined ? 'starting_after' : 'ending_before');
      cursor = rows[0].seq;
    }
    const page = pageQuery(table, params, cursor, [inTenant]);
    const rows = await tx.select().from(table).where(page.where).orderBy(page.orderBy).limit(page.take);
    const { data, hasMore } = toPage(rows, params.limit, page.reverse);
    return { object: 'list' as const, data: data.map(auditResource), has_more: hasMore };
  });
}

/** `GET /v1/audit_events`: a tenant admin (`clients:write`) or support (`platform:support` + Nimbus-Tenant). */
export function auditRoutes(deps: { config: Config; database: Database; logger: Logger }) {
  return new Elysia({ name: 'nimbus:audit-routes' })
    .use(authGuard(deps))
    .get('/v1/audit_events', ({ query, request }) => listAuditEvents(deps.database, tenantOf(request), listParams(query)), {
      scopes: ['clients:write'],
      query: ListQuery,
      response: { 200: listOf(AuditEvent), ...errorResponses(400, 401, 403, 404) },
      detail: {
        tags: ['Audit'],
        summary: 'List audit events, newest first',
        operationId: 'listAuditEvents',
        description:
          'One event per mutating request (POST, PATCH, DELETE under /v1): who (client, tenant), what (action, resource), ' +
          'when, the request id and the outcome. Readable by a tenant admin (`clients:write`) or by `platform:support` ' +
          'with the `Nimbus-Tenant` header.',
      },
    });
}
