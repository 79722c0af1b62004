export { auditTrail, flushAudit } from './recorder';
