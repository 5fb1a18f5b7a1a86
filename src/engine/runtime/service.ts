/**
 * Services and their one lifecycle (River style). A Service starts, and
 * stops by a deadline; a Runtime starts a list of them in order and stops
 * them in reverse order within one shared deadline, so what a service needs
 * (the database, the API its handlers call) is started before it and stopped
 * after it. A Runtime is itself a Service: a process (src/cli) is one, and the
 * dispatcher inside it is another (src/engine/dispatcher/dispatcher.ts).
 */
import { errorMessage, msUntil } from '../lib.js';
import type { Logger } from '../log.js';

export interface Service {
  readonly name: string;
  /** Resolves once the service runs; a service whose start rejects holds nothing. */
  start(): Promise<void>;
  /** Finishes or hands back its work and releases what it holds, by `deadline` (epoch ms). */
  stop(deadline: number): Promise<void>;
}

/** How long after the deadline a stop may still settle before the Runtime goes on without it. */
export const STOP_GRACE_MS = 100;

/** When a start fails, the services already started get this long to stop. */
const STOP_AFTER_FAILED_START_MS = 5_000;

export interface RuntimeOptions {
  /** Level of the per-service "started"/"stopped" lines; failures are always errors. */
  level?: 'info' | 'debug';
}

type StopOutcome = { kind: 'stopped' } | { kind: 'failed'; err: unknown } | { kind: 'overran' };

export class Runtime implements Service {
  private readonly log: Logger;
  private readonly level: 'info' | 'debug';
  private started: Service[] = [];
  private stopping: Promise<void> | null = null;

  constructor(
    readonly name: string,
    private readonly services: readonly Service[],
    log: Logger,
    opts: RuntimeOptions = {},
  ) {
    this.log = log.child({ runtime: name });
    this.level = opts.level ?? 'info';
  }

  /**
   * Starts the services in order. If one fails, the ones already started are
   * stopped (in reverse) and its error is rethrown. Call stop() only after
   * start() has settled.
   */
  async start(): Promise<void> {
    for (const service of this.services) {
      const t0 = performance.now();
      try {
        await service.start();
      } catch (err) {
        this.log.error({ serviceName: service.name, err: errorMessage(err) }, 'service failed to start; stopping the ones started');
        await this.stopStarted(Date.now() + STOP_AFTER_FAILED_START_MS).catch(() => {});
        throw err;
      }
      this.started.push(service);
      this.log[this.level]({ serviceName: service.name, ms: elapsed(t0) }, 'service started');
    }
  }

  /**
   * Stops the started services in reverse order, each given the same
   * deadline. One that fails or is still running STOP_GRACE_MS after the
   * deadline is logged and left behind, and the rest are stopped anyway;
   * the returned promise then rejects naming them. Idempotent.
   */
  stop(deadline: number): Promise<void> {
    return (this.stopping ??= this.stopStarted(deadline));
  }

  private async stopStarted(deadline: number): Promise<void> {
    const unclean: string[] = [];
    for (const service of this.started.splice(0).reverse()) {
      const t0 = performance.now();
      const outcome = await stopBy(service, deadline);
      const fields = { serviceName: service.name, ms: elapsed(t0) };
      if (outcome.kind === 'stopped') {
        this.log[this.level](fields, 'service stopped');
      } else if (outcome.kind === 'overran') {
        unclean.push(`${service.name} did not stop by the deadline`);
        this.log.error(fields, 'service did not stop by the deadline; going on without it');
      } else {
        unclean.push(`${service.name} failed to stop: ${errorMessage(outcome.err)}`);
        this.log.error({ ...fields, err: errorMessage(outcome.err) }, 'service failed to stop');
      }
    }
    if (unclean.length) throw new Error(`${this.name}: ${unclean.join('; ')}`);
  }
}

/** A part opened before the runtime (the database pool): nothing to start, closed in its turn. */
export function closing(name: string, close: (deadline: number) => Promise<void>): Service {
  return { name, start: async () => {}, stop: close };
}

async function stopBy(service: Service, deadline: number): Promise<StopOutcome> {
  let timer: NodeJS.Timeout | undefined;
  // Past the deadline the timer fires at once, but a stop that settles without I/O (clearing timers) still wins the race.
  const overran = new Promise<StopOutcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'overran' }), msUntil(deadline + STOP_GRACE_MS))));
  const stopped = (async () => service.stop(deadline))().then(
    (): StopOutcome => ({ kind: 'stopped' }),
    (err: unknown): StopOutcome => ({ kind: 'failed', err }),
  );
  try {
    return await Promise.race([stopped, overran]);
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(t0: number): number {
  return Math.round(performance.now() - t0);
}
