// Routes outside the procedure set because they are not JSON in, JSON out: Stripe's signed
// webhook (the signature covers the raw body) and the voucher PDF download.

import type { FastifyInstance } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../../services/audit.ts';
import { findOrder, renderOrderVoucher, verifyDownload, voucherCard, type OrderRecord } from '../../services/orders.ts';
import { parseStripeWebhook } from '../../services/payments/stripe.ts';
import { signalPaymentEvent, startLatePaymentRefund } from '../../workflows/clients/purchase.ts';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../errors.ts';

/** Whether the provider holds the order's payment as succeeded: a webhook alone is never proof. */
async function paidAtProvider(deps: AppDeps, order: OrderRecord): Promise<boolean> {
  if (!order.paymentId) return false;
  try {
    return (await deps.payments.retrievePayment({ paymentId: order.paymentId })).status === 'succeeded';
  } catch (err) {
    throw new DomainError('service_unavailable', `the payment provider could not be asked; retry (${(err as Error).message})`);
  }
}

export async function registerPurchaseRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => {
    // Only here: keep the body as the exact bytes Stripe signed.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    scope.post('/v1/webhooks/stripe', async (req, reply) => {
      try {
        const signature = req.headers['stripe-signature'];
        if (typeof signature !== 'string' || typeof req.body !== 'string') {
          throw new DomainError('invalid_signature', 'missing Stripe-Signature header or body');
        }
        let parsed;
        try {
          parsed = parseStripeWebhook(deps.stripe, req.body, signature, deps.config.payments.stripeWebhookSecret);
        } catch {
          throw new DomainError('invalid_signature', 'the webhook signature does not verify');
        }
        // Events we do not act on, or for orders that are not ours, are acknowledged so Stripe
        // stops retrying them.
        if (!parsed || !z.uuid().safeParse(parsed.orderId).success) return { received: true, handled: false };
        const order = await findOrder(deps.db.prisma, parsed.orderId);
        if (!order) return { received: true, handled: false };
        await audit(deps.db.pool, { actor: 'stripe', action: `webhook_payment_${parsed.event.type}`, subject: `order:${order.id}`, details: { eventId: parsed.event.eventId } });
        if (!deps.temporal) throw new DomainError('service_unavailable', 'workflow service not connected');
        try {
          await signalPaymentEvent(deps.temporal, order.id, parsed.event);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          // The purchase is over. A success for an order that expired means the shopper paid
          // after we cancelled (or our endpoint missed the deadline): refund it, once.
          if (parsed.event.type === 'succeeded' && order.status === 'expired' && !order.refundId
            && parsed.event.paymentId === order.paymentId && await paidAtProvider(deps, order)) {
            await startLatePaymentRefund(deps.temporal, deps.config.taskQueue, order.id);
            return { received: true, handled: true };
          }
          // Otherwise a late duplicate: it changes nothing.
          return { received: true, handled: false };
        }
        return { received: true, handled: true };
      } catch (err) {
        const { status, body } = describeError(err, req.id);
        if (status >= 500) req.log.error({ err }, 'webhook failed');
        return reply.code(status).send(body);
      }
    });
  });

  app.get('/v1/orders/:orderId/voucher.pdf', async (req, reply) => {
    try {
      const { orderId } = req.params as { orderId: string };
      const { expires, sig } = req.query as { expires?: string; sig?: string };
      if (!z.uuid().safeParse(orderId).success) throw new DomainError('not_found', 'no such voucher');
      verifyDownload(deps.secrets.downloadKey, orderId, expires, sig);
      const order = await findOrder(deps.db.prisma, orderId);
      if (!order?.cardId || !['issued', 'fulfilled'].includes(order.status)) throw new DomainError('not_found', 'no such voucher');
      const card = await voucherCard(deps.db.prisma, order.cardId);
      const pdf = await renderOrderVoucher(deps.config, deps.secrets.deriveKey, order, card);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="voucher-${card.codeLast4}.pdf"`)
        .header('cache-control', 'private, no-store')
        .send(pdf);
    } catch (err) {
      const { status, body } = describeError(err, req.id);
      return reply.code(status).send(body);
    }
  });
}
