// The language picker every page shows (shop, POS): it names each language in that language, so a
// visitor finds their own even when the page is in another, and it keeps the tab title in step.

import { useEffect } from 'react';
import { LANGUAGES, type Language } from './core.ts';

const NAMES: Record<Language, string> = { en: 'English', de: 'Deutsch' };

export interface LanguageSwitcherProps {
  language: Language;
  setLanguage: (language: Language) => void;
  /** "Language" in the page's language, for screen readers. */
  label: string;
  /** The tab's title in the page's language. */
  title: string;
  testId: string;
  className?: string;
}

export function LanguageSwitcher({ language, setLanguage, label, title, testId, className = 'shop-language' }: LanguageSwitcherProps) {
  useEffect(() => { document.title = title; }, [title]);
  return (
    <label className={className}>
      <span className="visually-hidden">{label}</span>
      <select value={language} data-testid={testId} onChange={(e) => setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => <option key={l} value={l}>{NAMES[l]}</option>)}
      </select>
    </label>
  );
}
