// One webhook delivery: one event to one endpoint, `webhook-delivery-<delivery uid>`. Attempts back
// off exponentially (base, 2×base, 4×base … capped) until the retry window (three days by default)
// is over; then the delivery is failed. Each attempt is one activity that records its outcome, so
// the portal shows attempts, last response and the next attempt while this workflow sleeps.
// Receivers may see an event twice (an attempt whose answer was lost is made again): they
// deduplicate by the event id.

import { patched, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks.ts';
import { webhookDeliveryWorkflowId } from './names/webhook-delivery.ts';

export { webhookDeliveryWorkflowId };


export interface WebhookRetryPolicy {
  /** WEBHOOK_TIMEOUT_MS: one attempt's HTTP call; the activity gets this plus room for the database. */
  attemptTimeoutMs: number;
  baseMs: number;
  maxDelayMs: number;
  windowSeconds: number;
}

export interface WebhookDeliveryInput {
  deliveryId: string;
  retry: WebhookRetryPolicy;
}

function activities(policy: WebhookRetryPolicy) {
  return proxyActivities<WebhookActivities>({
    // Short, so an attempt lost with its worker is made again soon (by another worker): the
    // receiver then sees that event once more, never more than once per lost attempt.
    startToCloseTimeout: policy.attemptTimeoutMs + 15_000,
    // Infrastructure failures (database down, worker lost) retry the activity; an endpoint's own
    // failures are answers, handled by the loop below.
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
}

/**
 * The attempt as a local activity: run by the worker that runs the workflow task, without an
 * activity task of its own (a delivery that succeeds at once is then 8 history events, two of them
 * this patch's marker, and one workflow task, instead of 11 and two; a burst of 20,000 deliveries
 * is bound by Temporal's work per delivery). A worker lost
 * mid-attempt loses the workflow task with it, and the next worker makes the attempt again: still
 * at most one more POST per lost attempt.
 */
function localAttempt(policy: WebhookRetryPolicy) {
  return proxyLocalActivities<Pick<WebhookActivities, 'attemptWebhookDelivery'>>({
    startToCloseTimeout: policy.attemptTimeoutMs + 15_000,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
}

export const LOCAL_ATTEMPT_PATCH = 'webhook-attempt-local-activity';

export function retryDelayMs(policy: WebhookRetryPolicy, attempt: number): number {
  return Math.min(policy.baseMs * 2 ** Math.min(attempt - 1, 30), policy.maxDelayMs);
}

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<'succeeded' | 'failed' | 'cancelled'> {
  const { attemptWebhookDelivery: remoteAttempt, notifyEndpointDisabled } = activities(input.retry);
  // Runs started before the patch keep their activity tasks; new runs attempt locally.
  const attemptWebhookDelivery = patched(LOCAL_ATTEMPT_PATCH) ? localAttempt(input.retry).attemptWebhookDelivery : remoteAttempt;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    // The last attempt is made when the window ends: an endpoint that fails it has failed the
    // whole window, which is what disables it.
    const windowEnd = started + input.retry.windowSeconds * 1000;
    const now = Date.now();
    const next = now >= windowEnd ? null : new Date(Math.min(now + retryDelayMs(input.retry, attempt), windowEnd)).toISOString();
    const outcome = await attemptWebhookDelivery(input.deliveryId, next);
    if (outcome.disabledEndpoint) await notifyEndpointDisabled(outcome.disabledEndpoint);
    if (outcome.status !== 'pending') return outcome.status;
    await sleep(Math.max(0, Date.parse(next!) - Date.now()));
  }
}
