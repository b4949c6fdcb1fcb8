// A page's texts as React context: the language (remembered per page, the browser's by default),
// t(key, vars) from the page's catalogue, and amounts in the language's format.

import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { fill, formatAmount, initialLanguage, rememberLanguage, type Language, type Vars } from './core.ts';

export interface PageText<K extends string> {
  language: Language;
  setLanguage: (language: Language) => void;
  t: (key: K, vars?: Vars) => string;
  money: (minor: number, currency: string) => string;
}

export function createPageText<K extends string>(dictionaries: Record<Language, Record<K, string>>, storageKey: string) {
  const Context = createContext<PageText<K> | null>(null);

  function TextProvider({ children }: { children: ReactNode }) {
    const [language, setLanguage] = useState<Language>(() => initialLanguage(storageKey));
    const value = useMemo<PageText<K>>(() => ({
      language,
      setLanguage: (next) => { rememberLanguage(storageKey, next); setLanguage(next); },
      t: (key, vars) => fill(dictionaries[language], key, vars),
      money: (minor, currency) => formatAmount(language, minor, currency),
    }), [language]);
    useEffect(() => { document.documentElement.lang = language; }, [language]);
    return <Context.Provider value={value}>{children}</Context.Provider>;
  }

  function useText(): PageText<K> {
    const text = useContext(Context);
    if (!text) throw new Error('useText outside its TextProvider');
    return text;
  }

  return { TextProvider, useText };
}
