// How the last redemption ended: paid (and what went back to the voucher) or voided.

import { usePosText } from '../i18n/pos.ts';
import type { Outcome } from './usePosSession.ts';

export function RedemptionResult({ outcome }: { outcome: Outcome }) {
  const { t, money } = usePosText();
  const r = outcome.redemption;
  return (
    <div className={`alert ${outcome.kind === 'captured' ? 'alert--success' : 'alert--info'}`} role="status" data-testid="result" data-kind={outcome.kind}>
      {outcome.kind === 'captured'
        ? <p><strong>{t('result.paid', { amount: money(r.capturedAmount, r.currency) })}</strong>{t('result.paidTail')}
          {r.capturedAmount < r.approvedAmount && <> {t('result.returned', { amount: money(r.approvedAmount - r.capturedAmount, r.currency) })}</>}</p>
        : <p><strong>{t('result.voided')}</strong> {t('result.returned', { amount: money(r.approvedAmount, r.currency) })}</p>}
      {r.card && <p>{t('result.newBalance')} <strong data-testid="result-balance">{money(r.card.available, r.card.currency)}</strong></p>}
    </div>
  );
}
