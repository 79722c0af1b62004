import type { AnyElysia } from 'elysia';
import type { Database } from '../db';
import type { Config } from './config';
import type { EventLog, EventSink } from './events';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { AnyRegistry } from './registry';
import type { BackgroundWorker } from './server';

export type Env = Readonly<Record<string, string | undefined>>;

/** What every plugin is built from: one per process, made by `createNimbus`. */
export interface PluginContext {
  readonly config: Config;
  readonly env: Env;
  readonly database: Database;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly registry: AnyRegistry;
  readonly events: EventLog;
  /** True while the process drains after SIGTERM (readiness answers 503). */
  isDraining(): boolean;
  /** The service another plugin's `setup` built; that plugin must be listed in the composition root. */
  service<S>(plugin: NimbusPlugin<S>): S;
}

/** A CLI command a plugin contributes (`nimbus <name>`). */
export interface CommandSpec<S> {
  /** One line for `nimbus help`. */
  usage: string;
  flags?: readonly string[];
  /** Does the work and returns a JSON-able result; on the embedded database a running server runs it. */
  run(ctx: PluginContext, service: S, flags: ReadonlySet<string>): Promise<unknown>;
  /** Prints the result for a person or a script (stdout, never the logger: results may hold secrets). */
  print(result: unknown, flags: ReadonlySet<string>, config: Config): void;
}

/**
 * A feature plugin: an Elysia route plugin plus whatever it runs beside requests. Every
 * part is optional; `setup` builds the plugin's service once per process, shared by its
 * routes, workers and commands (and by later plugins through `ctx.service`).
 */
export interface NimbusPlugin<S = unknown> {
  readonly name: string;
  setup?(ctx: PluginContext): S;
  routes?(ctx: PluginContext, service: S): AnyElysia;
  /** Serve these routes in `nimbus worker` too (health probes, metrics). */
  readonly workerRoutes?: boolean;
  /** Background loops, started by `serve` (unless --no-worker) and `worker`. */
  workers?(ctx: PluginContext, service: S): BackgroundWorker[];
  /** Work that must happen in the transaction of every recorded event (the webhook outbox). */
  readonly eventSinks?: readonly EventSink[];
  /** Runs once in `serve` after migrations, before listening (e.g. the development first start). */
  onStart?(ctx: PluginContext, service: S): Promise<void>;
  readonly commands?: Readonly<Record<string, CommandSpec<S>>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNimbusPlugin = NimbusPlugin<any>;

/** Declares a feature plugin (typed; frozen so a composition root cannot mutate it). */
export function definePlugin<S = undefined>(plugin: NimbusPlugin<S>): NimbusPlugin<S> {
  if (!/^[a-z][a-z0-9-]{1,39}$/.test(plugin.name)) throw new Error(`Plugin name '${plugin.name}' must be lowercase kebab-case.`);
  return Object.freeze(plugin);
}
