// Starting a period's settlement run: by finance, and when a clearing is closed (api/routers/clearing.ts).

import { settlementWorkflowId } from '../../domain/sepa.ts';
import { VoucherPeriod } from '../../workflows/search-attributes.ts';
import { settlementWorkflow } from '../../workflows/settlement.ts';
import { requireTemporal, type RequestContext } from '../trpc.ts';
import { TEMPORAL_DEADLINE_MS } from '../../workflows/clients/deadline.ts';

/** Starts (or joins) the period's settlement run; a finished run is started again. */
export async function startSettlement(ctx: RequestContext, period: string): Promise<void> {
  const client = requireTemporal(ctx);
  await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.start(settlementWorkflow, {
    workflowId: settlementWorkflowId(period), taskQueue: ctx.deps.config.taskQueue, args: [{ period }],
    workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [{ key: VoucherPeriod, value: period }],
  }));
}
