import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../config';
import { type Logger, silentLogger } from '../logger';
import { createMemoryProcessorState, type ProcessorState } from './processor-state';

/**
 * The processor contract as the kernel sees it: enough to register a connector, bind its
 * credentials from the environment and route payments to it. The operations themselves
 * (authorize, capture, ...) and the call wrapper are the processor SDK's
 * (processors/sdk), which builds on this file.
 */

/** Used in URLs (`/v1/processors/:id/webhooks`) and as a metric label: short and plain. */
export const ProcessorId = Type.String({ pattern: '^[a-z][a-z0-9_-]{1,39}$' });

const Currencies = Type.Array(Type.String({ pattern: '^[A-Z]{3}$' }), { minItems: 1, uniqueItems: true });

export const Supports = Type.Object({
  /** Payment method types (`card`, `sepa_debit`), or `*` for every registered method. */
  methods: Type.Array(Type.String({ pattern: '^([a-z][a-z0-9_]{1,39}|\\*)$' }), { minItems: 1, uniqueItems: true }),
  /** The currencies of every method not named in `currenciesByMethod`. */
  currencies: Currencies,
  /**
   * Currencies for one method that differ from `currencies` (a bank-file connector takes
   * `sepa_debit` in EUR and `bank_transfer` in USD, never the other way round). Each key
   * is one of `methods`.
   */
  currenciesByMethod: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' }), Currencies)),
});
export type Supports = Static<typeof Supports>;

/** A processor definition or its credentials are wrong: thrown at start, never per request. */
export class ProcessorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessorConfigError';
  }
}

/** What the registry needs of a connector definition; `defineProcessor` returns a superset. */
export interface ProcessorContract<Id extends string = string, C extends TSchema = TSchema> {
  readonly id: Id;
  readonly displayName: string;
  readonly supports: Supports;
  /** TypeBox schema of the credentials (and settings), checked once at start. */
  readonly credentials: C;
  /**
   * Which environment variable feeds which credential field, e.g.
   * `{ secretKey: 'STRIPE_SECRET_KEY' }`. Values are converted to the schema's types
   * (numbers, booleans) and an invalid one stops the start naming the variable.
   */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** A test double (the simulator): production refuses to run on test doubles alone. */
  readonly testOnly?: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly parseWebhook?: (request: Request, ctx: any) => Promise<unknown>;
}

/** Where a connector that pushes callbacks in-process (a simulator, a test double) sends them. */
export type CallbackSink = (processorId: string, request: Request) => Promise<void>;

/** A processor with validated credentials, ready to be called through the SDK's call wrapper. */
export type RegisteredProcessor<D extends ProcessorContract = ProcessorContract> = {
  readonly id: D['id'];
  readonly displayName: string;
  readonly supports: Supports;
  readonly timeoutMs: number;
  readonly definition: D;
  readonly credentials: Static<D['credentials']>;
  /** True when the processor sends callbacks (has `parseWebhook`). */
  readonly acceptsWebhooks: boolean;
  /** In-process callback channel of this deployment (the app's own callback route). */
  readonly deliverCallback?: (request: Request) => Promise<void>;
  /** The connector's own durable state (PostgreSQL in a deployment, memory in unit tests). */
  readonly state: ProcessorState;
  /** Whether routing may send this method type in this currency here. */
  supportsPayment(method: string, currency: string): boolean;
  /**
   * Verifies and normalises a callback with the connector's `parseWebhook`. Throws what
   * the connector throws for a bad signature, and `ProcessorConfigError` when the
   * processor takes no callbacks (check `acceptsWebhooks` first: the route answers 404).
   */
  parseWebhook(request: Request, logger?: Logger): Promise<unknown>;
};

function schemaProblems(schema: TSchema, value: unknown): string {
  // Paths and TypeBox messages only: credential values are secrets.
  return [...Value.Errors(schema, value)]
    .slice(0, 5)
    .map((error) => `${error.path || '/'} ${error.message}`)
    .join('; ');
}

/** Checks the declaration itself (id shape, supports, timeout); throws at start. */
export function assertProcessorDeclaration(spec: { id: string; supports: unknown; timeoutMs: number }): void {
  if (!Value.Check(ProcessorId, spec.id)) {
    throw new ProcessorConfigError(`Processor id '${spec.id}' must match ${ProcessorId.pattern}.`);
  }
  if (!Value.Check(Supports, spec.supports)) {
    throw new ProcessorConfigError(`Processor '${spec.id}': invalid supports: ${schemaProblems(Supports, spec.supports)}.`);
  }
  const { methods, currenciesByMethod = {} } = spec.supports as Supports;
  const undeclared = Object.keys(currenciesByMethod).filter((method) => !methods.includes('*') && !methods.includes(method));
  if (undeclared.length > 0) {
    throw new ProcessorConfigError(`Processor '${spec.id}': supports.currenciesByMethod names ${undeclared.join(', ')}, not among its methods.`);
  }
  if (!Number.isInteger(spec.timeoutMs) || spec.timeoutMs < 1) {
    throw new ProcessorConfigError(`Processor '${spec.id}': timeoutMs must be a positive integer.`);
  }
}

/**
 * The credentials a connector declares through `env`, read from the environment. A bad
 * value is a {@link ConfigError} naming the variable (never its value: it is a secret).
 */
export function credentialsFromEnv(definition: ProcessorContract, env: Record<string, string | undefined>): unknown {
  const fields = definition.env ?? {};
  const raw: Record<string, unknown> = {};
  for (const [field, variable] of Object.entries(fields)) {
    const value = env[variable]?.trim();
    if (value) raw[field] = value;
  }
  const converted = Value.Convert(definition.credentials, Value.Default(definition.credentials, raw));
  const [error] = [...Value.Errors(definition.credentials, converted)];
  if (!error) return converted;
  const field = error.path.split('/')[1] ?? '';
  const variable = fields[field];
  if (variable) throw new ConfigError(variable, `invalid for processor '${definition.id}': ${error.message}.`);
  throw new ProcessorConfigError(`Invalid credentials for processor '${definition.id}': ${schemaProblems(definition.credentials, converted)}.`);
}

/**
 * Binds credentials to a definition after checking them against its schema. Throws
 * {@link ProcessorConfigError} naming the processor and the failing paths (never values).
 */
export function configureProcessor<D extends ProcessorContract>(
  definition: D,
  credentials: unknown,
  options: { deliverCallback?: CallbackSink; state?: ProcessorState } = {},
): RegisteredProcessor<D> {
  if (!Value.Check(definition.credentials, credentials)) {
    throw new ProcessorConfigError(
      `Invalid credentials for processor '${definition.id}': ${schemaProblems(definition.credentials, credentials)}.`,
    );
  }
  const bound = credentials as Static<D['credentials']>;
  const sink = options.deliverCallback;
  const methods = new Set(definition.supports.methods);
  const byMethod = definition.supports.currenciesByMethod ?? {};
  return Object.freeze({
    id: definition.id,
    displayName: definition.displayName,
    supports: definition.supports,
    timeoutMs: definition.timeoutMs,
    definition,
    credentials: bound,
    acceptsWebhooks: typeof definition.parseWebhook === 'function',
    deliverCallback: sink ? (request: Request) => sink(definition.id, request) : undefined,
    state: options.state ?? createMemoryProcessorState(),
    supportsPayment(method: string, currency: string): boolean {
      if (!methods.has('*') && !methods.has(method)) return false;
      const currencies = Object.hasOwn(byMethod, method) ? byMethod[method]! : definition.supports.currencies;
      return currencies.includes(currency.toUpperCase());
    },
    async parseWebhook(request: Request, logger: Logger = silentLogger): Promise<unknown> {
      if (!definition.parseWebhook) throw new ProcessorConfigError(`Processor '${definition.id}' takes no callbacks.`);
      return definition.parseWebhook(request, { credentials: bound, logger });
    },
  });
}
