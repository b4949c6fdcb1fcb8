// What the till knows about the scanned card: available and held amounts, status and last day.

import type { Language } from '../i18n/core.ts';
import { usePosText, type PosKey } from '../i18n/pos.ts';
import type { Card } from './usePosSession.ts';

const STATUS: Record<Card['status'], PosKey> = {
  pending: 'status.pending', active: 'status.active', blocked: 'status.blocked', deactivated: 'status.deactivated', expired: 'status.expired',
};

/** The card's last valid day as written in the language; the day is the ISO date's, whatever the till's time zone. */
function validUntil(language: Language, iso: string): string {
  const day = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  return day.toLocaleDateString(language === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' });
}

export function CardBalance({ card }: { card: Card }) {
  const { t, money, language } = usePosText();
  return (
    <section className="card balance" aria-labelledby="pos-balance-title" data-testid="card-info" data-status={card.status}>
      <h2 id="pos-balance-title">{t('balance.title')} <span className="muted">· {t('balance.voucher', { last4: card.last4 })}</span></h2>
      <p className="big-amount" data-testid="balance" aria-live="polite">{money(card.available, card.currency)}</p>
      <dl className="facts">
        <div><dt>{t('balance.held')}</dt><dd data-testid="held">{money(card.held, card.currency)}</dd></div>
        <div><dt>{t('balance.status')}</dt><dd className={card.status === 'active' ? 'text-ok' : 'text-danger'}>{t(STATUS[card.status])}</dd></div>
        <div><dt>{t('balance.validUntil')}</dt><dd>{validUntil(language, card.expiresAt)}</dd></div>
      </dl>
    </section>
  );
}
