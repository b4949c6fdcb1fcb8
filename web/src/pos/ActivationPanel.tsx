// Selling a pending (scratch) card at the till.

import { usePosText } from '../i18n/pos.ts';
import type { PosSession } from './usePosSession.ts';

export function ActivationPanel({ session: s }: { session: PosSession }) {
  const { t } = usePosText();
  return (
    <div className="card" data-testid="activation">
      <p>{t('activation.text')}</p>
      <button type="button" className="btn btn--primary btn--large" data-testid="activate" disabled={s.busy !== null} onClick={() => void s.activate()}>
        {s.busy === 'activate' ? t('activation.activating') : t('activation.activate')}
      </button>
    </div>
  );
}
