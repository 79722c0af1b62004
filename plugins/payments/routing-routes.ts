import type { TSchema } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { type ApiError, parameterInvalid, parameterMissing, parameterUnknown } from '../../runtime/errors';
import { explain, RawBody, requestState } from '../../runtime/http';
import { authGuard } from '../auth';
import type { PaymentsPluginDeps } from './index';
import { errorResponses, IdParams, routingSchemas } from './model';

const TAGS = ['Tenants'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The kernel's explainer stops at arrays (a bad rule would be reported as `rules`); this
 * walks the same schema into them, so each error names its element: `rules[0].method`,
 * `rules[2].processors[1]`. In field order: unknown, then missing, then invalid.
 */
export function explainDeep(schema: TSchema, value: unknown, param = ''): ApiError | undefined {
  const join = (key: string) => (param ? `${param}.${key}` : key);
  if (schema.type === 'array' && Array.isArray(value)) {
    const { minItems, maxItems } = schema as { minItems?: number; maxItems?: number };
    if ((minItems !== undefined && value.length < minItems) || (maxItems !== undefined && value.length > maxItems)) {
      const bounds =
        maxItems === undefined ? `at least ${minItems} items` : minItems ? `${minItems} to ${maxItems} items` : `at most ${maxItems} items`;
      return parameterInvalid(param, `${param} must have ${bounds}.`);
    }
    for (const [index, item] of value.entries()) {
      const problem = explainDeep(schema.items as TSchema, item, `${param}[${index}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (schema.type === 'object') {
    if (!isPlainObject(value)) return parameterInvalid(param || 'body', param ? `${param} must be an object.` : 'The request body must be a JSON object.');
    const properties = (schema.properties ?? {}) as Record<string, TSchema>;
    const unknown = Object.keys(value).find((key) => !(key in properties));
    if (unknown !== undefined && schema.additionalProperties === false) return parameterUnknown(join(unknown));
    const required = new Set<string>((schema.required as string[] | undefined) ?? []);
    for (const [key, property] of Object.entries(properties)) {
      if (value[key] === undefined) {
        if (required.has(key)) return parameterMissing(join(key));
        continue;
      }
      const problem = explainDeep(property, value[key], join(key));
      if (problem) return problem;
    }
    return undefined;
  }
  // Nullable(X) given something other than null: explain it as X, for X's message.
  const variants = schema.anyOf as TSchema[] | undefined;
  const nonNull = variants?.length === 2 && value !== null ? variants.find((variant) => variant.type !== 'null') : undefined;
  return explain(nonNull ?? schema, value, param ? [param] : []);
}

/**
 * `GET` and `PUT /v1/tenants/:id/routing` (API.md "Tenants and clients"): a tenant's
 * payment routing, managed by platform admins and read by support. PUT takes no
 * Idempotency-Key (it replaces the whole routing, so repeating it is harmless).
 */
export function routingRoutes(deps: PaymentsPluginDeps) {
  const { routing } = deps.service;
  const { RoutingBody, Routing } = routingSchemas(deps.registry);
  return new Elysia({ name: 'nimbus:payments:routing' })
    .use(authGuard(deps))
    .macro({
      // A macro listed after `scopes`, so it runs after authentication and scope (401 and
      // 403 come first) and before Elysia validates the body with its coarser `param`.
      explainRoutingBody: (enabled: boolean) => ({
        transform({ request, body }: { request: Request; body: unknown }) {
          // Not authenticated yet (hooks ran in another order): leave the body to Elysia.
          if (!enabled || !requestState(request).principal || body instanceof RawBody) return;
          const problem = explainDeep(RoutingBody, body);
          if (problem) throw problem;
        },
      }),
    })
    .get('/v1/tenants/:id/routing', ({ params }) => routing.retrieve(params.id), {
      scopes: ['platform:admin', 'platform:support'],
      params: IdParams,
      response: { 200: Routing, ...errorResponses(400, 401, 403, 404) },
      detail: {
        tags: TAGS,
        summary: "Retrieve a tenant's payment routing",
        operationId: 'getTenantRouting',
        description:
          'Platform admins and support (`platform:support` needs no `Nimbus-Tenant` header here). A tenant whose routing was ' +
          'never set answers `rules: []` and `updated_at: null`: its payments follow the deployment\'s processor order. ' +
          'An unknown tenant is 404 `resource_missing` (param `id`).',
      },
    })
    .put(
      '/v1/tenants/:id/routing',
      async ({ params, body, request }) => {
        const answer = await routing.replace(params.id, body.rules);
        requestState(request).audit = { action: 'tenant.routing.update', resourceId: params.id, tenantId: params.id };
        return answer;
      },
      {
        scopes: ['platform:admin'],
        explainRoutingBody: true,
        params: IdParams,
        body: RoutingBody,
        response: { 200: Routing, ...errorResponses(400, 401, 403, 404, 413) },
        detail: {
          tags: TAGS,
          summary: "Replace a tenant's payment routing",
          operationId: 'updateTenantRouting',
          description:
            'Replaces every rule (`rules: []` clears them). For each payment, the first rule matching its method (and currency, ' +
            'when the rule names one) gives the processors to try, in order, failing over only on retryable processor errors; ' +
            'processors the rule does not name are not tried. No matching rule: the deployment\'s order. A forced `processor` ' +
            'in a payment still wins. Rules apply when a payment is authorized (a payment created with `confirm: false` follows ' +
            'the rules in force at confirm). A currency-less rule whose processors take none of a payment\'s currency leaves ' +
            'that payment to the deployment\'s order. The replica that answers this request routes by the new rules at once; ' +
            'other replicas keep the rules they read for up to 5 seconds.\n\n' +
            'Refused with 400: at most 50 rules and 1 to 10 processors per rule (`parameter_invalid`, param `rules` or ' +
            '`rules[i].processors`); a method that is not registered (`parameter_invalid`, `rules[i].method`); a currency ' +
            'that is not supported (`currency_unsupported`, `rules[i].currency`); a rule that can never match because an ' +
            'earlier rule for the same method has no currency or the same one (`parameter_invalid`, `rules[i]`); a processor ' +
            'that is not registered, named twice in a rule, or does not take the method in the rule\'s currency (in any ' +
            'currency, for a rule without one) (`parameter_invalid`, `rules[i].processors[j]`); unknown fields ' +
            '(`parameter_unknown`). Checked before the tenant is looked up (404 `resource_missing`, param `id`). ' +
            'Audited as `tenant.routing.update` on the tenant. Not idempotency-keyed: repeating a PUT is harmless.',
        },
      },
    );
}
