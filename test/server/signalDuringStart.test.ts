/**
 * A SIGTERM that lands while the process is still starting (migrations run,
 * some services up, others not yet) drains what started and exits 0, as one
 * after the start does: an orchestrator that stops a pod mid-start must not
 * leave it killed by the signal with its services never stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { commandEnv, runCommand, stopProcess, type CommandProcess } from '../support/processes.js';

let db: TestDatabase;
let proc: CommandProcess | undefined;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await stopProcess(proc, 'SIGKILL', 0);
  await db?.drop();
});

describe('SIGTERM during start', () => {
  it('drains the services started so far and exits 0 once the start is over', async () => {
    proc = runCommand(['start'], commandEnv(urlFor(db.name), { ALL_IN_ONE: 'true', SEED_DEMO_DATA: 'true', WEBHOOK_SECRET: `whsec_${Buffer.from('signal-during-start-secret-32by!').toString('base64')}` }));
    // The runtime's first service is up; the hub, the API and the dispatcher are still to start.
    await proc.waitForLog((l) => l.msg === 'service started' && l.serviceName === 'database', 30_000);
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    expect(exit, proc.stderr().slice(-1000)).toEqual({ code: 0, signal: null });
    const messages = proc.logs.map((l) => l.msg);
    expect(messages).toContain('draining');
    expect(messages).toContain('stopped cleanly');
  }, 60_000);
});
