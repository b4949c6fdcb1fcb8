// The first phase of a redemption: the amount to pay with the voucher, reserved as a hold.

import { usePosText } from '../i18n/pos.ts';
import { CURRENCY, type PosSession } from './usePosSession.ts';

export function AuthorizeForm({ session: s }: { session: PosSession }) {
  const { t } = usePosText();
  return (
    <form className="card" onSubmit={s.authorize} aria-labelledby="pos-redeem-title">
      <h2 id="pos-redeem-title">{t('redeem.title')}</h2>
      <div className="field">
        <label htmlFor="pos-amount">{t('redeem.amountLabel')}</label>
        <div className="input-affix">
          <input
            id="pos-amount"
            ref={s.amountRef}
            data-testid="redeem-amount"
            className="input--amount"
            inputMode="decimal"
            autoComplete="off"
            placeholder={t('redeem.amountPlaceholder')}
            value={s.amount}
            onChange={(e) => s.setAmount(e.target.value)}
          />
          <span className="input-affix__suffix" aria-hidden="true">{CURRENCY}</span>
        </div>
      </div>
      <label className="checkbox">
        <input type="checkbox" data-testid="allow-partial" checked={s.allowPartial} onChange={(e) => s.setAllowPartial(e.target.checked)} />
        <span>{t('redeem.allowPartial')}</span>
      </label>
      <button type="submit" className="btn btn--primary btn--large btn--block" data-testid="authorize" disabled={s.busy !== null}>
        {s.busy === 'authorize' ? t('redeem.authorizing') : t('redeem.authorize')}
      </button>
    </form>
  );
}
