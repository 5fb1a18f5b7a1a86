/**
 * A function deployed alone with the kit, started with a LOG_LEVEL pino does
 * not know: it logs at info and says so in one JSON line, instead of dying
 * with pino's stack trace (a real child process, as a deployment starts it).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = `import { createLogger } from './src/kit/log.ts'; createLogger().info('still logging');`;

describe('the kit logger', () => {
  it('falls back to info on an unknown LOG_LEVEL, saying so in one line', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, LOG_LEVEL: 'verbose' },
    });
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.map((l) => l.msg)).toEqual(['LOG_LEVEL "verbose" is not one of fatal, error, warn, info, debug, trace, silent; logging at info', 'still logging']);
    expect(lines[0]!.level).toBe(40);
  });
});
