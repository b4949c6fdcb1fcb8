// The code field a USB barcode/QR scanner types into (it ends with Enter) and the lookup buttons.

import { usePosText } from '../i18n/pos.ts';
import type { PosSession } from './usePosSession.ts';

export function VoucherForm({ session: s }: { session: PosSession }) {
  const { t } = usePosText();
  const locked = s.busy !== null || !!s.hold;
  return (
    <form className="card" onSubmit={s.lookup} aria-labelledby="pos-code-title">
      <h2 id="pos-code-title">{t('voucher.title')}</h2>
      <div className="field">
        <label htmlFor="pos-code">{t('voucher.codeLabel')}</label>
        <input
          id="pos-code"
          ref={s.codeRef}
          data-testid="code"
          className="input--code"
          autoFocus
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          placeholder="XXXX-XXXX-XXXX-XXXX"
          value={s.code}
          onChange={(e) => s.editCode(e.target.value)}
          disabled={!!s.hold}
        />
      </div>
      <div className="actions">
        <button type="submit" className="btn btn--primary btn--large" data-testid="check-balance" disabled={locked}>
          {s.busy === 'lookup' ? t('voucher.checking') : t('voucher.check')}
        </button>
        <button type="button" className="btn btn--secondary btn--large" onClick={s.nextCustomer} disabled={locked}>
          {t('voucher.next')}
        </button>
      </div>
    </form>
  );
}
