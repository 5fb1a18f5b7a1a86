/**
 * Process lifecycle shared by every long-running command: config errors as
 * one line and exit code 2, SIGTERM/SIGINT drain with a deadline, and a
 * last-resort log line for anything unexpected. What a command starts is
 * usually one Runtime of services (src/engine/runtime/service.ts), stopped
 * here by the signal's deadline.
 */
import type { App } from '../app.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import { startupErrorMessage } from './startupError.js';

export interface Running {
  /** Drain and release everything by `deadline` (epoch ms: the signal plus SHUTDOWN_TIMEOUT_MS). */
  stop(deadline: number): Promise<void>;
}

/** Print one clear line and exit; never a stack trace for an operator error. */
export function fail(message: string, code = 2): never {
  process.stderr.write(`threefactor: ${message}\n`);
  process.exit(code);
}

export function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

export async function runService(
  name: string,
  app: App | undefined,
  start: (config: Config, log: Logger, app: App | undefined) => Promise<Running>,
): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.LOG_LEVEL).child({ process: name });
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));

  let running: Running;
  try {
    running = await start(config, log, app);
  } catch (err) {
    // One line naming the cause, as a config error reads; the stack only at LOG_LEVEL=debug.
    log.debug({ err }, `${name} failed to start`);
    fail(`${name} failed to start: ${startupErrorMessage(err)}`, 1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, deadlineMs: config.SHUTDOWN_TIMEOUT_MS }, 'draining');
    const hardStop = setTimeout(() => {
      log.error('drain deadline exceeded; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 2_000);
    hardStop.unref();
    running.stop(Date.now() + config.SHUTDOWN_TIMEOUT_MS).then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while draining');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
