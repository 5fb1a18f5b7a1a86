/**
 * The audit line of an admin write about delivery state (redeliver, replay,
 * invoke, pause, resume). These are not domain changes and write no domain
 * event, so the log line is their record: one JSON line naming the action,
 * who did it and what it touched.
 */
import type { Context } from '../context.js';

export function logAdminAction(ctx: Context, action: string, details: Record<string, unknown>): void {
  ctx.log.info({ audit: 'admin', action, actor: { role: ctx.viewer.role, sub: ctx.viewer.sub }, ...details }, `admin ${action}`);
}
