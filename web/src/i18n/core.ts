// What every page's texts share: the languages, filling {placeholders}, the visitor's language
// (remembered choice, else the browser's), and amounts and moments as people of the language write
// them. Each page has its own catalogue (portal, shop, pos); each catalogue has the same keys and
// placeholders in every language (web/src/i18n/catalogues.test.ts checks).

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

export type Vars = Record<string, string | number>;

/** A text with its placeholders filled; a key missing at run time shows as ⟦key⟧, which the browser tests look for. */
export function fill(dictionary: Record<string, string>, key: string, vars: Vars = {}): string {
  const text = dictionary[key];
  if (text === undefined) return `⟦${key}⟧`;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

/** The browser's language if we have it, English otherwise. */
export function browserLanguage(): Language {
  return navigator.language.toLowerCase().startsWith('de') ? 'de' : 'en';
}

export function initialLanguage(storageKey: string): Language {
  try {
    const stored = localStorage.getItem(storageKey);
    if (stored === 'en' || stored === 'de') return stored;
  } catch {
    // no storage
  }
  return browserLanguage();
}

export function rememberLanguage(storageKey: string, language: Language): void {
  try {
    localStorage.setItem(storageKey, language);
  } catch {
    // no storage
  }
}

const INTL: Record<Language, string> = { en: 'en-IE', de: 'de-DE' };

/**
 * 123456, 'EUR' → "€1,234.56" (en) or "1.234,56 €" (de). Minor units are split into whole units and
 * cents as a decimal string, which Intl formats exactly: no float ever holds the amount.
 */
export function formatAmount(language: Language, minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an amount in minor units: ${minor}`);
  const abs = Math.abs(minor);
  const decimal = `${minor < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return new Intl.NumberFormat(INTL[language], { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 })
    .format(decimal as unknown as number);
}

/** A moment as people of this language write it. */
export function formatTime(language: Language, iso: string): string {
  return new Date(iso).toLocaleString(language === 'de' ? 'de-DE' : 'en-GB');
}

/** A calendar day ("30 November 2026" / "30. November 2026"). */
export function formatDay(language: Language, iso: string): string {
  return new Date(iso).toLocaleDateString(language === 'de' ? 'de-DE' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric' });
}

/** A clock time ("14:05:09"). */
export function formatClock(language: Language, iso: string): string {
  return new Date(iso).toLocaleTimeString(language === 'de' ? 'de-DE' : 'en-GB');
}
