// Support console: stuck purchases, redemptions and clearings, read from Temporal, with the failing
// step and its last error; retry the step now, cancel with compensation (a redemption's hold is
// voided; a purchase's payment is cancelled, or its voucher cancelled and the payment refunded),
// with a reason and a confirmation, or open the workflow in the Temporal UI.

import { Fragment, useCallback, useEffect, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { useIntendedAction } from './useIntendedAction.ts';

type Stuck = RouterOutputs['support']['stuck']['workflows'][number];

export function SupportPage() {
  const { client, t } = usePortal();
  const [threshold, setThreshold] = useState(10);
  const [rows, setRows] = useState<Stuck[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<{ workflowId: string; reason: string } | null>(null);

  const load = useCallback(async () => {
    try {
      setRows((await client.support.stuck.query({ thresholdMinutes: threshold })).workflows);
    } catch (err) {
      setError(toApiError(err));
    }
  }, [client, threshold]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 5_000);
    return () => clearInterval(timer);
  }, [load]);

  // Cancelling refunds a payment: one intent per workflow and step, its buttons disabled in flight.
  const action = useIntendedAction();
  async function act<R>(fingerprint: string, call: () => Promise<R>, done: (result: R) => string) {
    setError(null);
    try {
      const result = await action.run(fingerprint, call);
      if (result === undefined) return;
      setNotice(done(result));
      setConfirming(null);
      await load();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  return (
    <section className="portal-page" aria-labelledby="support-title">
      <h1 id="support-title">{t('support.title')}</h1>
      <p className="muted">{t('support.intro')}</p>
      <label className="portal-inline">{t('support.threshold')}
        <input type="number" min={1} value={threshold} onChange={(e) => setThreshold(Math.max(1, Number(e.target.value) || 1))} />
      </label>
      {notice && <p className="alert alert--success" data-testid="support-notice">{notice}</p>}
      {error && <ErrorBox error={error} />}
      <div className="card portal-table-wrap">
        <table className="portal-table" data-testid="stuck">
          <thead>
            <tr><th scope="col">{t('support.workflow')}</th><th scope="col">{t('support.step')}</th><th scope="col">{t('support.attempt')}</th>
              <th scope="col">{t('support.error')}</th><th scope="col">{t('support.running')}</th><th /></tr>
          </thead>
          <tbody>
            {(rows ?? []).map((w) => (
              <Fragment key={w.workflowId}>
                <tr>
                  <th scope="row" className="portal-workflow-id"><span className="mono">{w.workflowId}</span><br /><span className="muted">{w.type}</span></th>
                  <td>{w.failingStep ?? '–'}</td><td>{w.attempt ?? '–'}</td>
                  <td className="text-danger portal-error-cell">{w.lastError ?? ''}</td>
                  <td>{t('support.minutes', { minutes: w.runningMinutes })}</td>
                  <td className="portal-actions-cell">
                    <div className="portal-row-actions">
                      {w.attempt !== null && w.attempt > 1 && (
                        <button type="button" className="btn btn--primary" disabled={action.busy} onClick={() => void act(`retry|${w.workflowId}`, () => client.support.retryNow.mutate({ workflowId: w.workflowId }), () => t('support.retried', { id: w.workflowId }))}>{t('support.retry')}</button>
                      )}
                      {w.cancellable && confirming?.workflowId !== w.workflowId && (
                        <button type="button" className="btn btn--danger" onClick={() => setConfirming({ workflowId: w.workflowId, reason: '' })}>{t('support.cancel')}</button>
                      )}
                      {w.temporalUrl && <a href={w.temporalUrl} target="_blank" rel="noreferrer">{t('support.temporal')}</a>}
                    </div>
                  </td>
                </tr>
                {confirming?.workflowId === w.workflowId && (
                  <tr className="portal-confirm-row">
                    <td colSpan={6}>
                      <form className="portal-inline" data-testid="cancel-confirm" onSubmit={(e) => {
                        e.preventDefault();
                        void act(`cancel|${w.workflowId}`, () => client.support.cancel.mutate({ workflowId: w.workflowId, reason: confirming.reason }),
                          (r) => t(`support.compensation.${r.compensation}`, { id: w.workflowId }));
                      }}>
                        <label>{t('support.cancelReason')}
                          <input required maxLength={200} size={40} value={confirming.reason} onChange={(e) => setConfirming({ ...confirming, reason: e.target.value })} />
                        </label>
                        <button type="submit" className="btn btn--danger" disabled={action.busy}>{t('support.cancelConfirm')}</button>
                        <button type="button" className="btn btn--secondary" onClick={() => setConfirming(null)}>{t('support.keep')}</button>
                      </form>
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
        {rows !== null && rows.length === 0 && <p className="muted">{t('support.none')}</p>}
      </div>
    </section>
  );
}
