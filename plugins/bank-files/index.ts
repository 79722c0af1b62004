import { Elysia } from 'elysia';
import {
  BANK_FILES_ENV,
  BANK_FILES_ID,
  createBankFilesOperator,
  identifierProblems,
  type BankFilesCredentials,
  type BankTransport,
} from '../../processors/bank-files/index.ts';
import { ConfigError } from '../../runtime/config';
import type { PluginContext } from '../../runtime/plugin';
import { definePlugin } from '../../runtime/plugin';
import type { BackgroundWorker } from '../../runtime/server';
import { payments } from '../payments';
import { bankFilesRoutes } from './routes';
import { createBankFilesService, type BankFilesService } from './service';

export { createBankFilesService, type BankFilesService, type TickReport } from './service';

export type BankFilesPluginOptions = {
  /** Default: the outbox/inbox directories of the connector's settings. */
  transport?: BankTransport;
  /** Clock in ms, for tests. */
  now?: () => number;
  /** Run the worker loop (default true); tests call `tick()` instead. */
  autoStart?: boolean;
};

/**
 * The worker: every BANK_FILES_POLL_MS, one tick (due cut-offs, deliveries, status files
 * from the inbox, ACH settlement by the calendar, reversals). Ticks never overlap; a
 * failed tick is logged and the next one tries again.
 */
function bankFilesWorker(ctx: PluginContext, service: BankFilesService, pollMs: number): BackgroundWorker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    running = service
      .tick()
      .catch((error: unknown) => ctx.logger.error({ error: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message.slice(0, 200) : '' }, 'bank-files tick failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  timer = setTimeout(loop, 0);
  return {
    name: 'bank-files',
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * The bank-files plugin: what the bank-files connector needs besides requests (a
 * connector owns no routes and runs no loops). Inert when the connector is not
 * registered, so the composition root may always list it. List it after `payments`,
 * whose callback handler and refunds it uses.
 */
export function bankFilesPlugin(options: BankFilesPluginOptions = {}) {
  return definePlugin<BankFilesService | undefined>({
    name: 'bank-files',
    setup(ctx) {
      const processor = ctx.registry.processor(BANK_FILES_ID);
      if (!processor) return undefined;
      const credentials = processor.credentials as BankFilesCredentials;
      // Check digits a schema cannot check: a typo stops the start, not tomorrow's file.
      const [wrong] = identifierProblems(credentials);
      if (wrong) throw new ConfigError(BANK_FILES_ENV[wrong], 'has a wrong check digit.');
      const logger = ctx.logger.child({ component: 'bank-files' });
      const operator = createBankFilesOperator({ state: processor.state, credentials, logger, transport: options.transport, now: options.now });
      return createBankFilesService({ operator, payments: ctx.service(payments), database: ctx.database, logger });
    },
    routes: (ctx, service) => (service ? bankFilesRoutes({ ...ctx, service }) : new Elysia({ name: 'nimbus:bank-files' })),
    workers(ctx, service) {
      if (!service || options.autoStart === false) return [];
      return [bankFilesWorker(ctx, service, (ctx.registry.processor(BANK_FILES_ID)!.credentials as BankFilesCredentials).pollMs)];
    },
  });
}

/** The plugin as the composition root lists it. */
export const bankFiles = bankFilesPlugin();
