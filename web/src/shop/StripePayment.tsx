// The card step with Stripe: the Payment Element (card fields, wallets, 3-D Secure) mounted with the
// order's PaymentIntent client secret from shop.payment. Paying confirms the intent in the browser;
// when the bank asks for 3-D Secure, Stripe sends the shopper to the bank and back to this page
// (return_url), which then shows the order's progress. The order moves on only through Stripe's
// webhook, never because the browser says so.

import { Elements, PaymentElement, useElements, useStripe } from '@stripe/react-stripe-js';
import { loadStripe, type Stripe } from '@stripe/stripe-js';
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { useShopText } from '../i18n/shop.ts';
import type { Client, RouterOutputs } from '../trpc.ts';

type Payment = RouterOutputs['shop']['payment'];

// loadStripe injects Stripe.js once per page; one promise per key keeps re-renders from asking again.
const stripes = new Map<string, Promise<Stripe | null>>();
function stripeFor(publishableKey: string): Promise<Stripe | null> {
  let promise = stripes.get(publishableKey);
  if (!promise) {
    promise = loadStripe(publishableKey);
    stripes.set(publishableKey, promise);
  }
  return promise;
}

/** Where Stripe sends the shopper after 3-D Secure: this order's page (Stripe adds payment_intent and redirect_status). */
export function stripeReturnUrl(orderId: string): string {
  const url = new URL(window.location.pathname, window.location.origin);
  url.searchParams.set('order', orderId);
  return url.toString();
}

export function StripePayment({ client, orderId, token, attempt }: {
  client: Client;
  orderId: string;
  token: string;
  /** Changes when a failed payment may be tried again: the intent is asked for anew. */
  attempt: string;
}) {
  const { t } = useShopText();
  const [payment, setPayment] = useState<Payment | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [stripeFailed, setStripeFailed] = useState(false);

  useEffect(() => {
    let stopped = false;
    client.shop.payment.query({ orderId }, { context: { orderToken: token } }).then(
      (p) => { if (!stopped) setPayment(p); },
      (err: unknown) => { if (!stopped) setError(toApiError(err)); },
    );
    return () => { stopped = true; };
  }, [client, orderId, token, attempt]);

  const stripePromise = payment?.publishableKey ? stripeFor(payment.publishableKey) : null;
  useEffect(() => {
    if (!stripePromise) return;
    let stopped = false;
    stripePromise.then((s) => { if (!stopped && !s) setStripeFailed(true); }, () => { if (!stopped) setStripeFailed(true); });
    return () => { stopped = true; };
  }, [stripePromise]);

  if (error) return <ErrorBox error={error} />;
  if (!payment) return <p className="muted" aria-busy="true">{t('stripe.preparing')}</p>;
  if (!payment.publishableKey) {
    return (
      <div className="stripe-note" data-testid="stripe-unconfigured">
        <p>{t('stripe.unconfigured')}</p>
      </div>
    );
  }
  if (!payment.clientSecret) return <p className="muted" aria-busy="true">{t('payment.stripeWaiting')}</p>;

  if (stripeFailed) {
    return (
      <div className="alert alert--error" role="alert" data-testid="stripe-load-failed">
        <p>{t('stripe.loadFailed')}</p>
      </div>
    );
  }
  return (
    <div className="stripe-payment" data-testid="stripe-payment-form">
      <Elements stripe={stripePromise} options={{ clientSecret: payment.clientSecret }}>
        <CardForm orderId={orderId} />
      </Elements>
    </div>
  );
}

function CardForm({ orderId }: { orderId: string }) {
  const { t } = useShopText();
  const stripe = useStripe();
  const elements = useElements();
  const [paying, setPaying] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  async function pay(event: FormEvent) {
    event.preventDefault();
    if (!stripe || !elements || paying) return;
    setPaying(true);
    setMessage(null);
    // Without 3-D Secure Stripe answers here and the page keeps polling; with it, the browser
    // leaves for the bank and comes back to return_url.
    const { error } = await stripe.confirmPayment({
      elements,
      confirmParams: { return_url: stripeReturnUrl(orderId) },
      redirect: 'if_required',
    });
    if (error) {
      setMessage(error.message ?? t('stripe.declined'));
      setPaying(false);
    }
  }

  return (
    <form onSubmit={pay} data-testid="stripe-card-form">
      <div className="stripe-payment__element" data-testid="stripe-payment-element">
        <PaymentElement options={{ layout: 'tabs' }} />
      </div>
      {message && <p className="alert alert--error" role="alert" data-testid="stripe-card-error">{message}</p>}
      <button type="submit" className="btn btn--primary btn--large" data-testid="stripe-pay" disabled={!stripe || !elements || paying}>
        {t(paying ? 'payment.paying' : 'stripe.pay')}
      </button>
    </form>
  );
}

/** What Stripe's redirect after 3-D Secure says, until the webhook has moved the order on. */
export interface StripeReturn {
  paymentIntent: string;
  redirectStatus: 'succeeded' | 'processing' | 'requires_payment_method' | 'failed' | string;
}

export function stripeReturnFromUrl(): StripeReturn | null {
  const params = new URLSearchParams(window.location.search);
  const paymentIntent = params.get('payment_intent');
  const redirectStatus = params.get('redirect_status');
  return paymentIntent && redirectStatus ? { paymentIntent, redirectStatus } : null;
}

/** Takes Stripe's parameters (with the client secret) out of the address bar and history. */
export function forgetStripeReturnInUrl(): void {
  const url = new URL(window.location.href);
  for (const name of ['payment_intent', 'payment_intent_client_secret', 'redirect_status']) url.searchParams.delete(name);
  window.history.replaceState(null, '', url);
}

export function StripeReturnNotice({ back }: { back: StripeReturn }) {
  const { t } = useShopText();
  const ok = back.redirectStatus === 'succeeded' || back.redirectStatus === 'processing';
  return ok ? (
    <p className="alert alert--info" role="status" data-testid="stripe-return" data-redirect-status={back.redirectStatus}>
      {t('stripe.returnOk')}
    </p>
  ) : (
    <p className="alert alert--error" role="alert" data-testid="stripe-return" data-redirect-status={back.redirectStatus}>
      {t('stripe.returnFailed')}
    </p>
  );
}
