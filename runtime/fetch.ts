import { migrate } from '../db';
import { loadConfig } from './config';
import { createAppFromServices, createServices } from './services';

/**
 * A web-standard `(Request) => Promise<Response>` for runtimes other than Bun's own
 * server, e.g. `Deno.serve(await createFetchHandler())`.
 */
export async function createFetchHandler(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env);
  const services = createServices(config);
  if (config.env === 'development') await migrate(services.database);
  const app = createAppFromServices(services);
  return (request: Request) => app.fetch(request);
}
