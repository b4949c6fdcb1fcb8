// POS terminal: the till's API key, a code field a USB barcode/QR scanner types into (it ends
// with Enter), the balance, and two-phase redemption: authorize → capture (all or part) or void.
// In English or German (the browser's language until the cashier picks one).

import { ErrorBox } from '../ErrorBox.tsx';
import { LanguageSwitcher } from '../i18n/LanguageSwitcher.tsx';
import { PosTextProvider, usePosText } from '../i18n/pos.ts';
import { ActivationPanel } from './ActivationPanel.tsx';
import { AuthorizeForm } from './AuthorizeForm.tsx';
import { CardBalance } from './CardBalance.tsx';
import { HoldForm } from './HoldForm.tsx';
import { RedemptionResult } from './RedemptionResult.tsx';
import { TerminalKey } from './TerminalKey.tsx';
import { useTerminalClient } from './useTerminalClient.ts';
import { usePosSession } from './usePosSession.ts';
import { VoucherForm } from './VoucherForm.tsx';

export function PosPage() {
  return <PosTextProvider><PosTerminal /></PosTextProvider>;
}

function PosTerminal() {
  const { t, language, setLanguage } = usePosText();
  const { apiKey, changeKey, client } = useTerminalClient();
  const s = usePosSession(client, t);
  const errorBox = (where: 'voucher' | 'redeem') =>
    s.error?.where === where && <ErrorBox error={s.error.error} requestIdLabel={t('error.requestId')} />;

  return (
    <div className="pos">
      <LanguageSwitcher language={language} setLanguage={setLanguage} label={t('language.label')} title={t('page.title')} testId="pos-language" />
      <h1 className="pos__title">{t('pos.title')}</h1>
      <TerminalKey apiKey={apiKey} onChange={changeKey} />

      <div className="pos__grid">
        <div className="pos__col">
          <VoucherForm session={s} />
          {errorBox('voucher')}
          {s.card && <CardBalance card={s.card} />}
          {s.card?.status === 'pending' && <ActivationPanel session={s} />}
        </div>

        <div className="pos__col">
          {s.hold ? <HoldForm session={s} hold={s.hold} /> : <AuthorizeForm session={s} />}
          {errorBox('redeem')}
          {s.outcome && <RedemptionResult outcome={s.outcome} />}
        </div>
      </div>
    </div>
  );
}
