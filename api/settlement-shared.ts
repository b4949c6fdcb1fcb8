// What the settlement procedures and routes share with each other and with the clearing router:
// the period's store, and starting its settlement run (by finance, and when a clearing is closed).

import { settlementWorkflowId } from '../domain/sepa.ts';
import { VoucherPeriod } from '../workflows/search-attributes.ts';
import { SETTLEMENT_WORKFLOW } from '../workflows/names/settlement.ts';
import { SettlementStore } from '../services/settlement.ts';
import { requireTemporal, type RequestContext } from './trpc.ts';
import { TEMPORAL_DEADLINE_MS } from '../workflows/clients/deadline.ts';

/** Starts (or joins) the period's settlement run; a finished run is started again. */
export async function startSettlement(ctx: RequestContext, period: string): Promise<void> {
  const client = requireTemporal(ctx);
  await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.start(SETTLEMENT_WORKFLOW, {
    workflowId: settlementWorkflowId(period), taskQueue: ctx.deps.config.taskQueue, args: [{ period }],
    workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [{ key: VoucherPeriod, value: period }],
  }));
}

export function settlementStore(ctx: RequestContext): SettlementStore {
  return new SettlementStore(ctx.deps.db.pool, ctx.deps.pii, ctx.deps.config.settlement, ctx.deps.config.clearingTimeZone);
}
