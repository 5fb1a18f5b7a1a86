/**
 * Logging: one JSON event stream on stdout (pino). Child loggers carry the
 * request id or component; secrets are redacted by path as a second line of
 * defence behind "never log them". Loggers are made from the validated
 * config (createLogger(config.LOG_LEVEL)): a logger made at import would
 * read LOG_LEVEL before it is checked, and crash on an unknown level.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { pid: process.pid, service: 'threefactor' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.password', '*.secret', 'token'],
      censor: '[redacted]',
    },
  });
}
