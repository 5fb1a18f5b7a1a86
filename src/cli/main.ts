#!/usr/bin/env node
/**
 * The `threefactor` command line: one entry point, one subcommand per job.
 * The engine's process commands (start, dispatch, migrate) run for the app
 * that APP names (src/engine/commands/run.ts, as any app's own main would);
 * the rest are the CLI's own. Each is loaded on demand.
 */
import { ENGINE_COMMANDS, runCommand, type EngineCommand } from '../engine/commands/run.js';
import { fail, readConfig } from '../engine/commands/runtime.js';
import { startupErrorMessage } from '../engine/commands/startupError.js';
import { loadApp } from './apps.js';

type Command = { describe: string; run: (args: string[]) => Promise<void> };

const forApp = (command: EngineCommand): Command => ({
  describe: ENGINE_COMMANDS[command],
  run: async () => runCommand(command, await loadApp(readConfig().APP)),
});

const commands: Record<string, Command> = {
  start: forApp('start'),
  dispatch: forApp('dispatch'),
  migrate: forApp('migrate'),
  seed: { describe: 'load demo restaurants, menus, drivers and customers', run: async () => (await import('./seed.js')).seed() },
  handlers: { describe: 'serve the handler functions over signed webhooks (HANDLERS, HANDLERS_PORT)', run: async () => (await import('./handlers.js')).handlers() },
  token: { describe: 'mint a JWT: token <role> [id|name]', run: async (args) => (await import('./token.js')).token(args) },
  'schema:print': { describe: 'write the printed SDL: schema/schema.graphql (the app), schema/engine.graphql (APP=none)', run: async (args) => (await import('./schemaPrint.js')).schemaPrint(args) },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return ['usage: threefactor <command> [args]', '', ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.describe}`)].join('\n');
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === 'help' || name === '--help') {
  process.stdout.write(`${usage()}\n`);
} else {
  const command = commands[name];
  if (!command) fail(`unknown command "${name}"\n${usage()}`);
  try {
    await command.run(args);
  } catch (err) {
    // An operator sees one line; LOG_LEVEL=debug (or trace) shows the stack.
    if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') console.error(err);
    fail(`${name} failed: ${startupErrorMessage(err)}`, 1);
  }
}
