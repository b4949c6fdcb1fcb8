// Webhook delivery activities: one signed POST per attempt, and the notice to admins when an
// endpoint is disabled for failing.

import type pg from 'pg';
import type { Config } from '../infra/config.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { SIGNATURE_HEADER, signatureHeader } from '../domain/webhook-signature.ts';
import type { Mailer } from '../services/mailer.ts';
import { postJson } from '../services/webhook-target.ts';
import { WebhookStore } from '../services/webhooks.ts';

export interface WebhookActivities {
  /**
   * Makes one attempt unless the delivery is already finished or its endpoint disabled, and
   * records it; `nextAttemptAt` is when the workflow will try again (null: this was the last).
   */
  attemptWebhookDelivery(deliveryId: string, nextAttemptAt: string | null): Promise<{ status: 'pending' | 'succeeded' | 'failed' | 'cancelled'; disabledEndpoint: string | null }>;
  notifyEndpointDisabled(endpointId: string): Promise<void>;
}

export interface WebhookActivityDeps {
  config: Config;
  pool: pg.Pool;
  pii: PiiCipher;
  mailer: Mailer;
  secrets: { deriveKey: Buffer };
}

export function webhookStoreOf(deps: Pick<WebhookActivityDeps, 'config' | 'pool' | 'pii' | 'secrets'>): WebhookStore {
  return new WebhookStore(deps.pool, deps.pii, deps.secrets.deriveKey, deps.config.webhooks);
}

export function createWebhookActivities(deps: WebhookActivityDeps): WebhookActivities {
  const store = webhookStoreOf(deps);
  const cfg = deps.config.webhooks;
  return {
    async attemptWebhookDelivery(deliveryId, nextAttemptAt) {
      const input = await store.attemptInput(deliveryId);
      if (!input) return { status: 'cancelled', disabledEndpoint: null };
      if (input.status !== 'pending') return { status: input.status, disabledEndpoint: null };
      if (!input.enabled) {
        await store.cancel(deliveryId);
        return { status: 'cancelled', disabledEndpoint: null };
      }
      const timestamp = Math.floor(Date.now() / 1000);
      const result = await postJson(input.url, input.payload, {
        [SIGNATURE_HEADER]: signatureHeader(input.secrets, timestamp, input.payload),
        'Voucher-Event-Id': JSON.parse(input.payload).id,
      }, { timeoutMs: cfg.timeoutMs, allowPrivate: cfg.allowPrivateAddresses });
      const ok = result.error === null;
      const { disabledEndpoint } = await store.recordAttempt(deliveryId, { ok, statusCode: result.statusCode, error: result.error, nextAttemptAt }, cfg.retryWindowSeconds);
      return { status: ok ? 'succeeded' : nextAttemptAt ? 'pending' : 'failed', disabledEndpoint };
    },

    async notifyEndpointDisabled(endpointId) {
      const endpoint = await store.pendingDisableNotice(endpointId);
      if (!endpoint) return;
      const to = await store.adminEmails();
      if (to.length > 0) {
        const hours = Math.round(cfg.retryWindowSeconds / 3600);
        await deps.mailer.send({
          to: to.join(', '),
          subject: `Webhook endpoint disabled: ${endpoint.url}`,
          // Derived from the endpoint and the moment it was disabled: a retried activity sends the same message.
          messageId: `<webhook-disabled-${endpoint.id}-${Date.parse(endpoint.disabledAt ?? '')}@voucher-engine>`,
          text: [
            `The webhook endpoint ${endpoint.url} (${endpoint.id}) has failed every delivery since ${endpoint.failingSince}`,
            `(over ${hours} hours) and was disabled. No more events are sent to it.`,
            '',
            'Fix the receiver, then enable the endpoint again on the portal\'s Webhooks page and redeliver the events it missed.',
          ].join('\n'),
        });
      }
      await store.markDisableNoticeSent(endpointId);
    },
  };
}
