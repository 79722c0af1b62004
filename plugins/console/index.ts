import { Elysia } from 'elysia';
import { definePlugin, type PluginContext } from '../../runtime/plugin';
import { paymentAttemptRoutes } from '../payments/attempts/routes';
import { auditSearchRoutes } from './api/audit-search';
import { healthRoutes } from './api/health';
import { paymentSearchRoutes } from './api/payments-search';
import { consolePages } from './page';

export { CONSOLE_CSP, CONSOLE_PATH } from './page';

/**
 * The support console's server side: the page at /console with its bundle, and the /v1
 * routes it reads that no other plugin serves (each usable without the console):
 * payment search and audit search across tenants, the health summary, and a payment's
 * processor attempts. The webhook routes it uses come with `webhookSupport`
 * (webhooks/support-routes.ts).
 */
export function consoleRoutes(ctx: PluginContext) {
  return (
    new Elysia({ name: 'nimbus:console' })
      // The attempts belong to the payments plugin (it records them); mounted here until its route list takes them.
      .use(paymentAttemptRoutes(ctx))
      .use(paymentSearchRoutes(ctx))
      .use(auditSearchRoutes(ctx))
      .use(healthRoutes({ ...ctx, processorIds: ctx.registry.processorIds, isDraining: () => ctx.isDraining() }))
      .use(consolePages(ctx))
  );
}

/** The support console plugin; list it after the plugins whose data it shows. */
export const supportConsole = definePlugin({ name: 'console', routes: (ctx) => consoleRoutes(ctx) });
