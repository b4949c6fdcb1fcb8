// Print@Home shop: choose an amount, pay, follow the purchase live, download the voucher PDF.
// The order id lives in the URL (/?order=<id>), so a reload or a shared tab resumes the order.

import { useCallback, useEffect, useMemo, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { createClient, type RouterOutputs } from '../trpc.ts';
import { OrderProgress } from './OrderProgress.tsx';
import { PurchaseForm } from './PurchaseForm.tsx';

export type ShopConfig = RouterOutputs['shop']['config'];

function orderIdFromUrl(): string | null {
  const id = new URLSearchParams(window.location.search).get('order');
  return id && id.trim() ? id.trim() : null;
}

function setOrderInUrl(orderId: string | null): void {
  const url = new URL(window.location.href);
  if (orderId) url.searchParams.set('order', orderId);
  else url.searchParams.delete('order');
  window.history.pushState(null, '', url);
}

export function ShopPage() {
  const client = useMemo(() => createClient(), []);
  const [config, setConfig] = useState<ShopConfig | null>(null);
  const [configError, setConfigError] = useState<ApiError | null>(null);
  const [orderId, setOrderId] = useState<string | null>(orderIdFromUrl);
  const [attempt, setAttempt] = useState(0);

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
    const onPop = () => setOrderId(orderIdFromUrl());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const openOrder = useCallback((id: string) => {
    setOrderInUrl(id);
    setOrderId(id);
  }, []);
  const newOrder = useCallback(() => {
    setOrderInUrl(null);
    setOrderId(null);
  }, []);

  return (
    <div className="shop">
      <section className="hero" aria-labelledby="shop-title">
        <h1 id="shop-title">Gift vouchers to print at home</h1>
        <p className="hero__lead">
          Pay online, receive your voucher as a PDF straight away, and spend it in every store of the centre —
          in one go or over several visits.
        </p>
      </section>

      {orderId && <OrderProgress key={orderId} client={client} orderId={orderId} onNewOrder={newOrder} />}

      {!orderId && configError && (
        <div className="card">
          <ErrorBox error={configError} />
          <button type="button" className="btn btn--secondary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {!orderId && !config && !configError && <p className="card muted" aria-busy="true">Loading the shop…</p>}
      {!orderId && config && <PurchaseForm client={client} config={config} onCreated={openOrder} />}
    </div>
  );
}
