import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Secrets should never reach a log call at all;
 * this list is the second line of defence, and a test asserts that no secret shows in any line.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-amz-security-token"]',
  'res.headers["set-cookie"]',
  '*.secretAccessKey',
  '*.SecretAccessKey',
  '*.sessionToken',
  '*.SessionToken',
  '*.token',
  '*.password',
  '*.credentials',
  '*.masterCredentials',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      base: { service: 'rolegate' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
