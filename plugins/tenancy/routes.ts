import { Elysia } from 'elysia';
import type { Database } from '../../db';
import type { Config } from '../../runtime/config';
import { requestState } from '../../runtime/http';
import type { Logger } from '../../runtime/logger';
import { authGuard, tenantOf } from '../auth';
import {
  Client,
  ClientWithSecret,
  CreateClientBody,
  CreateTenantBody,
  DeletedClient,
  errorResponses,
  IdParams,
  ListQuery,
  listOf,
  Tenant,
  TenantWithClient,
} from './model';
import { listParams } from '../../runtime/pagination';
import { createClient, createTenant, getTenant, listClients, listTenants, revokeClient, rotateClientSecret } from './service';

export interface TenancyDeps {
  config: Config;
  database: Database;
  logger: Logger;
}

/** `/v1/tenants` (platform) and `/v1/clients` (tenant admin), API.md "Tenants and clients". */
export function tenancyRoutes(deps: TenancyDeps) {
  const { database } = deps;
  return new Elysia({ name: 'nimbus:tenancy' })
    .use(authGuard(deps))
    .post(
      '/v1/tenants',
      async ({ body, set, request }) => {
        const tenant = await createTenant(database, body);
        // Recorded on the new tenant, so its own admins see who created it.
        requestState(request).audit = { action: 'tenant.create', resourceId: tenant.id, tenantId: tenant.id };
        set.status = 201;
        return tenant;
      },
      {
        scopes: ['platform:admin'],
        body: CreateTenantBody,
        response: { 201: TenantWithClient, ...errorResponses(400, 401, 403, 409, 413, 422) },
        detail: {
          tags: ['Tenants'],
          summary: 'Create a tenant with its first client',
          operationId: 'createTenant',
          description: 'The first client holds every tenant scope. Its `secret` is shown only in this answer and stored only as a slow hash.',
        },
      },
    )
    .get(
      '/v1/tenants',
      async ({ query }) => {
        const page = await listTenants(database, listParams(query));
        return { object: 'list' as const, data: page.data, has_more: page.hasMore };
      },
      {
        scopes: ['platform:admin', 'platform:support'],
        query: ListQuery,
        response: { 200: listOf(Tenant), ...errorResponses(400, 401, 403, 404) },
        detail: { tags: ['Tenants'], summary: 'List tenants, newest first', operationId: 'listTenants' },
      },
    )
    .get('/v1/tenants/:id', ({ params }) => getTenant(database, params.id), {
      scopes: ['platform:admin', 'platform:support'],
      params: IdParams,
      response: { 200: Tenant, ...errorResponses(400, 401, 403, 404) },
      detail: { tags: ['Tenants'], summary: 'Retrieve a tenant', operationId: 'getTenant' },
    })
    .post(
      '/v1/clients',
      async ({ body, set, request }) => {
        const client = await createClient(database, tenantOf(request), body);
        set.status = 201;
        return client;
      },
      {
        scopes: ['clients:write'],
        body: CreateClientBody,
        response: { 201: ClientWithSecret, ...errorResponses(400, 401, 403, 409, 413, 422) },
        detail: {
          tags: ['Clients'],
          summary: 'Create an API client',
          operationId: 'createClient',
          description: 'Tenant scopes only (a platform scope is 400 parameter_invalid, param `scopes`). The `secret` is shown only here and after rotation.',
        },
      },
    )
    .get(
      '/v1/clients',
      async ({ query, request }) => {
        const page = await listClients(database, tenantOf(request), listParams(query));
        return { object: 'list' as const, data: page.data, has_more: page.hasMore };
      },
      {
        scopes: ['clients:write'],
        query: ListQuery,
        response: { 200: listOf(Client), ...errorResponses(400, 401, 403, 404) },
        detail: { tags: ['Clients'], summary: 'List active API clients, newest first', operationId: 'listClients' },
      },
    )
    .delete('/v1/clients/:id', ({ params, request }) => revokeClient(database, tenantOf(request), params.id), {
      scopes: ['clients:write'],
      params: IdParams,
      response: { 200: DeletedClient, ...errorResponses(400, 401, 403, 404, 413) },
      detail: {
        tags: ['Clients'],
        summary: 'Revoke an API client',
        operationId: 'revokeClient',
        description: 'New tokens are refused at once; tokens already issued stop working within seconds, at most within the token lifetime.',
      },
    })
    .post('/v1/clients/:id/rotate_secret', ({ params, request }) => rotateClientSecret(database, tenantOf(request), params.id), {
      scopes: ['clients:write'],
      params: IdParams,
      response: { 200: ClientWithSecret, ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
      detail: {
        tags: ['Clients'],
        summary: 'Rotate a client secret',
        operationId: 'rotateClientSecret',
        description: 'Answers the client with its new `secret`; the old secret stops working at once. Issued tokens stay valid until they expire.',
      },
    });
}
