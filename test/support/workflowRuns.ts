/**
 * Workflow durability tests' kit: dispatch processes of the durable test app
 * (test/fixtures/apps/durable) that a test kills and restarts, the state of
 * every instance and step as the database has it, and the check that no
 * step was invoked after its completion was recorded.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import type postgres from 'postgres';
import { TEST_WEBHOOK_SECRET } from './events.js';
import { runEntry, type CommandProcess } from './processes.js';

export const DURABLE_MAIN = 'test/fixtures/apps/durable/main.ts';

/** A `dispatch` of the durable app on `databaseUrl`; `env` sets its workflow (DURABLE_*) and overrides the defaults. */
export function spawnDurableDispatcher(databaseUrl: string, env: Record<string, string | undefined>): CommandProcess {
  return runEntry(DURABLE_MAIN, ['dispatch'], {
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    DISPATCH_POLL_MS: '200',
    DISPATCH_LEASE_MS: '1000',
    ...env,
  });
}

/** Kept by a test file: every process it started, all ended in its afterAll (`endAll`), whatever happened. */
export class Processes {
  private readonly all: CommandProcess[] = [];

  add(proc: CommandProcess): CommandProcess {
    this.all.push(proc);
    return proc;
  }

  running(): CommandProcess[] {
    return this.all.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  }

  /** SIGKILL: the crash. Resolves once it has exited. */
  async kill(proc: CommandProcess): Promise<void> {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }

  async endAll(): Promise<void> {
    for (const p of this.running()) p.child.kill('SIGKILL');
    await Promise.all(this.all.map((p) => p.exited));
  }
}

export const dispatcherStarted = (line: Record<string, unknown>) => line.msg === 'dispatcher started';

export const TERMINAL = ['completed', 'compensated', 'failed'];

export interface InstanceRow {
  id: string;
  workflow: string;
  version: number;
  key: string;
  status: string;
  phase: string;
  step_index: number;
  /** Epoch milliseconds (the client hands timestamps over as text). */
  wake_at: number | null;
  failure: { step: string; reason: string } | null;
  finished_at: number | null;
}

export interface StepRow {
  id: string;
  instance_id: string;
  step_index: number;
  name: string;
  kind: string;
  phase: string;
  status: string;
  /** Epoch milliseconds, fractional. */
  started_at: number;
  finished_at: number | null;
}

export async function instances(sql: postgres.Sql, workflow?: string): Promise<InstanceRow[]> {
  return sql<InstanceRow[]>`
    select id, workflow, version, key, status, phase, step_index, failure,
           (extract(epoch from wake_at) * 1000)::float8 as wake_at, (extract(epoch from finished_at) * 1000)::float8 as finished_at
    from threefactor.workflow_instances
    where ${workflow === undefined ? sql`true` : sql`workflow = ${workflow}`}
    order by created_at, id`;
}

export async function steps(sql: postgres.Sql, workflow?: string): Promise<StepRow[]> {
  return sql<StepRow[]>`
    select s.id, s.instance_id, s.step_index, s.name, s.kind, s.phase, s.status,
           (extract(epoch from s.started_at) * 1000)::float8 as started_at, (extract(epoch from s.finished_at) * 1000)::float8 as finished_at
    from threefactor.workflow_steps as s join threefactor.workflow_instances as i on i.id = s.instance_id
    where ${workflow === undefined ? sql`true` : sql`i.workflow = ${workflow}`}
    order by s.started_at, s.id`;
}

/** Counts by status, e.g. { completed: 480, compensated: 20 }: what a failing expectation prints. */
export function byStatus(rows: ReadonlyArray<{ status: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/** A call a step made, as the callee saw it: the step id (webhook-id / idempotency key) and when it arrived. */
export interface SeenCall {
  key: string | null;
  at: number;
}

/**
 * Calls that arrived after the step they belong to was recorded finished (a
 * step recorded complete must never be invoked again). The step's finished_at
 * is the runner's transaction time, which is after the call it records
 * returned; the same host's clock stamps both.
 */
export function callsAfterCompletion(calls: readonly SeenCall[], stepRows: readonly StepRow[]): Array<SeenCall & { finishedAt: number }> {
  const finished = new Map(stepRows.filter((s) => s.finished_at !== null && s.status === 'completed').map((s) => [s.id, s.finished_at!]));
  return calls.flatMap((c) => {
    const at = c.key ? finished.get(c.key) : undefined;
    return at !== undefined && c.at > at ? [{ ...c, finishedAt: at }] : [];
  });
}

/** What a step call's webhook carries (the Hasura-shaped body's `event.data.new`): the step event's payload. */
export interface StepCallPayload {
  workflow: string;
  version: number;
  instanceId: string;
  stepId: string;
  step: string;
  phase: string;
}

export function stepCall(json: Record<string, unknown>): StepCallPayload {
  const event = json.event as { data?: { new?: StepCallPayload } } | undefined;
  const payload = event?.data?.new;
  if (!payload) throw new Error(`not a step call: ${JSON.stringify(json).slice(0, 300)}`);
  return payload;
}

/** A loopback TCP forwarder whose target can be switched: new connections go to the current target. */
export interface SwitchableProxy {
  port: number;
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function switchableProxy(targetPort: number): Promise<SwitchableProxy> {
  let target = targetPort;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A side that dies takes the other with it, with no handshake: as a killed process's connection would.
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    retarget: (port) => void (target = port),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
