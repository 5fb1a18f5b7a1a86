/**
 * The kit's own logger when the host passes none: pino JSON lines on stdout,
 * the same shape as the engine's, so a function deployed alone logs alike.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = globalThis.process?.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'threefactor-handlers' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
