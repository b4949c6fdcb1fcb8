// The settlement of a closed period on the clearing page: each party's payment and its state,
// the SEPA files to download for the bank, DATEV exports, the bank statement (camt.053) upload
// and the differences it found. Downloads and the upload go to the settlement routes with the
// session cookie (and its CSRF token for the upload).

import { useCallback, useEffect, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney } from '../money.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';

type Settlement = RouterOutputs['settlement']['get'];

export function SettlementPanel({ period }: { period: string }) {
  const { client, t, session } = usePortal();
  const [settlement, setSettlement] = useState<Settlement | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setSettlement(await client.settlement.get.query({ period }));
      setMissing(false);
    } catch (err) {
      const e = toApiError(err);
      if (e.appCode === 'period_not_found') setMissing(true);
      else setError(e);
    }
  }, [client, period]);

  useEffect(() => { void load(); }, [load]);
  // Closing the period starts the run a moment later: keep looking until it is there.
  useEffect(() => {
    if (!missing) return undefined;
    const timer = setInterval(() => void load(), 2_000);
    return () => clearInterval(timer);
  }, [missing, load]);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.settlement.start.mutate({ period });
      // The run takes a moment: look again shortly.
      setTimeout(() => void load(), 1_500);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const upload = async (file: File) => {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/v1/settlement/periods/${period}/bank-statements`, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'content-type': 'application/xml', 'x-csrf-token': session.csrfToken ?? '' }, body: await file.text(),
      });
      if (!res.ok) {
        const body = await res.json().catch(() => null) as { error?: { code: string; message: string; request_id?: string } } | null;
        setError({ appCode: body?.error?.code ?? 'internal_error', message: body?.error?.message ?? res.statusText, fields: {}, requestId: body?.error?.request_id ?? null });
      }
      await load();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="settlement">
      <h3>{t('settlement.title')}</h3>
      {error && <ErrorBox error={error} />}
      {missing && (
        <p>{t('settlement.notSettled')} <button type="button" className="btn btn--secondary" disabled={busy} onClick={() => void start()}>{t('settlement.start')}</button></p>
      )}
      {settlement && (
        <>
          <div className="portal-table-wrap">
            <table className="portal-table" data-testid="settlement-payments">
              <thead>
                <tr>
                  <th scope="col">{t('clearing.party')}</th><th scope="col">{t('settlement.method')}</th>
                  <th scope="col">{t('settlement.amount')}</th><th scope="col">{t('settlement.state')}</th><th scope="col">DATEV</th>
                </tr>
              </thead>
              <tbody>
                {settlement.payments.map((p) => (
                  <tr key={`${p.billingPartyId}-${p.currency}`}>
                    <th scope="row">{p.partyName}</th>
                    <td>{t(`settlement.method.${p.method}`)}</td>
                    <td>{formatMoney(p.direction === 'payout' ? p.amount : -p.amount, p.currency)}</td>
                    <td className={['returned', 'missing', 'wrong_amount'].includes(p.status) ? 'text-danger' : undefined}>
                      {t(`settlement.status.${p.status}`)}{p.returnReason ? ` (${p.returnReason})` : ''}
                    </td>
                    <td><a href={`/v1/settlement/periods/${period}/datev/${p.billingPartyId}.csv`}>CSV</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ul className="portal-list" data-testid="settlement-files">
            {settlement.files.map((f) => (
              <li key={f.id}>
                <a href={f.downloadPath}>{f.msgId}.xml</a>
                <span className="muted">{t(`settlement.kind.${f.kind}`)} · {f.payments} · {formatMoney(f.controlSum, 'EUR')}</span>
              </li>
            ))}
          </ul>
          <label className="portal-inline">
            <span>{t('settlement.upload')}</span>
            <input type="file" accept=".xml,application/xml,text/xml" disabled={busy} data-testid="camt-upload"
              onChange={(e) => { const file = e.target.files?.[0]; if (file) void upload(file); e.target.value = ''; }} />
          </label>
          {settlement.differences.length > 0 && (
            <>
              <h4>{t('settlement.differences')}</h4>
              <ul className="portal-list" data-testid="settlement-differences">
                {settlement.differences.map((d, i) => <li key={i} className="text-danger">{d.detail}</li>)}
              </ul>
            </>
          )}
        </>
      )}
    </div>
  );
}
