// Support console: stuck purchases, redemptions and clearings, read from Temporal, with the failing
// step and its last error; retry the step now, cancel an open redemption (its hold is voided), or
// open the workflow in the Temporal UI.

import { useCallback, useEffect, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';

type Stuck = RouterOutputs['support']['stuck']['workflows'][number];

export function SupportPage() {
  const { client, t } = usePortal();
  const [threshold, setThreshold] = useState(10);
  const [rows, setRows] = useState<Stuck[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

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

  async function act(call: () => Promise<unknown>, done: string) {
    setError(null);
    try {
      await call();
      setNotice(done);
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
              <tr key={w.workflowId}>
                <th scope="row"><span className="mono">{w.workflowId}</span><br /><span className="muted">{w.type}</span></th>
                <td>{w.failingStep ?? '–'}</td><td>{w.attempt ?? '–'}</td>
                <td className="text-danger portal-error-cell">{w.lastError ?? ''}</td>
                <td>{t('support.minutes', { minutes: w.runningMinutes })}</td>
                <td className="actions">
                  {w.attempt !== null && w.attempt > 1 && (
                    <button type="button" className="btn btn--primary" onClick={() => void act(() => client.support.retryNow.mutate({ workflowId: w.workflowId }), t('support.retried', { id: w.workflowId }))}>{t('support.retry')}</button>
                  )}
                  {w.cancellable && (
                    <button type="button" className="btn btn--danger" onClick={() => void act(() => client.support.cancel.mutate({ workflowId: w.workflowId }), t('support.cancelled', { id: w.workflowId }))}>{t('support.cancel')}</button>
                  )}
                  {w.temporalUrl && <a href={w.temporalUrl} target="_blank" rel="noreferrer">{t('support.temporal')}</a>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows !== null && rows.length === 0 && <p className="muted">{t('support.none')}</p>}
      </div>
    </section>
  );
}
