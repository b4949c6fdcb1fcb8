// Print@Home shop: choose an amount, pay, follow the purchase live, download the voucher PDF.
// The order lives in the URL (/?order=<id>#token=<access token>), so a reload resumes it. The
// token stays in the fragment, which browsers never send to a server or put in access logs. Stripe's
// return after 3-D Secure comes back without the fragment, so the tab's sessionStorage keeps the token too.

import { useCallback, useEffect, useMemo, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { LanguageSwitcher } from '../i18n/LanguageSwitcher.tsx';
import { ShopTextProvider, useShopText } from '../i18n/shop.ts';
import { createClient, type RouterOutputs } from '../trpc.ts';
import { OrderProgress } from './OrderProgress.tsx';
import { PurchaseForm } from './PurchaseForm.tsx';
import { forgetStripeReturnInUrl, stripeReturnFromUrl, type StripeReturn } from './StripePayment.tsx';

export type ShopConfig = RouterOutputs['shop']['config'];

interface OrderRef {
  orderId: string;
  token: string;
}

const tokenKey = (orderId: string) => `order-token:${orderId}`;

function rememberToken(order: OrderRef): void {
  try {
    window.sessionStorage.setItem(tokenKey(order.orderId), order.token);
  } catch {
    // Storage refused (private mode): the fragment still carries the token.
  }
}

function rememberedToken(orderId: string): string | null {
  try {
    return window.sessionStorage.getItem(tokenKey(orderId));
  } catch {
    return null;
  }
}

function orderFromUrl(): OrderRef | null {
  const id = new URLSearchParams(window.location.search).get('order')?.trim();
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token')?.trim() || (id ? rememberedToken(id) : null);
  return id && token ? { orderId: id, token } : null;
}

/** Read once: the page cleans Stripe's parameters out of the address right after. */
const stripeReturnAtLoad: StripeReturn | null = stripeReturnFromUrl();

function setOrderInUrl(order: OrderRef | null): void {
  const url = new URL(window.location.href);
  if (order) {
    rememberToken(order);
    url.searchParams.set('order', order.orderId);
    url.hash = new URLSearchParams({ token: order.token }).toString();
  } else {
    url.searchParams.delete('order');
    url.hash = '';
  }
  window.history.pushState(null, '', url);
}

export function ShopPage() {
  return <ShopTextProvider><Shop /></ShopTextProvider>;
}

function ShopLanguage() {
  const { language, setLanguage, t } = useShopText();
  return <LanguageSwitcher language={language} setLanguage={setLanguage} label={t('language.label')} title={t('page.title')} testId="shop-language" />;
}

function Shop() {
  const { t } = useShopText();
  const client = useMemo(() => createClient(), []);
  const [config, setConfig] = useState<ShopConfig | null>(null);
  const [configError, setConfigError] = useState<ApiError | null>(null);
  const [order, setOrder] = useState<OrderRef | null>(orderFromUrl);
  const [attempt, setAttempt] = useState(0);

  // Back from the bank (3-D Secure): the token is put back into the fragment, Stripe's parameters go.
  useEffect(() => {
    if (!stripeReturnAtLoad) return;
    const current = orderFromUrl();
    forgetStripeReturnInUrl();
    if (current) {
      const url = new URL(window.location.href);
      url.hash = new URLSearchParams({ token: current.token }).toString();
      window.history.replaceState(null, '', url);
    }
  }, []);

  useEffect(() => {
    let cancelled = false;
    setConfigError(null);
    client.shop.config.query().then(
      (c) => { if (!cancelled) setConfig(c); },
      (err: unknown) => { if (!cancelled) setConfigError(toApiError(err)); },
    );
    return () => { cancelled = true; };
  }, [client, attempt]);

  // Back and forward between the form and an order.
  useEffect(() => {
    const onPop = () => setOrder(orderFromUrl());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const openOrder = useCallback((orderId: string, token: string) => {
    setOrderInUrl({ orderId, token });
    setOrder({ orderId, token });
  }, []);
  const newOrder = useCallback(() => {
    setOrderInUrl(null);
    setOrder(null);
  }, []);

  return (
    <div className="shop">
      <ShopLanguage />
      <section className="hero" aria-labelledby="shop-title">
        <h1 id="shop-title">{t('hero.title')}</h1>
        <p className="hero__lead">{t('hero.lead')}</p>
      </section>

      {order && <OrderProgress key={order.orderId} client={client} orderId={order.orderId} token={order.token} onNewOrder={newOrder}
        stripeReturn={stripeReturnAtLoad} />}

      {!order && configError && (
        <div className="card">
          <ErrorBox error={configError} />
          <button type="button" className="btn btn--secondary" onClick={() => setAttempt((n) => n + 1)}>
            {t('shop.retry')}
          </button>
        </div>
      )}
      {!order && !config && !configError && <p className="card muted" aria-busy="true">{t('shop.loading')}</p>}
      {!order && config && <PurchaseForm client={client} config={config} onCreated={openOrder} />}
    </div>
  );
}
