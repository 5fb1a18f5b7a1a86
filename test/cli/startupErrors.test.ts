/**
 * A process that cannot start says why in one short line, like a config
 * error, never with a stack trace or a JSON dump: an unknown LOG_LEVEL, a
 * database nobody listens for, and a database that does not exist, for
 * `start` and `migrate`, as real child processes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/engine/db/embedded.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { commandEnv, runCommand, type CommandProcess } from '../support/processes.js';

let db: TestDatabase;
let procs: CommandProcess[] = [];

beforeAll(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  procs = [];
});
afterAll(async () => {
  await db?.drop();
});

const env = (extra: Record<string, string>) => commandEnv(urlFor(db.name), extra);

/** Run a command that must fail: its exit code and every line it wrote (stdout and stderr). */
async function failing(command: string, extra: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const proc = runCommand([command], env(extra));
  procs.push(proc);
  const exited = await Promise.race([proc.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 45_000))]);
  if (!exited) throw new Error(`${command} is still running after 45 s; it should have failed. Log: ${JSON.stringify(proc.logs.slice(-3))}`);
  const stdout = proc.logs.map((l) => (typeof l.raw === 'string' ? l.raw : JSON.stringify(l)));
  return { code: exited.code, lines: [...stdout, ...proc.stderr().split('\n').filter((l) => l.trim())] };
}

function expectOneLine(result: { code: number | null; lines: string[] }, names: RegExp): void {
  expect(result.code, result.lines.join('\n')).not.toBe(0);
  expect(result.lines, 'exactly one line of output').toHaveLength(1);
  const [line] = result.lines as [string];
  expect(line.length, line).toBeLessThan(200);
  expect(line).toMatch(names);
  expect(line).not.toMatch(/\bat .*\(|\.ts:\d+|"stack"|^\{/);
}

describe('one line naming the cause', () => {
  for (const command of ['start', 'migrate']) {
    it(`${command}: an unknown LOG_LEVEL`, async () => {
      expectOneLine(await failing(command, { LOG_LEVEL: 'verbose' }), /LOG_LEVEL.*(fatal|trace|info)/);
    }, 60_000);

    it(`${command}: a database nobody listens for`, async () => {
      const port = await freePort();
      const result = await failing(command, { DATABASE_URL: `postgres://postgres:hunter2secret@127.0.0.1:${port}/app` });
      expectOneLine(result, /DATABASE_URL/);
      expect(result.lines[0]).toMatch(/refused/i);
      expect(result.lines[0]).toContain(`127.0.0.1:${port}`);
      expect(result.lines[0]).not.toMatch(/hunter2secret/);
    }, 60_000);

    it(`${command}: a database that does not exist`, async () => {
      const url = new URL(urlFor(db.name));
      url.pathname = '/tf_no_such_database';
      expectOneLine(await failing(command, { DATABASE_URL: url.toString() }), /DATABASE_URL.*"tf_no_such_database" does not exist|"tf_no_such_database" does not exist.*DATABASE_URL/);
    }, 60_000);
  }
});
