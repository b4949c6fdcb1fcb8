// The order after "Buy": the payment step, then a live list of the purchase workflow's steps
// (shop.getOrder polled every 500 ms) until the voucher is ready or the order ends otherwise.

import { useEffect, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney } from '../money.ts';
import type { Client, RouterOutputs } from '../trpc.ts';
import { StripePayment, StripeReturnNotice, type StripeReturn } from './StripePayment.tsx';

type Order = RouterOutputs['shop']['getOrder'];
type Status = Order['status'];

const POLL_MS = 500;
const FINAL: ReadonlySet<Status> = new Set<Status>(['fulfilled', 'expired', 'refunded', 'failed']);

const HEADLINE: Record<Status, string> = {
  awaiting_payment: 'Waiting for your payment',
  payment_failed: 'The payment did not go through',
  paid: 'Payment confirmed — issuing your voucher',
  issued: 'Voucher issued — preparing your PDF and e-mail',
  fulfilled: 'Your voucher is ready',
  expired: 'This order has expired',
  refunded: 'This order was refunded',
  failed: 'Something went wrong with this order',
};

export function OrderProgress({ client, orderId, token, onNewOrder, stripeReturn = null }: {
  client: Client;
  orderId: string;
  token: string;
  onNewOrder: () => void;
  /** Stripe's redirect back after 3-D Secure, if the page was opened by it. */
  stripeReturn?: StripeReturn | null;
}) {
  const [order, setOrder] = useState<Order | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [connectionTrouble, setConnectionTrouble] = useState(false);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      let delay = POLL_MS;
      try {
        const next = await client.shop.getOrder.query({ orderId }, { context: { orderToken: token } });
        if (stopped) return;
        setOrder(next);
        setLoadError(null);
        setConnectionTrouble(false);
        if (FINAL.has(next.status)) return;
      } catch (err) {
        if (stopped) return;
        const apiError = toApiError(err);
        if (apiError.appCode === 'network_error' || apiError.appCode === 'internal_error' || apiError.appCode === 'service_unavailable') {
          setConnectionTrouble(true);
          delay = 2_000;
        } else {
          setLoadError(apiError); // not_found, validation_error: polling again will not help
          return;
        }
      }
      timer = setTimeout(poll, delay);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client, orderId, token]);

  if (loadError) {
    return (
      <section className="card" aria-labelledby="order-error-title">
        <h2 id="order-error-title">We could not open this order</h2>
        <ErrorBox error={loadError} />
        <button type="button" className="btn btn--secondary" onClick={onNewOrder}>Buy a new voucher</button>
      </section>
    );
  }
  if (!order) return <p className="card muted" aria-busy="true">Loading your order…</p>;

  const status = order.status;
  const final = FINAL.has(status);
  const problem = status === 'payment_failed' || status === 'expired' || status === 'refunded' || status === 'failed';
  const current = final || status === 'payment_failed' ? -1 : order.steps.findIndex((s) => !s.done);

  return (
    <section className="card order" aria-labelledby="order-title" data-testid="order" data-status={status}>
      <div className="order__head">
        <div>
          <p className="eyebrow">Order <span className="mono">{order.orderId.slice(0, 8)}</span></p>
          <h2 id="order-title" data-testid="order-headline" className={problem ? 'text-danger' : undefined}>
            {HEADLINE[status]}
          </h2>
        </div>
        <p className="order__amount" data-testid="order-amount">{formatMoney(order.amount, order.currency)}</p>
      </div>

      <p className="visually-hidden" role="status" aria-live="polite">{HEADLINE[status]}</p>
      {connectionTrouble && (
        <p className="alert alert--warning" role="status">Connection problem — still trying to reach the server…</p>
      )}

      {stripeReturn && order.provider === 'stripe' && (status === 'awaiting_payment' || status === 'payment_failed') && (
        <StripeReturnNotice back={stripeReturn} />
      )}

      {(status === 'awaiting_payment' || status === 'payment_failed') && (
        <PaymentStep client={client} orderId={order.orderId} token={token} provider={order.provider} status={status} failureReason={order.failureReason} />
      )}

      <ol className="steps" data-testid="steps" aria-label="Progress">
        {order.steps.map((step, i) => {
          const state = step.done ? 'done' : i === current ? 'active' : 'pending';
          return (
            <li key={step.name} className={`step step--${state}`} data-testid="step" data-done={step.done}>
              <span className="step__icon" aria-hidden="true">{step.done ? '✓' : i === current ? '' : i + 1}</span>
              <span className="step__label">{step.name}</span>
              <span className="visually-hidden">
                {state === 'done' ? ' (done)' : state === 'active' ? ' (in progress)' : ' (to do)'}
              </span>
            </li>
          );
        })}
      </ol>

      {status === 'fulfilled' && <Fulfilled order={order} />}
      {status === 'expired' && (
        <div className="alert alert--error" data-testid="order-problem">
          <p>The payment was not completed in time, so the order was cancelled. You have not been charged.</p>
        </div>
      )}
      {status === 'refunded' && (
        <div className="alert alert--error" data-testid="order-problem">
          <p>The amount was refunded to your card and the voucher can no longer be used.</p>
          {order.failureReason && <p>Reason: {order.failureReason}</p>}
        </div>
      )}
      {status === 'failed' && (
        <div className="alert alert--error" data-testid="order-problem">
          <p>{order.failureReason ?? 'The voucher could not be issued.'}</p>
          <p>If your card was charged, the amount is refunded. Quote order <span className="mono">{order.orderId}</span> to our support.</p>
        </div>
      )}

      {(final || status === 'payment_failed') && (
        <button type="button" className="btn btn--secondary" onClick={onNewOrder} data-testid="new-order">
          Buy another voucher
        </button>
      )}
    </section>
  );
}

function PaymentStep({ client, orderId, token, provider, status, failureReason }: {
  client: Client;
  orderId: string;
  token: string;
  /** 'dev' or 'stripe'. */
  provider: string;
  status: 'awaiting_payment' | 'payment_failed';
  failureReason: string | null;
}) {
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  // A failed payment may be tried again: forget the earlier attempt when the status changes.
  useEffect(() => { setSent(false); }, [status]);

  async function payWithTestCard() {
    setSending(true);
    setError(null);
    try {
      await client.shop.devConfirmPayment.mutate({ orderId }, { context: { orderToken: token } });
      setSent(true);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setSending(false);
    }
  }

  return (
    <div className="payment" data-testid="payment">
      {status === 'payment_failed' && (
        <div className="alert alert--error" role="alert" data-testid="payment-failed">
          <p>{failureReason ?? 'Your card was declined.'} You have not been charged.</p>
        </div>
      )}
      {provider === 'dev' ? (
        <div className="dev-provider" data-testid="dev-payment">
          <p className="dev-provider__badge">Development payment provider — no real money</p>
          <p>This installation has no card payment provider configured. The test card below confirms the payment the
            way a real provider's notification would.</p>
          <button type="button" className="btn btn--primary btn--large" data-testid="pay-test-card"
            onClick={payWithTestCard} disabled={sending || sent}>
            {sending ? 'Paying…' : sent ? 'Payment sent — waiting for confirmation…' : status === 'payment_failed' ? 'Try again with test card' : 'Pay with test card'}
          </button>
          {error && <ErrorBox error={error} />}
        </div>
      ) : (
        <div className="stripe-note" data-testid="stripe-payment">
          <p><strong>Card payment by Stripe.</strong> Once Stripe confirms the payment, its notification reaches us and
            this page moves on by itself.</p>
          <StripePayment client={client} orderId={orderId} token={token} attempt={status} />
        </div>
      )}
    </div>
  );
}

function Fulfilled({ order }: { order: Order }) {
  return (
    <div className="ready" data-testid="voucher-ready">
      {order.downloadUrl ? (
        <a className="btn btn--primary btn--large" href={order.downloadUrl} download data-testid="download-voucher">
          Download voucher (PDF)
        </a>
      ) : (
        <p className="muted">The download link is being prepared…</p>
      )}
      <p data-testid="email-sent">We also sent it to <strong>{order.emailMasked}</strong>.</p>
      {order.last4 && (
        <p data-testid="card-last4">Your voucher code ends in <strong className="mono">{order.last4}</strong> — a genuine voucher
          from this order shows the same four characters.</p>
      )}
      <p className="hint">Print it or show it on your phone at the till. Treat the code like cash.</p>
    </div>
  );
}
