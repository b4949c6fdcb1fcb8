// The languages shoppers and billing parties get their mails and PDFs in, and how amounts and days
// read in each. Amounts go through Intl with the integer minor units split by hand, never a float
// sum: 123456n EUR is 1234.56 exactly, and Intl only rounds what is already exact.

import { dateTimeFormat, numberFormat } from './intl-formats.ts';

export const LOCALES = ['en', 'de'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** The Intl locale behind each language: 'en' writes €1,234.56, 'de' writes 1.234,56 €. */
const INTL: Record<Locale, string> = { en: 'en-IE', de: 'de-DE' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The best supported language in an Accept-Language header ("de-AT,de;q=0.9,en;q=0.8"), by q
 * value and then by order; English when none matches or the header is missing.
 */
export function localeFromAcceptLanguage(header: string | null | undefined): Locale {
  if (!header) return DEFAULT_LOCALE;
  const ranked = header.split(',').map((part, index) => {
    const [tag = '', ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return { language: tag.trim().toLowerCase().split('-')[0]!, q: q === undefined ? 1 : Number(q), index };
  }).filter((r) => r.q > 0 && Number.isFinite(r.q)).sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((r) => r.language).find(isLocale) ?? DEFAULT_LOCALE;
}

/** 123456n, 'EUR' → "€1,234.56" (en) or "1.234,56 €" (de); every supported currency has two decimals. */
export function formatAmount(locale: Locale, minor: bigint | number, currency: string): string {
  const amount = BigInt(minor);
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  // Whole units and cents as a decimal string: Intl formats strings exactly (no float rounding).
  const decimal = `${negative ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  return numberFormat(INTL[locale], { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 })
    .format(decimal as unknown as number);
}

/** A calendar day as people of the language write it, in the given time zone: "30 November 2026" / "30. November 2026". */
export function formatDay(locale: Locale, at: Date, timeZone: string): string {
  return dateTimeFormat(locale === 'de' ? 'de-DE' : 'en-GB', { timeZone, year: 'numeric', month: 'long', day: 'numeric' }).format(at);
}

/** A stored language (a column with a CHECK constraint) as a Locale; anything else reads English. */
export function asLocale(value: string | null | undefined): Locale {
  return isLocale(value) ? value : DEFAULT_LOCALE;
}
