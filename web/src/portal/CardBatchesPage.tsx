// Scratch-card batches: finance orders a batch, its generation progress shows while the workflow
// writes the cards, and the system owner (an admin other than the one who ordered it) approves or
// refuses it. Approved batches are printed through the print-file download (API), voided here.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney, parseAmount } from '../money.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { useIntendedAction } from './useIntendedAction.ts';

type Batch = RouterOutputs['cardBatches']['list']['batches'][number];

export function CardBatchesPage() {
  const { client, t, session } = usePortal();
  const role = session.user.role;
  const [batches, setBatches] = useState<Batch[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [count, setCount] = useState('100');
  const [value, setValue] = useState('25.00');
  const [days, setDays] = useState('365');
  const ordering = useIntendedAction();
  const deciding = useIntendedAction();

  const load = useCallback(() => client.cardBatches.list.query({}).then((r) => setBatches(r.batches), (err) => setError(toApiError(err))), [client]);
  useEffect(() => {
    void load();
    // Progress of big batches: the list refreshes while one is being generated or waits.
    const timer = setInterval(() => void load(), 3_000);
    return () => clearInterval(timer);
  }, [load]);

  async function order(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const parsed = value.trim() ? parseAmount(value) : null;
    if (parsed && !parsed.ok) return setError({ appCode: 'validation_error', message: parsed.error, fields: {}, requestId: null });
    try {
      await ordering.run(`order|${count}|${value}|${days}`, (idempotencyKey) => client.cardBatches.create.mutate({
        count: Number(count), faceValue: parsed?.ok ? parsed.minor : null, currency: 'EUR', validityDays: Number(days),
      }, { context: { idempotencyKey } }));
      await load();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  async function decide(batch: Batch, approve: boolean) {
    setError(null);
    try {
      await deciding.run(`decide|${batch.id}|${approve}`, () => client.cardBatches.decide.mutate({ batchId: batch.id, approve }));
      await load();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  return (
    <section className="portal-page" aria-labelledby="batches-title">
      <h1 id="batches-title">{t('batch.title')}</h1>
      {error && <ErrorBox error={error} />}
      {(role === 'admin' || role === 'finance') && (
        <form className="card portal-filters" onSubmit={order} data-testid="batch-order">
          <label>{t('batch.count')}<input value={count} inputMode="numeric" onChange={(e) => setCount(e.target.value)} data-testid="batch-count" /></label>
          <label>{t('batch.value')}<input value={value} inputMode="decimal" onChange={(e) => setValue(e.target.value)} data-testid="batch-value" /></label>
          <label>{t('batch.days')}<input value={days} inputMode="numeric" onChange={(e) => setDays(e.target.value)} /></label>
          <button type="submit" className="btn btn--primary" disabled={ordering.busy} data-testid="batch-submit">{t('batch.order')}</button>
        </form>
      )}
      <div className="card portal-table-wrap">
        <table className="portal-table" data-testid="batches">
          <thead><tr><th scope="col">#</th><th scope="col">{t('batch.count')}</th><th scope="col">{t('batch.value')}</th>
            <th scope="col">{t('batch.progress')}</th><th scope="col">{t('batch.status')}</th><th scope="col">{t('batch.orderedBy')}</th><th scope="col" /></tr></thead>
          <tbody>
            {batches.map((b) => (
              <tr key={b.id} data-testid="batch-row" data-batch-id={b.id} data-status={b.status}>
                <th scope="row">{b.number}</th><td>{b.count}</td>
                <td>{b.faceValue === null ? t('batch.open') : formatMoney(b.faceValue, b.currency)}</td>
                <td><progress max={b.count} value={b.generated} /> {b.generated}/{b.count}</td>
                <td>{t(`batch.status.${b.status}`)}</td><td>{b.createdByName}</td>
                <td>
                  {role === 'admin' && b.status === 'awaiting_approval' && (
                    <>
                      <button type="button" className="btn btn--secondary" disabled={deciding.busy} data-testid="batch-approve" onClick={() => void decide(b, true)}>{t('batch.approve')}</button>{' '}
                      <button type="button" className="btn btn--link" disabled={deciding.busy} onClick={() => void decide(b, false)}>{t('batch.refuse')}</button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
