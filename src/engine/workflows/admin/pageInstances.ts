/**
 * One page of workflow instances for the admin API, newest first by the
 * (created_at, id) keyset the other admin pages use (graphql/modules/
 * timeKeyset.ts), narrowed by workflow name, status and key.
 */
import type { Queryable } from '../../events/sql/queryable.js';
import { instanceColumns, instanceJoins, toInstanceRecord, type InstanceRow, type WorkflowInstanceRecord, type WorkflowStatus } from './instanceRecord.js';

export interface InstanceFilter {
  workflow?: string | null | undefined;
  status?: WorkflowStatus | null | undefined;
  key?: string | null | undefined;
}

export interface InstancePage {
  /** Decoded cursors: [created_at as microsecond ISO text, id]. */
  after?: readonly [string, string] | undefined;
  before?: readonly [string, string] | undefined;
  limit: number;
  /** Oldest first (paging backwards; the connection helper reverses). */
  inverted: boolean;
}

export async function pageWorkflowInstances(sql: Queryable, filter: InstanceFilter | null | undefined, page: InstancePage): Promise<WorkflowInstanceRecord[]> {
  const { after, before } = page;
  const rows = await sql<InstanceRow[]>`
    select ${instanceColumns(sql)}
    from threefactor.workflow_instances as i
    ${instanceJoins(sql)}
    where (${filter?.workflow ?? null}::text is null or i.workflow = ${filter?.workflow ?? null})
      and (${filter?.status ?? null}::text is null or i.status = ${filter?.status ?? null})
      and (${filter?.key ?? null}::text is null or i.key = ${filter?.key ?? null})
      ${after ? sql`and (i.created_at, i.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql``}
      ${before ? sql`and (i.created_at, i.id) > (${before[0]}::timestamptz, ${before[1]}::uuid)` : sql``}
    order by ${page.inverted ? sql`i.created_at asc, i.id asc` : sql`i.created_at desc, i.id desc`}
    limit ${page.limit}`;
  return rows.map(toInstanceRecord);
}
