/**
 * Per-table access counts from pg_stat_user_tables (scans, inserted,
 * updated, deleted rows), to prove two workloads did the same database work
 * per unit: a benchmark baseline that reads or writes less than the code it
 * is compared with would flatter nobody but still mislead.
 */
import type { Sql } from '../../src/engine/db/client.js';

export interface Access {
  scans: number;
  inserted: number;
  updated: number;
  deleted: number;
}
export type TableAccess = Record<string, Access>;

const FIELDS = ['scans', 'inserted', 'updated', 'deleted'] as const;

export async function tableAccess(sql: Sql): Promise<TableAccess> {
  // Our own connection's reads (audits) would otherwise reach the counters up
  // to ten seconds later, inside the next measured side. The flush happens as
  // the backend goes idle after this statement (PostgreSQL 15+).
  await sql`select pg_stat_force_next_flush()`.catch(() => {});
  const rows = await sql<Array<Access & { table: string }>>`
    select relname as table,
           (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::float8 as scans,
           n_tup_ins::float8 as inserted,
           n_tup_upd::float8 as updated,
           n_tup_del::float8 as deleted
    from pg_stat_user_tables
    where schemaname in ('public', 'threefactor')`;
  return Object.fromEntries(rows.map(({ table, ...access }) => [table, access]));
}

/**
 * Statistics reach pg_stat_user_tables when a backend flushes them: at once
 * when it exits, within about ten seconds when it idles. Poll until `table`
 * shows `inserted` new rows since `before` (or give up after timeoutMs).
 */
export async function settledAccess(sql: Sql, before: TableAccess, table: string, inserted: number, timeoutMs = 15_000): Promise<TableAccess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await tableAccess(sql);
    const seen = (now[table]?.inserted ?? 0) - (before[table]?.inserted ?? 0);
    if (seen >= inserted || Date.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What happened between two snapshots, per unit of work (e.g. per order), zero tables left out. */
export function accessPer(before: TableAccess, after: TableAccess, units: number): TableAccess {
  const out: TableAccess = {};
  for (const [table, a] of Object.entries(after)) {
    const b = before[table] ?? { scans: 0, inserted: 0, updated: 0, deleted: 0 };
    const per = Object.fromEntries(FIELDS.map((f) => [f, Math.round(((a[f] - b[f]) / units) * 100) / 100])) as unknown as Access;
    if (FIELDS.some((f) => per[f] !== 0)) out[table] = per;
  }
  return out;
}

/** Differences beyond `tolerance` per unit, as readable lines (empty: the same work). */
export function accessDifferences(ours: TableAccess, theirs: TableAccess, tolerance = 0.05): string[] {
  const zero: Access = { scans: 0, inserted: 0, updated: 0, deleted: 0 };
  const tables = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
  const out: string[] = [];
  for (const table of [...tables].sort()) {
    for (const f of FIELDS) {
      const a = (ours[table] ?? zero)[f];
      const b = (theirs[table] ?? zero)[f];
      if (Math.abs(a - b) > tolerance) out.push(`${table}.${f}: ${a} vs ${b} per unit`);
    }
  }
  return out;
}
