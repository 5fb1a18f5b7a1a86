/**
 * `run(app)`: an app's own entry point runs the engine's process commands
 * for it, `start` (the API; with ALL_IN_ONE also the dispatcher), `dispatch`
 * and `migrate`, chosen by the first argument:
 *
 *   // my-app/main.ts
 *   import { run } from 'threefactor/engine';
 *   await run(myApp);               // node --import tsx my-app/main.ts start
 *
 * `src/cli/main.ts` does the same for the app that APP names, beside the
 * commands of its own (seed, token, handlers, schema:print).
 */
import type { App } from '../app.js';
import { fail } from './runtime.js';
import { startupErrorMessage } from './startupError.js';

export const ENGINE_COMMANDS = {
  start: 'run the API server (GraphQL over HTTP, SSE and WebSocket)',
  dispatch: 'run a dispatcher: deliver events to triggers (webhooks), with retries',
  migrate: 'apply pending database migrations (the engine\'s, then the app\'s) and exit',
} as const;
export type EngineCommand = keyof typeof ENGINE_COMMANDS;

export function isEngineCommand(name: string): name is EngineCommand {
  return Object.hasOwn(ENGINE_COMMANDS, name);
}

export async function runCommand(command: EngineCommand, app: App | undefined): Promise<void> {
  switch (command) {
    case 'start':
      return (await import('./start.js')).start(app);
    case 'dispatch':
      return (await import('./dispatch.js')).dispatch(app);
    case 'migrate':
      return (await import('./migrate.js')).migrate(app);
  }
}

export async function run(app: App | undefined, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const [command] = argv;
  if (!command || !isEngineCommand(command)) {
    fail(`usage: <command>, one of: ${Object.entries(ENGINE_COMMANDS).map(([name, what]) => `${name} (${what})`).join('; ')}`);
  }
  try {
    await runCommand(command, app);
  } catch (err) {
    // As src/cli/main.ts does: one line for the operator (`migrate` on an unreachable database, say).
    fail(`${command} failed: ${startupErrorMessage(err)}`, 1);
  }
}
