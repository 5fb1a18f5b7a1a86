/**
 * The signals of the instances the claim before it in this transaction locked (./claimed.ts), with the matched
 * event's type (for a wait's result or failure reason), oldest first.
 */
import type { Queryable } from '../../events/sql/queryable.js';
import { claimedIds } from './claimed.js';
import type { SignalState } from '../advance.js';

interface Row {
  id: number;
  instance_id: string;
  kind: SignalState['kind'];
  step_id: string;
  event_id: string;
  event_type: string | null;
}

export async function readSignals(sql: Queryable): Promise<Array<SignalState & { instanceId: string }>> {
  const rows = await sql<Row[]>`
    select s.id, s.instance_id, s.kind, s.step_id, s.event_id,
           case when s.kind = 'delivery' then null else (select e.type from threefactor.events as e where e.id = s.event_id) end as event_type
    from threefactor.workflow_signals as s
    where s.instance_id = any(${claimedIds(sql)})
    order by s.id`;
  return rows.map((r) => ({ id: Number(r.id), instanceId: r.instance_id, kind: r.kind, stepId: r.step_id, eventId: r.event_id, eventType: r.event_type }));
}
