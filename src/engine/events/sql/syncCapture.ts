/**
 * Installs, updates or drops the per-table capture triggers so they match the
 * enabled table triggers (threefactor_sync_capture in
 * drizzle/…_delivery_routing). Returns only what changed.
 */
import type { Queryable } from './queryable.js';

export interface CaptureChange {
  table: string;
  action: 'installed' | 'updated' | 'removed';
}

export async function syncCapture(sql: Queryable): Promise<CaptureChange[]> {
  const rows = await sql<{ captured_table: string; action: CaptureChange['action'] }[]>`
    select captured_table, action from threefactor.sync_capture()`;
  return rows.map((r) => ({ table: r.captured_table, action: r.action }));
}
