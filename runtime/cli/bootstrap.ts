import { count } from 'drizzle-orm';
import { type Database, migrate, pendingMigrations, schema } from '../../db';
import { createPlatformClient, createTenant } from '../../plugins/tenancy';
import { type Config, loadConfig } from '../config';
import { createLogger } from '../logger';
import { createServices } from '../services';
import { LOCAL_BOOTSTRAP_PATH, LOCAL_TOKEN_HEADER, type LocalServerInfo, runningLocalServer } from './local-server';

/** The ready-to-paste token request for a client. */
export function curlForToken(config: Config, clientId: string, clientSecret: string, scopes?: string): string {
  const scope = scopes ? ` -d 'scope=${scopes}'` : '';
  return `curl -s -u '${clientId}:${clientSecret}' -d grant_type=client_credentials${scope} ${config.issuer}/oauth/token`;
}

/**
 * `nimbus bootstrap [--json]`: creates a platform admin client (platform:admin and
 * platform:support). With --json the credentials are the only stdout line; logs go to
 * stderr so scripts can parse stdout. Migrations are applied first in development;
 * elsewhere a database that is not migrated is an error (run `nimbus migrate`).
 */
interface PlatformCredentials {
  client_id: string;
  client_secret: string;
  scopes: readonly string[];
}

function printCredentials(config: Config, credentials: PlatformCredentials, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(credentials)}\n`);
    return;
  }
  process.stdout.write(
    [
      'Platform admin client created. The secret is shown only now: store it safely.',
      '',
      `  client_id:     ${credentials.client_id}`,
      `  client_secret: ${credentials.client_secret}`,
      `  scopes:        ${credentials.scopes.join(' ')}`,
      '',
      'Get a token:',
      `  ${curlForToken(config, credentials.client_id, credentials.client_secret)}`,
      '',
    ].join('\n'),
  );
}

/** Asks the running embedded server to create the client (see local-server.ts for why). */
async function bootstrapThroughServer(server: LocalServerInfo): Promise<PlatformCredentials> {
  const response = await fetch(`${server.url}${LOCAL_BOOTSTRAP_PATH}`, {
    method: 'POST',
    headers: { [LOCAL_TOKEN_HEADER]: server.token },
  });
  if (response.status !== 200) throw new Error(`the running server (pid ${server.pid}) refused the bootstrap: HTTP ${response.status}`);
  return (await response.json()) as PlatformCredentials;
}

/**
 * `nimbus bootstrap [--json]`: creates a platform admin client (platform:admin and
 * platform:support). With --json the credentials are the only stdout line; logs go to
 * stderr so scripts can parse stdout. Migrations are applied first in development;
 * elsewhere a database that is not migrated is an error (run `nimbus migrate`). On the
 * embedded database held by a running `nimbus serve`, the server creates the client.
 */
export async function bootstrapCommand(flags: Set<string>): Promise<void> {
  const config = loadConfig();
  const json = flags.has('--json');
  const server = runningLocalServer(config);
  if (server) {
    printCredentials(config, await bootstrapThroughServer(server), json);
    return;
  }
  const logger = createLogger({ level: config.logLevel, destination: process.stderr });
  const services = createServices(config, { logger });
  try {
    if (config.env === 'development') await migrate(services.database);
    else if ((await pendingMigrations(services.database)) > 0) {
      throw new Error('the database has pending migrations: run `nimbus migrate` first.');
    }
    const client = await createPlatformClient(services.database, { name: 'Platform admin' });
    printCredentials(config, { client_id: client.id, client_secret: client.secret, scopes: client.scopes }, json);
    logger.info({ client_id: client.id, scopes: client.scopes }, 'platform admin client created');
  } finally {
    await services.database.close();
  }
}

async function isEmpty(database: Database): Promise<boolean> {
  return database.system(async (tx) => {
    const [clients] = await tx.select({ n: count() }).from(schema.clients);
    const [tenants] = await tx.select({ n: count() }).from(schema.tenants);
    return Number(clients?.n ?? 0) === 0 && Number(tenants?.n ?? 0) === 0;
  });
}

/**
 * The development first start: on an empty database, creates a platform admin and a
 * demo tenant with its client, and prints both credentials and a ready curl. Prints to
 * stdout directly (never through the logger: secrets never reach a log line).
 */
export async function developmentFirstStart(config: Config, database: Database): Promise<void> {
  if (config.env !== 'development' || !(await isEmpty(database))) return;
  const admin = await createPlatformClient(database, { name: 'Platform admin' });
  const demo = await createTenant(database, { name: 'Demo tenant' });
  process.stdout.write(
    [
      '',
      'NimbusPay first start: created a platform admin and a demo tenant. Secrets are shown only now.',
      '',
      `  Platform admin   client_id=${admin.id}`,
      `                   client_secret=${admin.secret}`,
      `                   scopes=${admin.scopes.join(' ')}`,
      `  Demo tenant      tenant=${demo.id}`,
      `                   client_id=${demo.client.id}`,
      `                   client_secret=${demo.client.secret}`,
      `                   scopes=${demo.client.scopes.join(' ')}`,
      '',
      'Get a token for the demo tenant and make a first call:',
      `  TOKEN=$(${curlForToken(config, demo.client.id, demo.client.secret)} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
      `  curl -s -H "Authorization: Bearer $TOKEN" ${config.issuer}/v1/clients`,
      '',
    ].join('\n'),
  );
}
