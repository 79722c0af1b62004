import { definePlugin } from '../../runtime/plugin';
import { bootstrapCommand, developmentFirstStart } from './cli';
import { tenancyRoutes } from './routes';

export { tenancyRoutes, type TenancyDeps } from './routes';
export { createPlatformClient, createTenant } from './service';
export { curlForToken } from './cli';

/** Tenants and their API clients, `nimbus bootstrap`, and the development first start. */
export const tenancy = definePlugin({
  name: 'tenancy',
  routes: (ctx) => tenancyRoutes(ctx),
  onStart: (ctx) => developmentFirstStart(ctx.config, ctx.database),
  commands: { bootstrap: bootstrapCommand },
});
