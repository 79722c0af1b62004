import pino, { type Logger } from 'pino';
import { serializeError } from './log-errors';
import { createRedactor } from './log-redaction';

/**
 * Paths that may hold secrets, card data or tokens. pino replaces them before a line is
 * written, so a careless `log.info({ body })` still cannot leak a PAN or a secret.
 * Code should not log these at all; this is the safety net, not the policy.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'password',
  'secret',
  'client_secret',
  'access_token',
  'token',
  '*.authorization',
  '*.secret',
  '*.client_secret',
  '*.access_token',
  '*.token',
  '*.number',
  '*.cvc',
  '*.iban',
  '*.account_number',
  '*.*.number',
  '*.*.cvc',
  '*.*.iban',
  '*.*.account_number',
  'body',
  '*.body',
];

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture and scan them. */
  destination?: pino.DestinationStream;
}

const redact = createRedactor(REDACT_PATHS, '[redacted]');

export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'nimbuspay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // REDACT_PATHS through our compiled redactor (log-redaction.ts), on what a line logs
      // and on a child logger's bindings alike, rather than pino's `redact` option, which
      // re-parses every path for every line.
      // Errors are written without the values a failed query carried (log-errors.ts).
      serializers: { err: serializeError, error: serializeError, cause: serializeError },
      formatters: { level: (label) => ({ level: label }), log: redact, bindings: redact },
    },
    options.destination,
  );
  // pino applies `formatters.bindings` to the root's bindings only: children's go through here.
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redact(bindings), childOptions);
  } as typeof child;
  return logger;
}

/** A logger that writes nothing: the default for unit tests of modules that log. */
export const silentLogger: Logger = pino({ level: 'silent' });
