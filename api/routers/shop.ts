// Print@Home: the shop page's procedures. Public (no API key): shoppers are anonymous, and an
// order is reachable only through its unguessable id.

import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { ORDER_STATUSES } from '../../domain/order-status.ts';
import { DomainError } from '../../domain/errors.ts';
import { LOCALES, localeFromAcceptLanguage } from '../../domain/locale.ts';
import { shopTaskQueue } from '../../infra/config.ts';
import {
  createOrder, deleteUnstartedOrder, findOrder, hasOrderAccess, maskEmail, orderAccessToken, shopperEmail, signedDownloadPath,
  voucherCardLast4, type OrderRecord,
} from '../../services/orders.ts';
import { DevPaymentProvider } from '../../services/payments/dev.ts';
import { signalPaymentEvent, startPurchase } from '../../workflows/clients/purchase.ts';
import { idempotencyHeaders } from '../schemas.ts';
import { publicProcedure, requireTemporal, router, type RequestContext } from '../trpc.ts';

const TAG = ['Shop'];
const orderIdSchema = z.uuid().describe('Order id');

const orderSchema = z.object({
  orderId: z.string(),
  status: z.enum(ORDER_STATUSES),
  amount: z.number().int(),
  currency: z.string(),
  emailMasked: z.string(),
  provider: z.string(),
  downloadUrl: z.string().nullable().describe('Signed, expiring link to the voucher PDF once it is ready'),
  last4: z.string().nullable(),
  failureReason: z.string().nullable(),
  steps: z.array(z.object({ name: z.string(), done: z.boolean() })),
}).meta({ id: 'Order' });

const createdOrderSchema = z.object({
  orderId: z.string(),
  status: orderSchema.shape.status,
  provider: z.string(),
  clientSecret: z.string().nullable().describe('For Stripe.js to confirm the card payment'),
  accessToken: z.string().describe('Send as X-Order-Token to follow the order and download the voucher. Given only here.'),
}).meta({ id: 'CreatedOrder' });

const orderTokenHeaders = z.object({
  'x-order-token': z.string().describe('The accessToken returned when the order was created'),
});

/** The order, if this request carries its access token; otherwise it does not exist for the caller. */
async function accessibleOrder(ctx: RequestContext, orderId: string): Promise<OrderRecord> {
  const order = hasOrderAccess(ctx.deps.secrets.orderKey, orderId, ctx.orderToken)
    ? await findOrder(ctx.deps.db.prisma, orderId) : null;
  if (!order) throw new DomainError('not_found', 'no order with this id and access token');
  return order;
}


async function orderView(ctx: RequestContext, order: OrderRecord): Promise<z.infer<typeof orderSchema>> {
  const last4 = order.cardId ? await voucherCardLast4(ctx.deps.db.prisma, order.cardId) : null;
  const ready = order.status === 'fulfilled' || (order.status === 'issued' && order.cardId !== null);
  const reached = (statuses: string[]) => statuses.includes(order.status);
  return {
    orderId: order.id,
    status: order.status,
    amount: Number(order.amount),
    currency: order.currency,
    emailMasked: maskEmail(shopperEmail(ctx.deps.pii, order)),
    provider: order.provider,
    downloadUrl: ready ? ctx.deps.config.publicUrl + signedDownloadPath(ctx.deps.secrets.downloadKey, order.id) : null,
    last4,
    failureReason: order.failureReason,
    steps: [
      { name: 'payment confirmed', done: reached(['paid', 'issued', 'fulfilled']) },
      { name: 'voucher issued', done: reached(['issued', 'fulfilled']) },
      { name: 'PDF and e-mail sent', done: reached(['fulfilled']) },
    ],
  };
}

export const shopRouter = router({
  config: publicProcedure
    .meta({ openapi: { method: 'GET', path: '/v1/shop/config', tags: TAG, protect: false, summary: 'Amounts the shop offers', errorResponses: {} } })
    .input(z.object({}).strict().optional())
    .output(z.object({
      currency: z.string(), presets: z.array(z.number().int()), minAmount: z.number().int(), maxAmount: z.number().int(),
      provider: z.enum(['stripe', 'dev']), schemeName: z.string(),
    }))
    .query(({ ctx }) => {
      const { shop, payments } = ctx.deps.config;
      return { currency: shop.currency, presets: shop.presets, minAmount: shop.minAmount, maxAmount: shop.maxAmount,
        provider: payments.provider, schemeName: shop.schemeName };
    }),

  createOrder: publicProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/orders', tags: TAG, protect: false, requestHeaders: idempotencyHeaders,
      summary: 'Start a Print@Home purchase', description: 'Creates the order and its card payment. A repeat with '
        + 'the same Idempotency-Key returns the same order.', errorResponses: { 400: 'Invalid input', 422: 'Amount out of range', 429: 'Too many orders from this address' } } })
    .input(z.object({
      amount: z.number().int().positive().describe('Minor units'),
      currency: z.literal('EUR'),
      email: z.email().max(254),
      locale: z.enum(LOCALES).optional().describe('Language of the voucher mail and PDF; from Accept-Language when absent'),
    }).strict())
    .output(createdOrderSchema)
    .mutation(async ({ ctx, input }) => {
      const { shop, payments } = ctx.deps.config;
      const limit = await ctx.deps.rateLimiter.allow(`orders:${ctx.clientIp}`, shop.ordersPerMinutePerClient, 60);
      if (!limit.allowed) {
        throw new DomainError('rate_limited', 'too many orders from this address; try again shortly',
          { retry_after_seconds: limit.retryAfterSeconds });
      }
      if (input.amount < shop.minAmount || input.amount > shop.maxAmount) {
        throw new DomainError('amount_out_of_range', `a voucher is worth ${shop.minAmount} to ${shop.maxAmount} minor units`);
      }
      const client = requireTemporal(ctx);
      const { order, created } = await createOrder(ctx.deps.db.prisma, ctx.deps.pii, {
        idempotencyKey: ctx.idempotencyKey ? `shop:${ctx.idempotencyKey}` : null,
        email: input.email, amount: input.amount, currency: input.currency, provider: payments.provider,
        locale: input.locale ?? localeFromAcceptLanguage(ctx.acceptLanguage),
      });
      // A retry for an order that is past paying is answered from the order, not with a new run.
      const accessToken = orderAccessToken(ctx.deps.secrets.orderKey, order.id);
      if (!['awaiting_payment', 'payment_failed'].includes(order.status)) {
        return { orderId: order.id, status: order.status, provider: order.provider, clientSecret: null, accessToken };
      }
      // Starting the workflow and asking for its payment in one call (a retry joins the run).
      try {
        const payment = await startPurchase(client, shopTaskQueue(ctx.deps.config), { orderId: order.id, amount: input.amount,
          currency: input.currency, confirmationTimeoutSeconds: payments.confirmationTimeoutSeconds });
        return { orderId: order.id, status: order.status, provider: payment.provider, clientSecret: payment.clientSecret, accessToken };
      } catch (err) {
        // The order finished already (e.g. a retry long after): answer with its state.
        const current = await findOrder(ctx.deps.db.prisma, order.id);
        if (current && current.status !== 'awaiting_payment') {
          return { orderId: order.id, status: current.status, provider: current.provider, clientSecret: null, accessToken };
        }
        // The start failed: take back the order this call created, so the refused call leaves
        // nothing behind. Should the start have reached Temporal after all, that workflow finds no
        // order and ends before creating any payment.
        if (created) {
          await deleteUnstartedOrder(ctx.deps.db.prisma, order.id).catch(() => {});
        }
        // The purchase workflow ended without a payment. Either a concurrent attempt with the same
        // key gave up and took the order back under it (seen in the bank test): the next retry
        // starts anew; or the run was ended (e.g. terminated by an operator): this order is over.
        if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowExecutionAlreadyStartedError) {
          if (created || !current) {
            throw new DomainError('service_unavailable', 'the purchase could not be started; retry with the same Idempotency-Key');
          }
          throw new DomainError('order_not_payable', 'this purchase has ended without a payment; start a new order with a new Idempotency-Key');
        }
        throw err;
      }
    }),

  getOrder: publicProcedure
    .meta({ openapi: { method: 'GET', path: '/v1/orders/{orderId}', tags: TAG, protect: false, summary: 'Follow a purchase',
      requestHeaders: orderTokenHeaders, errorResponses: { 400: 'Invalid input', 404: 'Unknown order or wrong token' } } })
    .input(z.object({ orderId: orderIdSchema }).strict())
    .output(orderSchema)
    .query(async ({ ctx, input }) => orderView(ctx, await accessibleOrder(ctx, input.orderId))),

  payment: publicProcedure
    .meta({ openapi: { method: 'GET', path: '/v1/orders/{orderId}/payment', tags: TAG, protect: false,
      summary: 'What the shop page needs to take the card with Stripe\'s Payment Element',
      description: 'The publishable key to load Stripe.js with and the client secret of the order\'s PaymentIntent, '
        + 'while the order can be paid. Only for the holder of the order\'s access token.',
      requestHeaders: orderTokenHeaders, errorResponses: { 400: 'Invalid input', 404: 'Unknown order or wrong token', 503: 'Stripe could not be asked' } } })
    .input(z.object({ orderId: orderIdSchema }).strict())
    .output(z.object({
      orderId: z.string(),
      provider: z.string(),
      publishableKey: z.string().nullable().describe('pk_…; null when Stripe.js is not used (development provider, or no key configured)'),
      clientSecret: z.string().nullable().describe('For the Payment Element; null when the order cannot be paid (now)'),
    }).meta({ id: 'OrderPayment' }))
    .query(async ({ ctx, input }) => {
      const order = await accessibleOrder(ctx, input.orderId);
      const none = { orderId: order.id, provider: order.provider, publishableKey: null, clientSecret: null };
      if (order.provider !== 'stripe' || ctx.deps.payments.name !== 'stripe') return none;
      const publishableKey = ctx.deps.config.payments.stripePublishableKey;
      if (!['awaiting_payment', 'payment_failed'].includes(order.status) || !order.paymentId) return { ...none, publishableKey };
      let clientSecret: string | null;
      try {
        clientSecret = await ctx.deps.payments.clientSecretOf({ paymentId: order.paymentId });
      } catch (err) {
        throw new DomainError('service_unavailable', `the payment provider could not be asked; retry (${(err as Error).message})`);
      }
      return { ...none, publishableKey, clientSecret };
    }),

  devConfirmPayment: publicProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/orders/{orderId}/dev-confirm', tags: TAG, protect: false, requestHeaders: orderTokenHeaders,
      summary: 'Development provider only: confirm the payment as a test card would',
      errorResponses: { 404: 'Unknown order or not a development payment', 409: 'Not awaiting payment' } } })
    .input(z.object({ orderId: orderIdSchema }).strict())
    .output(z.object({ orderId: z.string(), accepted: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const order = await accessibleOrder(ctx, input.orderId);
      if (order.provider !== 'dev') throw new DomainError('not_found', 'no development-provider order with this id');
      if (!order.paymentId) throw new DomainError('order_not_payable', 'the payment is not ready yet');
      const client = requireTemporal(ctx);
      // Recorded first, as Stripe records a payment before its webhook: the purchase re-reads it.
      if (ctx.deps.payments instanceof DevPaymentProvider) {
        await ctx.deps.payments.confirm({ orderId: order.id, paymentId: order.paymentId, amount: Number(order.amount), currency: order.currency });
      }
      try {
        await signalPaymentEvent(client, order.id, { type: 'succeeded', eventId: `dev-${order.id}`, paymentId: order.paymentId! });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new DomainError('order_not_payable', `the order is ${order.status}`);
        throw err;
      }
      return { orderId: order.id, accepted: true };
    }),
});
