import { Elysia } from 'elysia';
import { type Database, encode, runStatement, schema, type Tx } from '../../db';
import { ApiError } from '../../runtime/errors';
import { requestState } from '../../runtime/http';
import { toApiError } from '../../runtime/http/errors';
import { randomId } from '../../runtime/ids';
import { type Logger, silentLogger } from '../../runtime/logger';
import { RespondWith, unitOfWork } from '../../runtime/unit-of-work';

const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** Writes that have not landed yet, per database, so a list right after a write sees it. */
const pending = new WeakMap<Database, Set<Promise<unknown>>>();

function pendingOf(database: Database): Set<Promise<unknown>> {
  let set = pending.get(database);
  if (!set) {
    set = new Set();
    pending.set(database, set);
  }
  return set;
}

/** Waits for this process's audit writes in flight (the audit list calls it first). */
export async function flushAudit(database: Database): Promise<void> {
  await Promise.allSettled([...pendingOf(database)]);
}

function idInBody(value: unknown): string | undefined {
  if (value instanceof Response || typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/** The status the client saw: errors carry theirs (validation failures are answered as 400). */
function statusOf(context: { error?: unknown; code?: unknown; request: Request; set: { status?: unknown }; responseValue?: unknown }): number {
  if (context.error instanceof RespondWith) return context.error.response.status;
  if (context.error !== undefined && context.error !== null) {
    const code = typeof context.code === 'string' || typeof context.code === 'number' ? context.code : 'UNKNOWN';
    const error = context.error instanceof ApiError ? context.error : toApiError(code, context.error, context.request, silentLogger);
    return error.status;
  }
  if (context.responseValue instanceof Response) return context.responseValue.status;
  return typeof context.set.status === 'number' ? context.set.status : 200;
}

type AuditRow = typeof schema.auditEvents.$inferInsert;

/** The row for a request with this status (only a request that succeeded names its resource). */
function auditRow(request: Request, route: string, params: Record<string, string> | undefined, status: number, resourceId: string | undefined): AuditRow | undefined {
  const state = requestState(request);
  const principal = state.principal;
  if (!principal) return undefined;
  return {
    id: randomId('aud'),
    tenantId: state.audit?.tenantId ?? principal.tenantId ?? principal.tokenTenantId ?? null,
    clientId: principal.clientId,
    action: state.audit?.action ?? `${request.method} ${route}`,
    // Only for requests that succeeded: an id a caller merely tried (another tenant's, say) is not theirs to see listed.
    resourceId: status < 400 ? (state.audit?.resourceId ?? params?.id ?? resourceId ?? null) : null,
    requestId: state.id,
    outcome: status < 400 ? 'succeeded' : 'failed',
    status: String(status),
  };
}

const INSERT_AUDIT = 'insert into audit_events (id, tenant_id, client_id, action, resource_id, request_id, outcome, status, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)';

async function insertAudit(tx: Tx, row: AuditRow): Promise<void> {
  await runStatement(tx, INSERT_AUDIT, [row.id, row.tenantId, row.clientId, row.action, row.resourceId, row.requestId, row.outcome, row.status, encode(schema.auditEvents.createdAt, new Date())]);
}

/**
 * The audit trail: every POST/PATCH/PUT/DELETE under /v1 by an authenticated principal
 * records who (client, tenant), what (action, resource id), when, the request id and the
 * outcome. Routes need do nothing; they may refine it through `requestState(request).audit`
 * (`action`, `resourceId`, `tenantId`). Global, so routes of every plugin are covered;
 * it must be registered before the plugins whose routes it audits.
 *
 * The row is offered to the request's unit of work (runtime/unit-of-work.ts): a service
 * that commits the request's outcome writes it in that transaction (a payment's second
 * commit). Otherwise the after-response hook writes it in a transaction of its own.
 */
export function auditTrail(deps: { database: Database; logger: Logger }) {
  const { database, logger } = deps;
  // Elysia runs after-response hooks on a later tick; a read arriving first must still see
  // the write. So every mutating /v1 request announces its audit write when it starts.
  const announced = new WeakMap<Request, () => void>();
  return new Elysia({ name: 'nimbus:audit' })
    .onRequest(({ request }) => {
      if (!MUTATING.has(request.method) || !new URL(request.url).pathname.startsWith('/v1/')) return;
      let done!: () => void;
      const landed = new Promise<void>((resolve) => {
        done = resolve;
      });
      const set = pendingOf(database);
      set.add(landed);
      // Bounded: a request that never reaches the hook cannot hold readers up.
      const timer = setTimeout(done, 5_000);
      announced.set(request, () => {
        clearTimeout(timer);
        done();
      });
      void landed.then(() => set.delete(landed));
    })
    .onBeforeHandle({ as: 'global' }, ({ request, route, params }) => {
      if (!MUTATING.has(request.method) || !route?.startsWith('/v1/')) return;
      unitOfWork(request).add({
        async write(tx, outcome) {
          const row = auditRow(request, route, params as Record<string, string> | undefined, outcome.status, outcome.resourceId);
          // A tenant transaction can only hold its own tenant's rows: anything else is left to the hook.
          if (row && row.tenantId !== null) await insertAudit(tx, row);
        },
      });
    })
    .onAfterResponse({ as: 'global' }, async (context) => {
      const { request } = context;
      try {
        // Written with the request's outcome already.
        if (!unitOfWork(request).done) await record(context as unknown as AfterResponseContext);
      } finally {
        announced.get(request)?.();
      }
    });

  async function record(context: AfterResponseContext): Promise<void> {
    const { request, route } = context;
    if (!MUTATING.has(request.method) || !route?.startsWith('/v1/')) return;
    const row = auditRow(request, route, context.params, statusOf(context), idInBody(context.responseValue));
    if (!row) return;
    await database
      .system((tx) => insertAudit(tx, row))
      .catch((error: unknown) => logger.error({ err: error, request_id: row.requestId }, 'audit event not recorded'));
  }
}

interface AfterResponseContext {
  request: Request;
  route: string;
  set: { status?: unknown };
  error?: unknown;
  code?: unknown;
  params?: Record<string, string>;
  responseValue?: unknown;
}
