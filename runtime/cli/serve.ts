import { migrate } from '../../db';
import { createPlatformClient } from '../../plugins/tenancy';
import { errorResponse, requestState } from '../http';
import { authenticationError } from '../errors';
import {
  assertDataDirFree,
  LOCAL_BOOTSTRAP_PATH,
  LOCAL_TOKEN_HEADER,
  localTokenMatches,
  newLocalToken,
  publishLocalServer,
} from './local-server';
import { loadConfig } from '../config';
import { developmentFirstStart } from './bootstrap';
import { exitOnSignals, startServer } from '../server';
import { createAppFromServices, createServices, createServicesReconciler } from '../services';
import { startBackgroundWorkers } from '../workers';

/**
 * `nimbus serve [--migrate] [--no-worker]`: the API, with the delivery and
 * reconciliation worker in-process unless `--no-worker`. Migrations run at start in
 * development, elsewhere only with `--migrate` (production runs the migration Job).
 */
export async function serveCommand(flags: Set<string>): Promise<void> {
  const config = loadConfig();
  assertDataDirFree(config, 'serve');
  const services = createServices(config);
  if (config.env === 'development' || flags.has('--migrate')) await migrate(services.database);
  await developmentFirstStart(config, services.database);
  const workers = flags.has('--no-worker') ? [] : startBackgroundWorkers(services, { reconcilers: [createServicesReconciler(services)] });
  const embedded = !config.databaseUrl;
  const localToken = newLocalToken();
  const running = startServer(
    services,
    (isDraining) => {
      const app = createAppFromServices(services, isDraining);
      if (!embedded) return app;
      // `nimbus bootstrap` cannot open the embedded database while we hold it: it asks us.
      app.post(
        LOCAL_BOOTSTRAP_PATH,
        async ({ request }) => {
          if (!localTokenMatches(localToken, request.headers.get(LOCAL_TOKEN_HEADER))) {
            return errorResponse(authenticationError('token_invalid', 'Local bootstrap token required.'), requestState(request).id);
          }
          const client = await createPlatformClient(services.database, { name: 'Platform admin' });
          return { client_id: client.id, client_secret: client.secret, scopes: client.scopes };
        },
        { detail: { hide: true } },
      );
      return app;
    },
    workers,
  );
  if (!embedded) return exitOnSignals(running.shutdown);
  const unpublish = publishLocalServer(config, running.url, localToken);
  exitOnSignals((reason) => running.shutdown(reason).finally(unpublish));
}
