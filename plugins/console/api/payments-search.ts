import { Type } from '@sinclair/typebox';
import { and, eq, gte, lte, or, type SQL, sql } from 'drizzle-orm';
import { Elysia } from 'elysia';
import { type Database, schema } from '../../../db';
import type { Config } from '../../../runtime/config';
import { parameterInvalid } from '../../../runtime/errors';
import type { Logger } from '../../../runtime/logger';
import { listPage, listParams } from '../../../runtime/pagination';
import type { AnyRegistry } from '../../../runtime/registry';
import { authGuard } from '../../auth';
import { PAYMENT_STATUSES, paymentSchemas } from '../../payments/model';
import { paymentResource, type PaymentRow } from '../../payments/service';
import { errorResponses } from '../../tenancy/model';
import { SearchPaymentsQuery } from './model';

const FILTERS = ['tenant', 'status', 'method', 'processor', 'currency', 'amount_gte', 'amount_lte', 'q'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function amount(filters: Filters, name: 'amount_gte' | 'amount_lte'): number | undefined {
  const raw = filters[name];
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw parameterInvalid(name, `${name} must be a whole number of minor units.`);
  return Number(raw);
}

/**
 * `q` finds a payment the way support is asked about it: by its id, by the processor's
 * reference (what a processor's dashboard shows), or by a merchant's metadata value
 * (an order number), optionally naming the key (`order_id=1234`).
 */
function textMatch(q: string): SQL {
  const p = schema.payments;
  if (/^pay_[A-Za-z0-9]+$/.test(q)) return eq(p.id, q);
  const split = q.indexOf('=');
  if (split > 0) {
    const key = q.slice(0, split);
    const value = q.slice(split + 1);
    return sql`${p.metadata} ->> ${key} = ${value}`;
  }
  return or(eq(p.processorReference, q), sql`exists (select 1 from jsonb_each_text(${p.metadata}) as m where m.value = ${q})`)!;
}

/** The WHERE of a search, from already typed query strings; a bad value is 400 naming its parameter. */
export function searchFilters(filters: Filters): { scope?: SQL; filters: SQL[] } {
  const p = schema.payments;
  const conditions: SQL[] = [];
  if (filters.status !== undefined) {
    if (!(PAYMENT_STATUSES as readonly string[]).includes(filters.status)) {
      throw parameterInvalid('status', `status must be one of: ${PAYMENT_STATUSES.join(', ')}.`);
    }
    conditions.push(eq(p.status, filters.status));
  }
  if (filters.method !== undefined) conditions.push(eq(p.methodType, filters.method));
  if (filters.processor !== undefined) conditions.push(eq(p.processor, filters.processor));
  if (filters.currency !== undefined) conditions.push(eq(p.currency, filters.currency));
  const min = amount(filters, 'amount_gte');
  const max = amount(filters, 'amount_lte');
  if (min !== undefined) conditions.push(gte(p.amount, min));
  if (max !== undefined) conditions.push(lte(p.amount, max));
  if (filters.q !== undefined) conditions.push(textMatch(filters.q));
  return { scope: filters.tenant === undefined ? undefined : eq(p.tenantId, filters.tenant), filters: conditions };
}

/**
 * `GET /v1/support/payments`: payments across tenants for `platform:support`, with the
 * filters support needs and the usual cursor paging. A platform route (no
 * Nimbus-Tenant): the tenant is a filter here, and each payment names its tenant.
 */
export function paymentSearchRoutes(deps: { config: Config; database: Database; logger: Logger; registry: AnyRegistry }) {
  const { Payment } = paymentSchemas(deps.registry);
  const TenantPayment = Type.Composite([Payment, Type.Object({ tenant: Type.String({ pattern: '^ten_', description: 'The tenant that owns the payment.' }) })], {
    description: 'A payment, as GET /v1/payments/:id shows it, with its tenant.',
  });
  return new Elysia({ name: 'nimbus:console:payment-search' })
    .use(authGuard(deps))
    .get(
      '/v1/support/payments',
      async ({ query }) => {
        const params = listParams(query, FILTERS);
        const where = searchFilters(query as Filters);
        const page = await deps.database.system((tx) => listPage<PaymentRow>(tx, schema.payments, { params, ...where, kind: 'payment' }));
        return { object: 'list' as const, data: page.rows.map((row) => ({ ...paymentResource(row), tenant: row.tenantId })), has_more: page.hasMore };
      },
      {
        scopes: ['platform:support'],
        query: SearchPaymentsQuery,
        response: {
          200: Type.Object({ object: Type.Literal('list'), data: Type.Array(TenantPayment), has_more: Type.Boolean() }),
          ...errorResponses(400, 401, 403, 404),
        },
        detail: {
          tags: ['Support'],
          summary: 'Search payments across tenants (platform support)',
          operationId: 'searchPayments',
          description:
            'Newest first, with cursor paging as every list. Filters combine: `tenant`, `status`, `method`, `processor`, `currency`, ' +
            '`amount_gte`/`amount_lte` (minor units), `created_gte`/`created_lte`, and `q` (payment id, processor reference, or metadata ' +
            'value, `key=value` for one key). `platform:support` only: a platform route, so no Nimbus-Tenant header; each payment names ' +
            'its `tenant`. Card data appears only as the payment object shows it (brand, last4, expiry, fingerprint).',
        },
      },
    );
}
