import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** Warnings raised before the logger exists, kept to be logged then; a bound, in case something loops. */
const MAX_HELD = 100;

export interface ProcessWarnings {
  /** Logs the warnings held so far, and every later one as it is raised. */
  logTo(logger: Pick<Logger, 'warn'>): void;
}

/**
 * Node prints process warnings (a deprecation, the AWS SDK's notice about Node versions) to stderr as loose lines
 * of text, which a pipeline reading the server's JSON log lines cannot parse. This replaces that printer: each
 * warning becomes one log line. Call it before anything that may warn; warnings raised until `logTo` are held.
 */
export function captureProcessWarnings(
  target: Pick<EventEmitter, 'on' | 'removeAllListeners'> = process,
): ProcessWarnings {
  const held: Error[] = [];
  let logger: Pick<Logger, 'warn'> | undefined;
  const log = (to: Pick<Logger, 'warn'>, warning: Error) => {
    const code = (warning as NodeJS.ErrnoException).code;
    to.warn(
      { warning: { name: warning.name, ...(code === undefined ? {} : { code }), message: warning.message } },
      'process warning',
    );
  };
  target.removeAllListeners('warning');
  target.on('warning', (warning: Error) => {
    if (logger !== undefined) log(logger, warning);
    else if (held.length < MAX_HELD) held.push(warning);
  });
  return {
    logTo(to) {
      logger = to;
      for (const warning of held.splice(0)) log(to, warning);
    },
  };
}
