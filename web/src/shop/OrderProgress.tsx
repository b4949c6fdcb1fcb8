// The order after "Buy": the payment step, then a live list of the purchase workflow's steps
// (shop.getOrder polled every 500 ms) until the voucher is ready or the order ends otherwise.

import { useEffect, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { useShopText, type ShopKey } from '../i18n/shop.ts';
import type { Client, RouterOutputs } from '../trpc.ts';
import { StripePayment, StripeReturnNotice, type StripeReturn } from './StripePayment.tsx';

type Order = RouterOutputs['shop']['getOrder'];
type Status = Order['status'];

const POLL_MS = 500;
const STEP_NAMES = new Set(['payment confirmed', 'voucher issued', 'PDF and e-mail sent']);
const FINAL: ReadonlySet<Status> = new Set<Status>(['fulfilled', 'expired', 'refunded', 'failed']);

const HEADLINE = (status: Status): ShopKey => `status.${status}`;

export function OrderProgress({ client, orderId, token, onNewOrder, stripeReturn = null }: {
  client: Client;
  orderId: string;
  token: string;
  onNewOrder: () => void;
  /** Stripe's redirect back after 3-D Secure, if the page was opened by it. */
  stripeReturn?: StripeReturn | null;
}) {
  const { t, money } = useShopText();
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
        <h2 id="order-error-title">{t('order.openFailed')}</h2>
        <ErrorBox error={loadError} />
        <button type="button" className="btn btn--secondary" onClick={onNewOrder}>{t('order.buyNew')}</button>
      </section>
    );
  }
  if (!order) return <p className="card muted" aria-busy="true">{t('order.loading')}</p>;

  const status = order.status;
  const final = FINAL.has(status);
  const problem = status === 'payment_failed' || status === 'expired' || status === 'refunded' || status === 'failed';
  const current = final || status === 'payment_failed' ? -1 : order.steps.findIndex((s) => !s.done);

  return (
    <section className="card order" aria-labelledby="order-title" data-testid="order" data-status={status}>
      <div className="order__head">
        <div>
          <p className="eyebrow">{t('order.label')} <span className="mono">{order.orderId.slice(0, 8)}</span></p>
          <h2 id="order-title" data-testid="order-headline" className={problem ? 'text-danger' : undefined}>
            {t(HEADLINE(status))}
          </h2>
        </div>
        <p className="order__amount" data-testid="order-amount">{money(order.amount, order.currency)}</p>
      </div>

      <p className="visually-hidden" role="status" aria-live="polite">{t(HEADLINE(status))}</p>
      {connectionTrouble && (
        <p className="alert alert--warning" role="status">{t('order.connection')}</p>
      )}

      {stripeReturn && order.provider === 'stripe' && (status === 'awaiting_payment' || status === 'payment_failed') && (
        <StripeReturnNotice back={stripeReturn} />
      )}

      {(status === 'awaiting_payment' || status === 'payment_failed') && (
        <PaymentStep client={client} orderId={order.orderId} token={token} provider={order.provider} status={status} failureReason={order.failureReason} />
      )}

      <ol className="steps" data-testid="steps" aria-label={t('order.progress')}>
        {order.steps.map((step, i) => {
          const state = step.done ? 'done' : i === current ? 'active' : 'pending';
          return (
            <li key={step.name} className={`step step--${state}`} data-testid="step" data-done={step.done}>
              <span className="step__icon" aria-hidden="true">{step.done ? '✓' : i === current ? '' : i + 1}</span>
              <span className="step__label">{STEP_NAMES.has(step.name) ? t(`step.${step.name}` as ShopKey) : step.name}</span>
              <span className="visually-hidden">
                {t(state === 'done' ? 'step.done' : state === 'active' ? 'step.active' : 'step.todo')}
              </span>
            </li>
          );
        })}
      </ol>

      {status === 'fulfilled' && <Fulfilled order={order} />}
      {status === 'expired' && (
        <div className="alert alert--error" data-testid="order-problem">
          <p>{t('order.expired')}</p>
        </div>
      )}
      {status === 'refunded' && (
        <div className="alert alert--error" data-testid="order-problem">
          <p>{t('order.refunded')}</p>
          {order.failureReason && <p>{t('order.reason', { reason: order.failureReason })}</p>}
        </div>
      )}
      {status === 'failed' && (
        <div className="alert alert--error" data-testid="order-problem">
          <p>{order.failureReason ?? t('order.failed')}</p>
          <p>{t('order.failedSupport', { orderId: order.orderId })}</p>
        </div>
      )}

      {(final || status === 'payment_failed') && (
        <button type="button" className="btn btn--secondary" onClick={onNewOrder} data-testid="new-order">
          {t('order.buyAnother')}
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
  const { t } = useShopText();
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
          <p>{failureReason ?? t('payment.declined')} {t('payment.notCharged')}</p>
        </div>
      )}
      {provider === 'dev' ? (
        <div className="dev-provider" data-testid="dev-payment">
          <p className="dev-provider__badge">{t('payment.devBadge')}</p>
          <p>{t('payment.devText')}</p>
          <button type="button" className="btn btn--primary btn--large" data-testid="pay-test-card"
            onClick={payWithTestCard} disabled={sending || sent}>
            {t(sending ? 'payment.paying' : sent ? 'payment.sent' : status === 'payment_failed' ? 'payment.retryTestCard' : 'payment.testCard')}
          </button>
          {error && <ErrorBox error={error} />}
        </div>
      ) : (
        <div className="stripe-note" data-testid="stripe-payment">
          <p><strong>{t('payment.stripeTitle')}</strong> {t('payment.stripeText')}</p>
          <StripePayment client={client} orderId={orderId} token={token} attempt={status} />
        </div>
      )}
    </div>
  );
}

function Fulfilled({ order }: { order: Order }) {
  const { t } = useShopText();
  const [emailBefore, emailAfter] = t('ready.emailed').split('{email}');
  const [last4Before, last4After] = t('ready.last4').split('{last4}');
  return (
    <div className="ready" data-testid="voucher-ready">
      {order.downloadUrl ? (
        <a className="btn btn--primary btn--large" href={order.downloadUrl} download data-testid="download-voucher">
          {t('ready.download')}
        </a>
      ) : (
        <p className="muted">{t('ready.preparing')}</p>
      )}
      <p data-testid="email-sent">{emailBefore}<strong>{order.emailMasked}</strong>{emailAfter}</p>
      {order.last4 && (
        <p data-testid="card-last4">{last4Before}<strong className="mono">{order.last4}</strong>{last4After}</p>
      )}
      <p className="hint">{t('ready.hint')}</p>
    </div>
  );
}
