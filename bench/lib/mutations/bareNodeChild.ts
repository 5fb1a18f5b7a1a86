/**
 * Child process entry: the `mutations` scenario's bare-Node baseline, the
 * honest limit for a Node server doing placeOrder's work. A `node:http`
 * handler on one postgres.js pool (BARE_POOL_MAX, the API's size) that takes
 * the same GraphQL request body the API gets and runs
 * bench/sql/place-order.pgbench statement for statement: `begin`, the five
 * transaction settings, the three reads, the three inserts, `commit`, each a
 * named prepared statement (postgres.js' default) in one transaction, and
 * answers with the fields placeOrder's selection asks for.
 *
 * What it leaves out is what a framework adds: no GraphQL parse, validation
 * or execution, no schema, no drizzle, no logging, no realtime hub; the
 * bearer token is decoded, not verified (the API verifies each token once
 * and caches it). It computes in JavaScript what the API computes there: the
 * prices from the menu read, the total, the event's JSON payload, a fresh
 * traceparent per request.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { onParent, toParent } from '../child.js';
import { cpuSample, type CpuSample } from '../cpu.js';

export type BareChildOut = { type: 'ready'; url: string; poolMax: number } | { type: 'cpu'; sample: CpuSample } | { type: 'stopped' };
export type BareChildIn = { type: 'cpu' } | { type: 'stop' };

const send = (m: BareChildOut) => toParent<BareChildOut>(m);

const url = process.env.DATABASE_URL;
const poolMax = Number(process.env.BARE_POOL_MAX);
if (!url || !Number.isInteger(poolMax) || poolMax < 1) throw new Error('the bare-Node baseline needs DATABASE_URL and BARE_POOL_MAX');
const sql = postgres(url, { max: poolMax, idle_timeout: 30, connect_timeout: 10, onnotice: () => {}, connection: { application_name: 'threefactor-bench-bare-node' } });

interface PlaceOrderInput {
  restaurantId: string;
  items: Array<{ menuItemId: string; quantity: number }>;
  deliveryAddress: string;
}

interface MenuItem {
  id: string;
  restaurant_id: string;
  name: string;
  description: string;
  price_cents: number;
  available: boolean;
}

/** The JWT's `sub`, decoded only (see the header). */
function customerOf(req: IncomingMessage): string {
  const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub?: string };
  if (!claims.sub) throw new Error('no sub in the token');
  return claims.sub;
}

async function placeOrder(customerId: string, input: PlaceOrderInput) {
  const session = JSON.stringify({ 'x-hasura-role': 'customer', 'x-hasura-user-id': customerId });
  const trace = JSON.stringify({ traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` });
  return sql.begin(async (tx) => {
    await tx`select
      set_config('threefactor.session', ${session}, true),
      set_config('threefactor.trace', ${trace}, true),
      set_config('threefactor.caused_by', ${''}, true),
      set_config('threefactor.cause_event', ${''}, true),
      set_config('threefactor.cause_delivery', ${''}, true)`;
    const [customer] = await tx<{ id: string }[]>`select "id" from "customers" where "customers"."id" = ${customerId}`;
    if (!customer) throw new Error('no such customer');
    const [restaurant] = await tx<{ id: string; name: string }[]>`select "id", "name" from "restaurants" where "restaurants"."id" = ${input.restaurantId}`;
    if (!restaurant) throw new Error('no such restaurant');
    const [a, b] = input.items;
    if (!a || !b || input.items.length !== 2) throw new Error('the baseline places two lines, as the workload does');
    const menu = await tx<MenuItem[]>`
      select "id", "restaurant_id", "name", "description", "price_cents", "available" from "menu_items" where "menu_items"."id" in (${a.menuItemId}, ${b.menuItemId})`;
    const lines = input.items.map((line) => {
      const item = menu.find((m) => m.id === line.menuItemId);
      if (!item || item.restaurant_id !== restaurant.id || !item.available) throw new Error(`menu item ${line.menuItemId} cannot be ordered here`);
      return { ...line, name: item.name, unitPriceCents: item.price_cents };
    });
    const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
    const [order] = await tx<Array<{ id: string; status: string; version: number; total_cents: number; customer_id: string; restaurant_id: string }>>`
      insert into "orders" ("id", "customer_id", "restaurant_id", "driver_id", "status", "total_cents", "delivery_address", "status_reason", "version", "created_at", "updated_at")
      values (default, ${customer.id}, ${restaurant.id}, default, default, ${total}, ${input.deliveryAddress}, default, default, default, default)
      returning "id", "customer_id", "restaurant_id", "driver_id", "status", "total_cents", "delivery_address", "status_reason", "version", "created_at", "updated_at"`;
    const [l1, l2] = lines as [(typeof lines)[number], (typeof lines)[number]];
    await tx`
      insert into "order_items" ("id", "order_id", "menu_item_id", "name", "quantity", "unit_price_cents")
      values (default, ${order!.id}, ${l1.menuItemId}, ${l1.name}, ${l1.quantity}, ${l1.unitPriceCents}),
             (default, ${order!.id}, ${l2.menuItemId}, ${l2.name}, ${l2.quantity}, ${l2.unitPriceCents})`;
    const payload = {
      orderId: order!.id,
      status: order!.status,
      version: order!.version,
      customerId: order!.customer_id,
      restaurantId: order!.restaurant_id,
      driverId: null,
      totalCents: order!.total_cents,
      deliveryAddress: input.deliveryAddress,
      items: lines.map((l) => ({ menuItemId: l.menuItemId, quantity: l.quantity, unitPriceCents: l.unitPriceCents })),
    };
    await tx`
      insert into "threefactor"."events" ("id", "xid", "type", "aggregate_type", "aggregate_id", "payload", "session", "trace_context", "caused_by_event", "caused_by_delivery", "created_at")
      values (default, default, ${'order.placed'}, ${'order'}, ${order!.id}, ${tx.json(payload)}, default, default, default, default, default)
      returning "id", "xid", "seq"`;
    return order!;
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const { variables } = JSON.parse(Buffer.concat(chunks).toString()) as { variables: { input: PlaceOrderInput } };
        const order = await placeOrder(customerOf(req), variables.input);
        reply(res, 200, { data: { placeOrder: { id: order.id, status: order.status, totalCents: order.total_cents, version: order.version } } });
      } catch (err) {
        reply(res, 200, { errors: [{ message: err instanceof Error ? err.message : String(err) }] });
      }
    })();
  });
});
server.keepAliveTimeout = 60_000;
await sql`select 1`;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

onParent<BareChildIn>(async (message) => {
  if (message.type === 'cpu') send({ type: 'cpu', sample: cpuSample() });
  if (message.type === 'stop') {
    server.close();
    server.closeAllConnections();
    await sql.end({ timeout: 5 });
    send({ type: 'stopped' });
    process.exit(0);
  }
});
send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, poolMax });
