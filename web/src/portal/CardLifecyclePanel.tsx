// The card page's lifecycle: deactivate, clear the balance, adjust (large adjustments wait for a
// second person, listed here for approval), transfer to another card, extend expiry, and the
// card's activity history with the balance after each activity. Each button keeps one
// Idempotency-Key per intended action (useIntendedAction), so a retried click acts once.

import { useCallback, useEffect, useState } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney, parseAmount } from '../money.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { formatTime } from './i18n.ts';
import { useIntendedAction } from './useIntendedAction.ts';

type Activity = RouterOutputs['cards']['activities']['activities'][number];
type Adjustment = RouterOutputs['cards']['adjustments']['adjustments'][number];
const CLEAR_REASONS = ['suspicious_activity', 'card_reused', 'support_issue'] as const;

export function CardLifecyclePanel({ cardId, currency, status, onChanged }: { cardId: string; currency: string; status: string; onChanged: () => void }) {
  const { client, t, session, language } = usePortal();
  const role = session.user.role;
  const mayOperate = role === 'admin' || role === 'support';
  const mayAdjust = mayOperate || role === 'finance';
  const [activities, setActivities] = useState<Activity[]>([]);
  const [approvals, setApprovals] = useState<Adjustment[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [clearReason, setClearReason] = useState<(typeof CLEAR_REASONS)[number]>('support_issue');
  const [amount, setAmount] = useState('');
  const [toCard, setToCard] = useState('');
  const [expiresAt, setExpiresAt] = useState('');
  const action = useIntendedAction();

  const load = useCallback(async () => {
    try {
      setActivities((await client.cards.activities.query({ cardId, limit: '50' })).activities);
      if (mayAdjust) setApprovals((await client.cards.adjustments.query({ cardId, status: 'pending' })).adjustments);
    } catch (err) {
      setError(toApiError(err));
    }
  }, [client, cardId, mayAdjust]);
  useEffect(() => {
    void load();
  }, [load]);

  async function act<T extends { card?: { available: number } } | { status: string }>(fingerprint: string, call: (idempotencyKey: string) => Promise<T>) {
    setError(null);
    setNotice(null);
    try {
      const r = await action.run(fingerprint, call);
      if (!r) return;
      if ('card' in r && r.card) setNotice(t('life.done', { balance: formatMoney(r.card.available, currency) }));
      else if ('status' in r && r.status === 'pending') setNotice(t('life.pendingApproval'));
      else setNotice(t('life.done', { balance: '…' }));
      onChanged();
      await load();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  const minor = () => { const p = parseAmount(amount); return p.ok ? p.minor : 0; };
  const ctx = (idempotencyKey: string) => ({ context: { idempotencyKey } });
  const open = status === 'active' || status === 'blocked';

  return (
    <div className="card" data-testid="card-lifecycle">
      <h2>{t('life.title')}</h2>
      {error && <ErrorBox error={error} />}
      {notice && <p className="alert alert--success" data-testid="life-notice">{notice}</p>}
      {(mayOperate || mayAdjust) && open && (
        <div className="portal-filters">
          <label>{t('life.reason')}<input value={reason} maxLength={200} onChange={(e) => setReason(e.target.value)} data-testid="life-reason" /></label>
          <label>{t('life.amount')}<input value={amount} inputMode="decimal" onChange={(e) => setAmount(e.target.value)} data-testid="life-amount" /></label>
          {mayAdjust && (
            <>
              <button type="button" className="btn btn--secondary" disabled={action.busy || !reason || minor() <= 0} data-testid="life-adjust-up"
                onClick={() => void act(`up|${cardId}|${amount}|${reason}`, (k) => client.cards.adjust.mutate({ cardId, direction: 'up', amount: minor(), reason }, ctx(k)).then((r) => r.result ?? r))}>{t('life.adjustUp')}</button>
              <button type="button" className="btn btn--secondary" disabled={action.busy || !reason || minor() <= 0} data-testid="life-adjust-down"
                onClick={() => void act(`down|${cardId}|${amount}|${reason}`, (k) => client.cards.adjust.mutate({ cardId, direction: 'down', amount: minor(), reason }, ctx(k)).then((r) => r.result ?? r))}>{t('life.adjustDown')}</button>
            </>
          )}
          {mayOperate && (
            <>
              <label>{t('life.transferTo')}<input value={toCard} maxLength={36} onChange={(e) => setToCard(e.target.value.trim())} data-testid="life-to-card" /></label>
              <button type="button" className="btn btn--secondary" disabled={action.busy || !toCard} data-testid="life-transfer"
                onClick={() => void act(`transfer|${cardId}|${toCard}|${amount}`, (k) => client.cards.transfer.mutate({ cardId, toCardId: toCard, amount: amount ? minor() : undefined, reason: reason || 'balance transfer' }, ctx(k)))}>{t('life.transfer')}</button>
              <label>{t('life.expiresAt')}<input type="date" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} data-testid="life-expires" /></label>
              <button type="button" className="btn btn--secondary" disabled={action.busy || !expiresAt || !reason} data-testid="life-extend"
                onClick={() => void act(`extend|${cardId}|${expiresAt}`, (k) => client.cards.extendExpiry.mutate({ cardId, expiresAt: `${expiresAt}T23:59:59Z`, reason }, ctx(k)))}>{t('life.extend')}</button>
              <label>{t('life.clear')}
                <select value={clearReason} onChange={(e) => setClearReason(e.target.value as (typeof CLEAR_REASONS)[number])}>
                  {CLEAR_REASONS.map((r) => <option key={r} value={r}>{t(`life.clear.${r}`)}</option>)}
                </select>
              </label>
              <button type="button" className="btn btn--secondary" disabled={action.busy} data-testid="life-clear"
                onClick={() => void act(`clear|${cardId}|${clearReason}`, (k) => client.cards.clearBalance.mutate({ cardId, reason: clearReason }, ctx(k)))}>{t('life.clear')}</button>
            </>
          )}
        </div>
      )}
      {mayOperate && (open || status === 'pending') && (
        <button type="button" className="btn btn--danger" disabled={action.busy || !reason} data-testid="life-deactivate"
          onClick={() => void act(`deactivate|${cardId}|${reason}`, (k) => client.cards.deactivate.mutate({ cardId, reason }, ctx(k)))}>{t('life.deactivate')}</button>
      )}
      {mayAdjust && (
        <>
          <h3>{t('life.approvals')}</h3>
          {approvals.length === 0 ? <p>{t('life.none')}</p> : (
            <ul data-testid="life-approvals">
              {approvals.map((a) => (
                <li key={a.id}>
                  {formatMoney(a.amount, a.currency)} · {a.reason} · {t('life.requestedBy')} {a.requestedByName}{' '}
                  <button type="button" className="btn btn--secondary" disabled={action.busy}
                    onClick={() => void act(`approve|${a.id}`, () => client.cards.decideAdjustment.mutate({ adjustmentId: a.id, approve: true }))}>{t('life.approve')}</button>{' '}
                  <button type="button" className="btn btn--link" disabled={action.busy}
                    onClick={() => void act(`refuse|${a.id}`, () => client.cards.decideAdjustment.mutate({ adjustmentId: a.id, approve: false }))}>{t('life.refuse')}</button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <h3>{t('life.activities')}</h3>
      <table className="portal-table" data-testid="card-activities">
        <thead><tr><th scope="col">{t('tx.time')}</th><th scope="col">{t('tx.type')}</th><th scope="col">{t('tx.amount')}</th>
          <th scope="col">{t('life.balanceAfter')}</th><th scope="col">{t('life.reason')}</th><th scope="col">{t('life.actor')}</th></tr></thead>
        <tbody>
          {activities.map((a) => (
            <tr key={a.id}><th scope="row">{formatTime(language, a.at)}</th><td className="mono">{a.type}</td>
              <td>{formatMoney(a.balanceChange, a.currency)}</td><td>{formatMoney(a.balanceAfter, a.currency)}</td>
              <td>{a.reason ?? '–'}</td><td>{a.actor ?? '–'}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
