import pino, { type Logger } from 'pino';
import { serializeError } from './log-errors';

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

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'nimbuspay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Errors are written without the values a failed query carried (log-errors.ts).
      serializers: { err: serializeError, error: serializeError, cause: serializeError },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

/** A logger that writes nothing: the default for unit tests of modules that log. */
export const silentLogger: Logger = pino({ level: 'silent' });
