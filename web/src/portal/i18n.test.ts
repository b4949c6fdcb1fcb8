import { describe, expect, it } from 'vitest';
import { DICTIONARIES, translate } from './i18n.ts';

describe('portal texts', () => {
  it('has the same keys in English and German, none empty', () => {
    const en = Object.keys(DICTIONARIES.en).sort();
    expect(Object.keys(DICTIONARIES.de).sort()).toEqual(en);
    for (const [language, dictionary] of Object.entries(DICTIONARIES)) {
      for (const [key, text] of Object.entries(dictionary)) expect(text.trim(), `${language} ${key}`).not.toBe('');
    }
  });

  it('uses the same placeholders in both languages', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(DICTIONARIES.en) as (keyof typeof DICTIONARIES.en)[]) {
      expect(placeholders(DICTIONARIES.de[key]), key).toEqual(placeholders(DICTIONARIES.en[key]));
    }
  });

  it('fills placeholders and marks missing keys visibly', () => {
    expect(translate('de', 'clearing.step', { step: 'x', done: 1, total: 3 })).toBe('Schritt: x, Abrechnungen 1 von 3');
    expect(translate('en', 'no.such.key')).toBe('⟦no.such.key⟧');
  });
});
