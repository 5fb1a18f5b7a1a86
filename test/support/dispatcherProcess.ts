/**
 * Runs the real `dispatch` command as a child process (runCommand: node +
 * tsx, the same entry point as production) for crash and scale-out tests:
 * SIGKILL it, SIGTERM it, run two at once.
 */
import { TEST_WEBHOOK_SECRET } from './events.js';
import { runCommand, type CommandProcess } from './processes.js';

export type DispatcherProcess = CommandProcess;

/** `env` overrides the defaults below; an undefined value unsets the variable. */
export function spawnDispatcher(env: Record<string, string | undefined>): DispatcherProcess {
  return runCommand(['dispatch'], {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    DISPATCH_POLL_MS: '200',
    DISPATCH_LEASE_MS: '1000',
    ...env,
  });
}

export const started = (line: Record<string, unknown>) => line.msg === 'dispatcher started';
