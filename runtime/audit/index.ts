export { auditTrail, flushAudit } from './recorder';
export { auditRoutes } from './routes';
