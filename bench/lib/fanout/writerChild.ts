/**
 * Benchmark child: order changes at a fixed rate (open loop), each one
 * transaction that bumps the order's version and appends its event, as a
 * mutation through any API process would. Reports when each change's COMMIT
 * was acknowledged, keyed `<orderId>:<version>`.
 */
import postgres from 'postgres';
import { onParent, toParent } from '../child.js';
import { now, type Stamps, type WriterIn, type WriterOut } from './protocol.js';

const send = (m: WriterOut) => toParent<WriterOut>(m);

onParent<WriterIn>(async (message) => {
  if (message.type !== 'run') return;
  const sql = postgres(message.databaseUrl, { max: message.connections, onnotice: () => {}, connection: { application_name: 'threefactor-bench-writer' } });
  await sql`select 1`;
  const commits: Stamps = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let lateMs = 0;
  const inFlight = new Set<Promise<void>>();

  const change = (order: WriterIn['orders'][number]) => {
    const p = sql<{ version: number }[]>`
      with changed as (
        update orders set version = version + 1, updated_at = now()
        where id = ${order.id}
        returning id, status, version, customer_id, restaurant_id, driver_id, total_cents
      )
      insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
      select 'order.touched', 'order', id::text,
             jsonb_build_object('orderId', id, 'status', status, 'version', version, 'customerId', customer_id,
                                'restaurantId', restaurant_id, 'driverId', driver_id, 'totalCents', total_cents)
      from changed
      returning (payload->>'version')::int as version`.then(
      ([row]) => {
        commits.push([`${order.id}:${row!.version}`, now()]);
      },
      (err: unknown) => {
        failed++;
        firstFailure ??= err instanceof Error ? err.message : String(err);
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const start = now();
  send({ type: 'started', at: start });
  let issued = 0;
  let cursor = 0;
  while (now() - start < message.ms) {
    const due = Math.floor(((now() - start) / 1000) * message.perSecond);
    lateMs = Math.max(lateMs, ((due - issued) / message.perSecond) * 1000);
    while (issued < due) {
      // Round-robin over the orders: every order changes equally often, never twice at once.
      change(message.orders[cursor++ % message.orders.length]!);
      issued++;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(inFlight);
  await sql.end();
  send({ type: 'done', commits, failed, firstFailure, lateMs });
});
