/**
 * What the workflows trigger on threefactor.events (threefactor.workflow_events,
 * drizzle/engine/…_workflows) costs a mutation: one transaction with one
 * events row and one app row, as placeOrder writes, timed sequentially on one
 * connection, with the trigger disabled (as before workflows), enabled with no
 * definitions, enabled with definitions and waits present that the event does
 * not match, and with a definition the event starts. Rounds alternate so drift
 * hits every variant alike. Not a test: it prints numbers.
 *
 *   node --import tsx scripts/workflowTriggerCost.ts postgres://postgres@127.0.0.1:5432/postgres [txPerRound] [rounds]
 *
 * SYNC_COMMIT=off takes the commit's flush out of the figure (on a shared
 * machine it dominates and varies more than the trigger costs).
 */
import postgres from 'postgres';
import { ENGINE_MIGRATIONS, runMigrations } from '../src/engine/db/migrate.js';

const adminUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const perRound = Number(process.argv[3] ?? 2000);
const rounds = Number(process.argv[4] ?? 5);
const dbName = `tf_wfcost_${process.pid}`;

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
try {
  await runMigrations(url.toString(), [ENGINE_MIGRATIONS]);
  const syncCommit = process.env.SYNC_COMMIT ?? 'on';
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {}, connection: { synchronous_commit: syncCommit } });
  await sql`create table public.app_rows (id uuid primary key default gen_random_uuid(), customer text not null, total int not null, created_at timestamptz not null default now())`;

  type Variant =
    | 'no trigger'
    | 'trigger, no workflow stored'
    | 'trigger, none current, no waits'
    | 'trigger, workflows + 1,000 waits, no match'
    | 'trigger, event starts an instance';
  const setups: Record<Variant, () => Promise<void>> = {
    'no trigger': async () => {
      await sql`alter table threefactor.events disable trigger events_workflows`;
    },
    'trigger, no workflow stored': async () => {
      await sql`alter table threefactor.events enable trigger events_workflows`;
      await sql`delete from threefactor.workflow_waits`;
      await sql`delete from threefactor.workflow_definitions`;
    },
    'trigger, none current, no waits': async () => {
      await restoreDefinitions();
      await sql`alter table threefactor.events enable trigger events_workflows`;
      await sql`update threefactor.workflow_definitions set current = false`;
      await sql`delete from threefactor.workflow_waits`;
    },
    'trigger, workflows + 1,000 waits, no match': async () => {
      await restoreDefinitions();
      await sql`alter table threefactor.events enable trigger events_workflows`;
      await sql`update threefactor.workflow_definitions set current = (name = 'other')`;
      await sql`
        insert into threefactor.workflow_waits (instance_id, key, step_index, step_id, for_types, fail_types)
        select i.id, i.key, 0, gen_random_uuid(), '{order.approved}', '{order.declined}' from threefactor.workflow_instances as i
        where i.workflow = 'seed' on conflict do nothing`;
    },
    'trigger, event starts an instance': async () => {
      await restoreDefinitions();
      await sql`alter table threefactor.events enable trigger events_workflows`;
      await sql`update threefactor.workflow_definitions set current = (name in ('other', 'placed'))`;
    },
  };
  // The no-workflow variant deletes the definitions; the others put them back.
  async function restoreDefinitions(): Promise<void> {
    await sql`
      insert into threefactor.workflow_definitions (name, version, definition, digest, current, start_types)
      values ('other', 1, ${sql.json(definition('other', 'payment.succeeded'))}, 'x', false, '{payment.succeeded}'),
             ('placed', 1, ${sql.json(definition('placed', 'order.placed'))}, 'y', false, '{order.placed}'),
             ('seed', 1, ${sql.json(definition('seed', 'seed'))}, 'z', false, '{seed}')
      on conflict do nothing`;
  }
  const definition = (name: string, type: string) => ({ name, version: 1, start: { types: [type] }, steps: [{ name: 's', kind: 'sleep', seconds: 1 }], handlers: {} });
  await restoreDefinitions();
  await sql`
    insert into threefactor.workflow_instances (workflow, version, key, status, started_by_event, input)
    select 'seed', 1, 'other-' || n, 'waiting', gen_random_uuid(), '{}' from generate_series(1, 1000) as n`;

  // The triggers' own time per statement, as EXPLAIN ANALYZE reports it: on a busy machine a steadier figure than the wall clock.
  async function triggerTimes(n: number): Promise<Record<string, number>> {
    const times = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const [row] = await sql.unsafe<Array<{ 'QUERY PLAN': Array<{ Triggers?: Array<{ 'Trigger Name': string; Time: number }> }> }>>(
        `explain (analyze, format json) insert into threefactor.events (type, aggregate_type, aggregate_id, payload) values ('order.placed', 'order', gen_random_uuid()::text, '{"orderId":"x","totalCents":1200}')`,
      );
      for (const t of row!['QUERY PLAN'][0]!.Triggers ?? []) times.set(t['Trigger Name'], [...(times.get(t['Trigger Name']) ?? []), t.Time]);
    }
    return Object.fromEntries([...times].map(([name, xs]) => [name, xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 1000]));
  }

  const samples = new Map<Variant, number[]>();
  async function round(v: Variant): Promise<void> {
    await setups[v]();
    const out = samples.get(v) ?? [];
    for (let i = 0; i < perRound; i++) {
      const id = crypto.randomUUID();
      const t0 = performance.now();
      await sql.begin(async (tx) => {
        await tx`insert into threefactor.events (type, aggregate_type, aggregate_id, payload) values ('order.placed', 'order', ${id}, ${tx.json({ orderId: id, customerId: 'c1', totalCents: 1200, items: [{ menuItemId: 'm1', quantity: 2 }] })})`;
        await tx`insert into public.app_rows (customer, total) values ('c1', 1200)`;
      });
      out.push(performance.now() - t0);
    }
    samples.set(v, out);
  }
  const variants = Object.keys(setups) as Variant[];
  // Warm-up, then alternate.
  for (const v of variants) await round(v);
  samples.clear();
  for (let r = 0; r < rounds; r++) for (const v of r % 2 ? [...variants].reverse() : variants) await round(v);

  const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  const base = mean(samples.get('no trigger')!);
  console.log(`${rounds} rounds x ${perRound} transactions per variant (one events row + one app row each), one connection, synchronous_commit ${syncCommit}`);
  for (const v of variants) {
    const xs = [...samples.get(v)!].sort((a, b) => a - b);
    const m = mean(xs);
    console.log(`${v.padEnd(44)} mean ${(m * 1000).toFixed(0).padStart(5)} µs  p50 ${(q(xs, 0.5) * 1000).toFixed(0).padStart(5)} µs  p99 ${(q(xs, 0.99) * 1000).toFixed(0).padStart(5)} µs  ${(1000 / m).toFixed(0).padStart(5)} tx/s  (${((m / base - 1) * 100).toFixed(1)}% vs no trigger)`);
  }
  console.log('median own time per one-event statement (EXPLAIN ANALYZE), µs:');
  for (const v of variants) {
    await setups[v]();
    const t = await triggerTimes(1000);
    console.log(`${v.padEnd(44)} ${Object.entries(t).map(([k, us]) => `${k} ${us.toFixed(0)}`).join(', ')}`);
  }
  await sql.end();
} finally {
  await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
