import { count } from 'drizzle-orm';
import { type Database, schema } from '../../db';
import type { Config } from '../../runtime/config';
import type { CommandSpec } from '../../runtime/plugin';
import { createPlatformClient, createTenant } from './service';

/** The ready-to-paste token request for a client. */
export function curlForToken(config: Config, clientId: string, clientSecret: string, scopes?: string): string {
  const scope = scopes ? ` -d 'scope=${scopes}'` : '';
  return `curl -s -u '${clientId}:${clientSecret}' -d grant_type=client_credentials${scope} ${config.issuer}/oauth/token`;
}

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

/**
 * `nimbus bootstrap [--json]`: creates a platform admin client (platform:admin and
 * platform:support). With --json the credentials are the only stdout line; logs go to
 * stderr so scripts can parse stdout. On the embedded database held by a running
 * `nimbus serve`, the server runs it (the CLI forwards it there).
 */
export const bootstrapCommand: CommandSpec<unknown> = {
  usage: 'bootstrap [--json]                create a platform admin client and print its credentials',
  flags: ['--json'],
  async run(ctx): Promise<PlatformCredentials> {
    const client = await createPlatformClient(ctx.database, { name: 'Platform admin' });
    ctx.logger.info({ client_id: client.id, scopes: client.scopes }, 'platform admin client created');
    return { client_id: client.id, client_secret: client.secret, scopes: client.scopes };
  },
  print(result, flags, config) {
    printCredentials(config, result as PlatformCredentials, flags.has('--json'));
  },
};

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
