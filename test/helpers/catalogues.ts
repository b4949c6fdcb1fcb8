// The check every text catalogue passes (server mails and PDFs, shop, till, portal): each language
// has the keys of every other, no empty text, and the same {placeholders} per key.

import { expect } from 'vitest';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

export function expectSameKeysAndPlaceholders(catalogues: Record<string, Record<string, string>>): void {
  const [[firstLanguage, first] = ['', {}], ...others] = Object.entries(catalogues);
  expect(others.length, 'more than one language').toBeGreaterThan(0);
  const keys = Object.keys(first).sort();
  for (const [language, catalogue] of others) {
    expect(Object.keys(catalogue).sort(), `${language} keys = ${firstLanguage} keys`).toEqual(keys);
    for (const key of keys) expect(placeholders(catalogue[key]!), `${language} ${key}`).toEqual(placeholders(first[key]!));
  }
  for (const [language, catalogue] of Object.entries(catalogues)) {
    for (const [key, text] of Object.entries(catalogue)) expect(text.trim(), `${language} ${key}`).not.toBe('');
  }
}
