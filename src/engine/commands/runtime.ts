/**
 * Process lifecycle shared by every long-running command: config errors as
 * one line and exit code 2, SIGTERM/SIGINT drain with a deadline, and a
 * last-resort log line for anything unexpected. What a command starts is
 * usually one Runtime of services (src/engine/runtime/service.ts), stopped
 * here by the signal's deadline; with OpenTelemetry on, the SDK is started
 * before it and its spans flushed after it (src/engine/runtime/telemetry.ts).
 */
import type { App } from '../app.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import type { Service } from '../runtime/service.js';
import { startTelemetry } from '../runtime/telemetry.js';
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

  let running: Running | undefined;
  let telemetry: Service | undefined;
  // The drain's deadline counts from the signal, as the orchestrator's grace period does.
  let signalledAt: { signal: string; at: number } | undefined;
  let hardStop: NodeJS.Timeout | undefined;
  const armHardStop = () => {
    hardStop ??= setTimeout(() => {
      log.error('drain deadline exceeded; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 2_000);
    hardStop.unref();
  };
  // Installed before the start: a signal that lands mid-start (an orchestrator stopping a pod that is
  // still starting) would otherwise kill the process with the services started so far never stopped.
  // It is held until the start is over, then drains as any other.
  const onSignal = (signal: string) => {
    if (signalledAt) return;
    signalledAt = { signal, at: Date.now() };
    armHardStop();
    if (running) shutdown();
    else log.info({ signal }, 'signal while starting; draining once the start is over');
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    // First, so the process's first span is exported; stopped last, so its last one is too.
    telemetry = await startTelemetry(config, log, name);
    running = await start(config, log, app);
  } catch (err) {
    // One line naming the cause, as a config error reads; the stack only at LOG_LEVEL=debug.
    log.debug({ err }, `${name} failed to start`);
    fail(`${name} failed to start: ${startupErrorMessage(err)}`, 1);
  }

  function shutdown(): void {
    if (!running || !signalledAt) return;
    log.info({ signal: signalledAt.signal, deadlineMs: config.SHUTDOWN_TIMEOUT_MS }, 'draining');
    const deadline = signalledAt.at + config.SHUTDOWN_TIMEOUT_MS;
    const flushSpans = () => telemetry?.stop(deadline);
    running.stop(deadline).then(
      async () => {
        await flushSpans();
        log.info('stopped cleanly');
        process.exit(0);
      },
      async (err: unknown) => {
        log.error({ err }, 'error while draining');
        await flushSpans();
        process.exit(1);
      },
    );
  }
  shutdown();
}
