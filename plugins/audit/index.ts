import { Elysia } from 'elysia';
import { definePlugin } from '../../runtime/plugin';
import { auditTrail } from './recorder';
import { auditRoutes } from './routes';

export { auditTrail, flushAudit } from './recorder';
export { auditRoutes, AuditEvent, listAuditEvents } from './routes';

/**
 * The audit trail: who did what, recorded after every mutating /v1 request, and
 * GET /v1/audit_events. List it before the plugins it audits: its hook is global and
 * wraps the routes registered after it.
 */
export const audit = definePlugin({
  name: 'audit',
  routes: (ctx) => new Elysia({ name: 'nimbus:audit' }).use(auditTrail(ctx)).use(auditRoutes(ctx)),
});
