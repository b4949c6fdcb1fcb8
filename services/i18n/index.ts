// The shopper's and billing parties' texts in their language: translate(locale, key, {placeholders}).

import { DEFAULT_LOCALE, type Locale } from '../../domain/locale.ts';
import { de } from './de.ts';
import { en, type MessageKey } from './en.ts';

export { asLocale, formatAmount, formatDay, isLocale, type Locale } from '../../domain/locale.ts';
export type { MessageKey };

export const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { en, de };

/** The text for a key with its {placeholders} filled; an unknown locale (an old row) reads English. */
export function translate(locale: string, key: MessageKey, vars: Record<string, string | number | bigint> = {}): string {
  const catalogue = CATALOGUES[locale as Locale] ?? CATALOGUES[DEFAULT_LOCALE];
  return catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => (vars[name] === undefined ? whole : String(vars[name])));
}

/** A translator bound to one locale, for a document or mail written in it. */
export function translator(locale: string): (key: MessageKey, vars?: Record<string, string | number | bigint>) => string {
  return (key, vars) => translate(locale, key, vars);
}
