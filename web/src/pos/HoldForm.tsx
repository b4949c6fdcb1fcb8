// The second phase: the open hold, captured in full or in part (the rest goes back) or voided.

import { formatClock } from '../i18n/core.ts';
import { usePosText } from '../i18n/pos.ts';
import type { PosSession, Redemption } from './usePosSession.ts';

export function HoldForm({ session: s, hold }: { session: PosSession; hold: Redemption }) {
  const { t, money, language } = usePosText();
  return (
    <form className="card card--hold" onSubmit={s.capture} aria-labelledby="pos-hold-title" data-testid="hold" data-hold-id={hold.id}>
      <h2 id="pos-hold-title">{t('hold.title')}</h2>
      <p className="big-amount" data-testid="hold-amount">{money(hold.approvedAmount, hold.currency)}</p>
      {hold.approvedAmount < hold.requestedAmount && (
        <p className="alert alert--warning" data-testid="partial-approval">
          {t('hold.partial', {
            requested: money(hold.requestedAmount, hold.currency),
            rest: money(hold.requestedAmount - hold.approvedAmount, hold.currency),
          })}
        </p>
      )}
      <dl className="facts">
        <div><dt>{t('hold.reference')}</dt><dd className="mono">{hold.posReference}</dd></div>
        <div><dt>{t('hold.expires')}</dt><dd>{formatClock(language, hold.expiresAt)}</dd></div>
      </dl>
      <div className="field">
        <label htmlFor="pos-capture">{t('hold.captureLabel')}</label>
        <div className="input-affix">
          <input
            id="pos-capture"
            data-testid="capture-amount"
            inputMode="decimal"
            autoComplete="off"
            placeholder={t('hold.capturePlaceholder', { amount: money(hold.approvedAmount, hold.currency) })}
            value={s.captureAmount}
            onChange={(e) => s.setCaptureAmount(e.target.value)}
          />
          <span className="input-affix__suffix" aria-hidden="true">{hold.currency}</span>
        </div>
      </div>
      <div className="actions">
        <button type="submit" className="btn btn--success btn--large" data-testid="capture" disabled={s.busy !== null}>
          {s.busy === 'capture' ? t('hold.capturing') : t('hold.capture')}
        </button>
        <button type="button" className="btn btn--danger btn--large" data-testid="void" onClick={() => void s.voidHold()} disabled={s.busy !== null}>
          {s.busy === 'void' ? t('hold.voiding') : t('hold.void')}
        </button>
      </div>
    </form>
  );
}
