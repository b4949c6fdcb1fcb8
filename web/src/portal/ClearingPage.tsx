// Finance's clearing page: periods with their status, a period's live progress, positions (which
// always sum to zero), statement downloads, the workflow in the Temporal UI, and approve-and-close.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney } from '../money.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { formatTime } from './i18n.ts';
import { useIntendedAction } from './useIntendedAction.ts';
import { SettlementPanel } from './SettlementPanel.tsx';

type Period = RouterOutputs['clearing']['list']['periods'][number];
type Detail = RouterOutputs['clearing']['get'];

function previousMonth(): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export function ClearingPage() {
  const { client, t, language } = usePortal();
  const [periods, setPeriods] = useState<Period[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [period, setPeriod] = useState(previousMonth);
  const [error, setError] = useState<ApiError | null>(null);
  const action = useIntendedAction();
  const busy = action.busy;

  const when = (iso: string | null) => (iso ? formatTime(language, iso) : '');

  const loadPeriods = useCallback(async () => {
    const list = await client.clearing.list.query();
    setPeriods(list.periods);
  }, [client]);

  useEffect(() => {
    loadPeriods().catch((err) => setError(toApiError(err)));
  }, [loadPeriods]);

  // Follow the selected period while its workflow works; stop once it waits for finance or is closed.
  useEffect(() => {
    if (!selected) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const next = await client.clearing.get.query({ period: selected });
        if (stopped) return;
        setDetail(next);
        const settled = next.status === 'closed' || next.progress?.step === 'awaiting_approval';
        if (!settled) timer = setTimeout(poll, 1_000);
        else void loadPeriods();
      } catch (err) {
        if (!stopped) setError(toApiError(err));
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client, selected, loadPeriods]);

  // Approving and rerunning settle money: one key per period and step, kept across retries.
  async function act(fingerprint: string, call: (idempotencyKey: string) => Promise<unknown>) {
    setError(null);
    try {
      await action.run(fingerprint, call);
    } catch (err) {
      setError(toApiError(err));
    }
  }

  const start = (e: FormEvent) => {
    e.preventDefault();
    void act(`start|${period}`, async () => {
      await client.clearing.start.mutate({ period });
      await loadPeriods();
      setDetail(null);
      setSelected(null);
      setSelected(period);
    });
  };

  const approve = () => {
    if (!detail || !window.confirm(t('clearing.approveConfirm', { period: detail.period }))) return;
    void act(`approve|${detail.period}`, async (idempotencyKey) => {
      await client.clearing.approve.mutate({ period: detail.period }, { context: { idempotencyKey } });
      setDetail(await client.clearing.get.query({ period: detail.period }));
      await loadPeriods();
    });
  };

  const rerun = () => {
    if (!detail) return;
    void act(`rerun|${detail.period}`, async (idempotencyKey) => {
      await client.clearing.rerun.mutate({ period: detail.period }, { context: { idempotencyKey } });
      setSelected(null);
      setSelected(detail.period);
    });
  };

  return (
    <section className="portal-page" aria-labelledby="clearing-title">
      <h1 id="clearing-title">{t('clearing.title')}</h1>
      <div className="portal-columns">
        <div className="card">
          <h2>{t('clearing.periods')}</h2>
          <form className="portal-inline" onSubmit={start}>
            <label htmlFor="period">{t('clearing.period')}</label>
            <input id="period" value={period} pattern="\d{4}-\d{2}" required onChange={(e) => setPeriod(e.target.value)} />
            <button type="submit" className="btn btn--primary" disabled={busy}>{t('clearing.start')}</button>
          </form>
          {periods === null ? <p className="muted">{t('common.loading')}</p>
            : periods.length === 0 ? <p className="muted">{t('clearing.none')}</p>
            : (
              <ul className="portal-list" data-testid="periods">
                {periods.map((p) => (
                  <li key={p.period}>
                    <button type="button" className="btn btn--link" aria-current={selected === p.period ? 'true' : undefined}
                      onClick={() => { setDetail(null); setSelected(p.period); }}>{p.period}</button>
                    <span className={`badge badge--${p.status}`}>{t(`clearing.status.${p.status}`)}</span>
                  </li>
                ))}
              </ul>
            )}
        </div>
        <div className="card" data-testid="period-detail">
          {error && <ErrorBox error={error} />}
          {detail && (
            <>
              <h2>{detail.period} <span className={`badge badge--${detail.status}`} data-testid="period-status">{t(`clearing.status.${detail.status}`)}</span></h2>
              {detail.progress && detail.status === 'running' && (
                <p className="muted">{t('clearing.step', { step: detail.progress.step, done: detail.progress.statementsDone, total: detail.progress.parties })}</p>
              )}
              {detail.closedAt && <p className="muted">{t('clearing.closedBy', { when: when(detail.closedAt), who: detail.approvedBy ?? '' })}</p>}
              {detail.temporalUrl && <p><a href={detail.temporalUrl} target="_blank" rel="noreferrer">{t('clearing.temporal')}</a></p>}
              <h3>{t('clearing.positions')}</h3>
              <div className="portal-table-wrap">
                <table className="portal-table" data-testid="positions">
                  <thead>
                    <tr>
                      <th scope="col">{t('clearing.party')}</th><th scope="col">{t('clearing.sales')}</th>
                      <th scope="col">{t('clearing.redemptions')}</th><th scope="col">{t('clearing.refunds')}</th>
                      <th scope="col">{t('clearing.breakage')}</th><th scope="col">{t('clearing.liability')}</th>
                      <th scope="col">{t('clearing.net')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {detail.positions.map((p) => (
                      <tr key={`${p.currency}-${p.partyKey}`}>
                        <th scope="row">{p.partyName}</th>
                        <td>{formatMoney(p.salesAmount, p.currency)}</td><td>{formatMoney(p.redemptionsAmount, p.currency)}</td>
                        <td>{formatMoney(p.refundsAmount, p.currency)}</td><td>{formatMoney(p.breakageAmount, p.currency)}</td>
                        <td>{formatMoney(p.liabilityChange, p.currency)}</td>
                        <td className={p.net < 0 ? 'text-danger' : undefined}>{formatMoney(p.net, p.currency)}</td>
                      </tr>
                    ))}
                  </tbody>
                  {detail.positions.length > 0 && (
                    <tfoot>
                      <tr>
                        <th scope="row" colSpan={6}>{t('clearing.total')}</th>
                        <td data-testid="net-total">{[...new Set(detail.positions.map((p) => p.currency))].map((c) => formatMoney(detail.positions.filter((p) => p.currency === c).reduce((n, p) => n + p.net, 0), c)).join(' · ')}</td>
                      </tr>
                    </tfoot>
                  )}
                </table>
              </div>
              <h3>{t('clearing.statements')}</h3>
              <ul className="portal-list" data-testid="statements">
                {detail.statements.map((s) => {
                  const party = detail.positions.find((p) => p.partyKey === s.billingPartyId)?.partyName ?? s.billingPartyId;
                  return (
                    <li key={s.billingPartyId}>
                      <span>{party}</span>
                      <a href={s.pdfUrl}>{t('clearing.pdf')}</a> <a href={s.csvUrl}>{t('clearing.csv')}</a>
                      <span className={s.emailError ? 'text-danger' : 'muted'}>
                        {s.emailedAt ? t('clearing.emailed', { when: when(s.emailedAt) }) : s.emailError ? t('clearing.emailFailed', { error: s.emailError }) : t('clearing.notEmailed')}
                      </span>
                    </li>
                  );
                })}
              </ul>
              {detail.status === 'closed' && <SettlementPanel period={detail.period} />}
              {detail.status === 'awaiting_approval' && detail.progress?.step === 'awaiting_approval' && (
                <div className="actions">
                  <button type="button" className="btn btn--primary" disabled={busy} onClick={approve}>{t('clearing.approve')}</button>
                  <button type="button" className="btn btn--secondary" disabled={busy} onClick={rerun}>{t('clearing.rerun')}</button>
                </div>
              )}
            </>
          )}
        </div>
      </div>
    </section>
  );
}
