/**
 * The kit's own logger when the host passes none: pino JSON lines on stdout,
 * the same shape as the engine's, so a function deployed alone logs alike.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(level: string = globalThis.process?.env.LOG_LEVEL ?? 'info'): Logger {
  // pino throws a stack trace at an unknown level; a function deployed alone logs at info and says why instead.
  const known = LEVELS.includes(level);
  const log = pino({
    level: known ? level : 'info',
    base: { service: 'threefactor-handlers' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  if (!known) log.warn(`LOG_LEVEL "${level.slice(0, 40)}" is not one of ${LEVELS.join(', ')}; logging at info`);
  return log;
}
