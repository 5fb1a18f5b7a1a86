/**
 * Liveness and readiness. /healthz answers while the process runs;
 * /readyz answers 200 only when the database is reachable and fully
 * migrated (the engine's and the app's migrations), and 503 once the process has begun to drain.
 */
import type { ServerResponse } from 'node:http';
import type { Sql } from '../db/client.js';
import { isMigrated, type MigrationSet } from '../db/migrate.js';

export interface Readiness {
  draining: boolean;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function healthz(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

export async function readyz(res: ServerResponse, sql: Sql, migrations: MigrationSet[], state: Readiness): Promise<void> {
  if (state.draining) return sendJson(res, 503, { status: 'draining' });
  try {
    const migrated = await Promise.race([
      isMigrated(sql, migrations),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]);
    if (!migrated) return sendJson(res, 503, { status: 'unready', reason: 'migrations pending' });
    sendJson(res, 200, { status: 'ready' });
  } catch {
    sendJson(res, 503, { status: 'unready', reason: 'database unreachable' });
  }
}
