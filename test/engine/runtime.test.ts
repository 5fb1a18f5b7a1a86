/**
 * The Runtime's one lifecycle: services start in order and stop in reverse
 * with one shared deadline; a failed start stops what had started; a stop
 * that hangs or throws is logged and passed over, and the rest still stop
 * by the deadline (plus a small margin).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/engine/lib.js';
import { Runtime, type Service } from '../../src/engine/runtime/service.js';

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** Services that record what happens to them in one shared journal. */
function journal() {
  const entries: string[] = [];
  const deadlines: number[] = [];
  const service = (name: string, behaviour: { start?: () => Promise<void>; stop?: () => Promise<void> } = {}): Service => ({
    name,
    async start() {
      entries.push(`start ${name}`);
      await behaviour.start?.();
    },
    async stop(deadline) {
      entries.push(`stop ${name}`);
      deadlines.push(deadline);
      await behaviour.stop?.();
      entries.push(`stopped ${name}`);
    },
  });
  return { entries, deadlines, service };
}

describe('Runtime', () => {
  it('starts services in order and stops them in reverse, each given the same deadline', async () => {
    const j = journal();
    const { log, lines } = capturedLog();
    const runtime = new Runtime('test', [j.service('database'), j.service('api', { stop: () => sleep(20) }), j.service('dispatcher')], log);
    await runtime.start();
    expect(j.entries).toEqual(['start database', 'start api', 'start dispatcher']);
    const deadline = Date.now() + 5_000;
    await runtime.stop(deadline);
    expect(j.entries.slice(3)).toEqual(['stop dispatcher', 'stopped dispatcher', 'stop api', 'stopped api', 'stop database', 'stopped database']);
    expect(j.deadlines).toEqual([deadline, deadline, deadline]);
    expect(lines.filter((l) => l.msg === 'service stopped').map((l) => l.serviceName)).toEqual(['dispatcher', 'api', 'database']);
    expect(lines.every((l) => l.runtime === 'test')).toBe(true);
    // Idempotent: a second stop neither stops anything again nor fails.
    await runtime.stop(Date.now() + 5_000);
    expect(j.entries).toHaveLength(9);
  });

  it('when a service fails to start, stops the ones started (in reverse), starts no more, and rethrows its error', async () => {
    const j = journal();
    const { log, lines } = capturedLog();
    const refused = new Error('port in use');
    const runtime = new Runtime(
      'test',
      [j.service('database'), j.service('hub'), j.service('api', { start: () => Promise.reject(refused) }), j.service('dispatcher')],
      log,
    );
    await expect(runtime.start()).rejects.toBe(refused);
    expect(j.entries).toEqual(['start database', 'start hub', 'start api', 'stop hub', 'stopped hub', 'stop database', 'stopped database']);
    expect(lines.find((l) => l.msg === 'service failed to start; stopping the ones started')).toMatchObject({ serviceName: 'api', err: 'port in use' });
    // Nothing is left to stop.
    await runtime.stop(Date.now() + 1_000);
    expect(j.entries).toHaveLength(7);
  });

  it('goes on past a stop that hangs: the services before it still stop, by the deadline plus a small margin, and stop() rejects naming it', async () => {
    const j = journal();
    const { log, lines } = capturedLog();
    const runtime = new Runtime(
      'test',
      [j.service('database'), j.service('completer', { stop: () => sleep(60) }), j.service('stuck', { stop: () => new Promise<never>(() => {}) }), j.service('claims')],
      log,
    );
    await runtime.start();
    const deadline = Date.now() + 300;
    await expect(runtime.stop(deadline)).rejects.toThrow('test: stuck did not stop by the deadline; completer did not stop by the deadline');
    const overBy = Date.now() - deadline;
    // Everything after the stuck one was still stopped: the completer's stop needed time past the deadline and
    // was given none, so it is reported too; the database's needs no I/O and finished.
    expect(j.entries.slice(4)).toEqual(['stop claims', 'stopped claims', 'stop stuck', 'stop completer', 'stop database', 'stopped database']);
    expect(overBy).toBeLessThan(1_000);
    expect(lines.filter((l) => l.msg === 'service did not stop by the deadline; going on without it').map((l) => l.serviceName)).toEqual(['stuck', 'completer']);
  });

  it('goes on past a stop that throws, and reports it', async () => {
    const j = journal();
    const { log, lines } = capturedLog();
    const runtime = new Runtime('test', [j.service('database'), j.service('broken', { stop: () => Promise.reject(new Error('boom')) }), j.service('api')], log);
    await runtime.start();
    await expect(runtime.stop(Date.now() + 1_000)).rejects.toThrow('test: broken failed to stop: boom');
    expect(j.entries.slice(3)).toEqual(['stop api', 'stopped api', 'stop broken', 'stop database', 'stopped database']);
    expect(lines.find((l) => l.msg === 'service failed to stop')).toMatchObject({ serviceName: 'broken', err: 'boom' });
  });

  it('nests: a Runtime is a Service of another, stopped in its turn with the same deadline', async () => {
    const j = journal();
    const { log } = capturedLog();
    const inner = new Runtime('dispatcher', [j.service('completer'), j.service('claim loop')], log, { level: 'debug' });
    const outer = new Runtime('process', [j.service('database'), inner, j.service('api')], log);
    await outer.start();
    const deadline = Date.now() + 1_000;
    await outer.stop(deadline);
    expect(j.entries.slice(4)).toEqual(['stop api', 'stopped api', 'stop claim loop', 'stopped claim loop', 'stop completer', 'stopped completer', 'stop database', 'stopped database']);
    expect(new Set(j.deadlines)).toEqual(new Set([deadline]));
  });
});
