import { describe, expect, it } from 'vitest';
import { formatAmount, formatDay, localeFromAcceptLanguage } from '../../domain/locale.ts';
import { CATALOGUES, translate } from '../../services/i18n/index.ts';
import { expectSameKeysAndPlaceholders } from '../helpers/catalogues.ts';

// Intl separates amount and symbol with a no-break space: a line never breaks between them.
const plain = (s: string) => s.replace(/\u00a0/g, ' ');

describe('amounts and days per language', () => {
  it('writes euros the German and the English way, with thousands separators', () => {
    expect(plain(formatAmount('de', 1250n, 'EUR'))).toBe('12,50 €');
    expect(formatAmount('en', 1250n, 'EUR')).toBe('€12.50');
    expect(plain(formatAmount('de', 123456n, 'EUR'))).toBe('1.234,56 €');
    expect(formatAmount('en', 123456, 'EUR')).toBe('€1,234.56');
  });

  it('keeps every cent of large and negative amounts (no float rounding)', () => {
    expect(formatAmount('en', 90_071_992_547_409_93n, 'EUR')).toBe('€90,071,992,547,409.93');
    expect(formatAmount('en', -5n, 'EUR')).toBe('-€0.05');
    expect(plain(formatAmount('de', -150_000n, 'EUR'))).toBe('-1.500,00 €');
    expect(plain(formatAmount('de', 2500n, 'CHF'))).toBe('25,00 CHF');
  });

  it('keeps formatters apart by language, currency and time zone (they are built once and reused)', () => {
    for (let round = 0; round < 2; round++) {
      expect(formatAmount('en', 1250n, 'EUR')).toBe('€12.50');
      expect(formatAmount('en', 1250n, 'GBP')).toBe('£12.50');
      expect(plain(formatAmount('de', 1250n, 'GBP'))).toBe('12,50 £');
      expect(() => formatAmount('en', 1n, 'EURO')).toThrow(RangeError);
      const at = new Date('2026-11-30T23:30:00Z');
      expect(formatDay('en', at, 'Europe/Berlin')).toBe('1 December 2026');
      expect(formatDay('en', at, 'America/New_York')).toBe('30 November 2026');
    }
  });

  it('writes days in the centre\'s time zone', () => {
    // 23:30 UTC on 30 November is already 1 December in Berlin.
    const at = new Date('2026-11-30T23:30:00Z');
    expect(formatDay('de', at, 'Europe/Berlin')).toBe('1. Dezember 2026');
    expect(formatDay('en', at, 'Europe/Berlin')).toBe('1 December 2026');
    expect(formatDay('en', at, 'UTC')).toBe('30 November 2026');
  });

  it('picks the language from Accept-Language by weight, English otherwise', () => {
    expect(localeFromAcceptLanguage('de-AT,de;q=0.9,en;q=0.8')).toBe('de');
    expect(localeFromAcceptLanguage('fr-FR,fr;q=0.9,en;q=0.5,de;q=0.7')).toBe('de');
    expect(localeFromAcceptLanguage('en-US,en;q=0.9,de;q=0.8')).toBe('en');
    expect(localeFromAcceptLanguage('fr, it')).toBe('en');
    expect(localeFromAcceptLanguage('de;q=0')).toBe('en');
    expect(localeFromAcceptLanguage(undefined)).toBe('en');
    expect(localeFromAcceptLanguage('')).toBe('en');
  });
});

describe('mail and PDF texts', () => {
  it('has the same keys and placeholders in English and German', () => {
    expectSameKeysAndPlaceholders(CATALOGUES);
  });

  it('fills placeholders in the order\'s language', () => {
    expect(translate('de', 'refundMail.subject', { amount: '30,00 €' }))
      .toBe('Ihre Gutscheinbestellung konnte nicht abgeschlossen werden - 30,00 € erstattet');
    expect(translate('en', 'statement.owedByParty', { amount: '€15.00' })).toBe('You pay the centre €15.00.');
    // A language no catalogue has (an unexpected stored value) reads English.
    expect(translate('fr', 'voucherPdf.howTitle')).toBe('How to use it');
  });
});
