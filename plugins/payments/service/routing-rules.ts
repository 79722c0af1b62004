import { eq } from 'drizzle-orm';
import { runStatement, schema, type Tx } from '../../../db';
import { invalidRequest, parameterInvalid, resourceMissing } from '../../../runtime/errors';
import type { Routing, RoutingRuleInput } from '../model';
import type { PaymentsContext } from './context';
import { isSupportedCurrency, SUPPORTED_CURRENCIES } from './currencies';
import type { ProcessorDirectory } from './routing';

/** A rule as stored and as routing reads it: `currency` null means any currency. */
export type RoutingRule = { method: string; currency: string | null; processors: string[] };

/** Whether a rule applies to a payment of this method and currency. */
export function ruleMatches(rule: RoutingRule, method: string, currency: string): boolean {
  return rule.method === method && (rule.currency === null || rule.currency === currency);
}

/**
 * Everything a rule set can be refused for beyond its JSON shape, in field order, with
 * the exact `param`. Checked against the registry at PUT time, so a saved rule never
 * names a processor that cannot take the payments it matches:
 * - `method`: a registered payment method type;
 * - `currency`: a supported currency (`currency_unsupported`, as for a payment);
 * - the rule must be reachable: an earlier rule for the same method with no currency,
 *   or with the same currency, would always match first (param `rules[i]`);
 * - each processor: registered, named once in the rule, and taking the method in the
 *   rule's currency (a rule with no currency: in at least one currency).
 */
export function validateRoutingRules(directory: ProcessorDirectory, rules: readonly RoutingRuleInput[]): RoutingRule[] {
  const accepted: RoutingRule[] = [];
  rules.forEach((input, i) => {
    const at = `rules[${i}]`;
    if (!directory.paymentMethod(input.method)) {
      throw parameterInvalid(`${at}.method`, `No such payment method: '${input.method}'.`);
    }
    const currency = input.currency ?? null;
    if (currency !== null && !isSupportedCurrency(currency)) {
      throw invalidRequest('currency_unsupported', `Unsupported currency. Use one of ${SUPPORTED_CURRENCIES.join(', ')} (uppercase).`, `${at}.currency`);
    }
    const shadow = accepted.findIndex((earlier) => earlier.method === input.method && (earlier.currency === null || earlier.currency === currency));
    if (shadow !== -1) {
      throw parameterInvalid(at, `${at} can never match: rules[${shadow}] matches every ${input.method} payment it would match and comes first.`);
    }
    const currencies = currency === null ? SUPPORTED_CURRENCIES : [currency];
    input.processors.forEach((id, j) => {
      const param = `${at}.processors[${j}]`;
      const processor = directory.processor(id);
      if (!processor) throw parameterInvalid(param, `No such processor: '${id}'.`);
      if (input.processors.indexOf(id) !== j) throw parameterInvalid(param, `Processor '${id}' is already listed in ${at}.`);
      if (!currencies.some((code) => processor.supportsPayment(input.method, code))) {
        throw parameterInvalid(param, `Processor '${id}' does not take ${input.method} payments${currency === null ? '' : ` in ${currency}`}.`);
      }
    });
    accepted.push({ method: input.method, currency, processors: [...input.processors] });
  });
  return accepted;
}

/** The rules routing applies to a payment, read in that tenant's transaction (row-level security holds). */
export async function tenantRoutingRules(tx: Tx, tenantId: string): Promise<RoutingRule[]> {
  const [row] = await runStatement(tx, 'select rules from tenant_routing where tenant_id = $1', [tenantId]);
  return (row?.rules as RoutingRule[] | undefined) ?? [];
}

/**
 * How long a replica routes by the rules it read last. A PUT through this process takes
 * effect at once (it forgets the tenant's entry); other replicas follow within this.
 */
export const ROUTING_RULES_TTL_MS = 5_000;

/**
 * Tenants' routing rules, read once per tenant and TTL instead of once per payment: a
 * payment's first transaction reads them (one more statement) only when this process
 * has no fresh copy.
 */
export function createRoutingCache(now: () => number = Date.now) {
  const entries = new Map<string, { rules: RoutingRule[]; until: number }>();
  return {
    /** Fresh rules, or undefined: then read them with `read` in the payment's first transaction. */
    cached(tenantId: string): RoutingRule[] | undefined {
      const entry = entries.get(tenantId);
      return entry && entry.until > now() ? entry.rules : undefined;
    },
    async read(tx: Tx, tenantId: string): Promise<RoutingRule[]> {
      const rules = await tenantRoutingRules(tx, tenantId);
      if (entries.size > 10_000) entries.delete(entries.keys().next().value!);
      entries.set(tenantId, { rules, until: now() + ROUTING_RULES_TTL_MS });
      return rules;
    },
    forget(tenantId: string): void {
      entries.delete(tenantId);
    },
  };
}

export type RoutingCache = ReturnType<typeof createRoutingCache>;

function routingResource(tenantId: string, row: { rules: RoutingRule[]; updatedAt: Date } | undefined): Routing {
  return { object: 'routing', tenant: tenantId, rules: row?.rules ?? [], updated_at: row?.updatedAt.toISOString() ?? null };
}

async function assertTenant(tx: Tx, tenantId: string): Promise<void> {
  const [tenant] = await tx.select({ id: schema.tenants.id }).from(schema.tenants).where(eq(schema.tenants.id, tenantId)).limit(1);
  if (!tenant) throw resourceMissing('tenant', tenantId, 'id');
}

/** A tenant's routing rules: read and replaced by platform admins, read by routing for every payment. */
export function createRoutingRules(ctx: Pick<PaymentsContext, 'database' | 'registry' | 'now' | 'routing'>) {
  const { database } = ctx;

  /** GET /v1/tenants/:id/routing: a tenant never configured has `rules: []` and `updated_at: null`. */
  function retrieve(tenantId: string): Promise<Routing> {
    return database.system(async (tx) => {
      await assertTenant(tx, tenantId);
      const [row] = await tx.select().from(schema.tenantRouting).where(eq(schema.tenantRouting.tenantId, tenantId)).limit(1);
      return routingResource(tenantId, row);
    });
  }

  /**
   * PUT /v1/tenants/:id/routing: replaces every rule (`[]` clears them, keeping when).
   * The rules are validated before the tenant is looked up (API.md: 400 before 404).
   */
  async function replace(tenantId: string, input: readonly RoutingRuleInput[]): Promise<Routing> {
    const rules = validateRoutingRules(ctx.registry, input);
    const now = ctx.now();
    return database.system(async (tx) => {
      await assertTenant(tx, tenantId);
      const [row] = await tx
        .insert(schema.tenantRouting)
        .values({ tenantId, rules, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({ target: schema.tenantRouting.tenantId, set: { rules, updatedAt: now } })
        .returning();
      return routingResource(tenantId, row);
    }).finally(() => ctx.routing.forget(tenantId));
  }

  return { retrieve, replace };
}

export type RoutingRules = ReturnType<typeof createRoutingRules>;
