import { describe, expect, it } from 'vitest';
import { expectSameKeysAndPlaceholders } from '../../../test/helpers/catalogues.ts';
import { DICTIONARIES } from '../portal/i18n.ts';
import { fill, formatAmount } from './core.ts';
import { POS_TEXTS } from './pos.ts';
import { SHOP_TEXTS } from './shop.ts';

describe('web catalogues', () => {
  it.each([['portal', DICTIONARIES], ['shop', SHOP_TEXTS], ['pos', POS_TEXTS]] as const)('%s: the same keys and placeholders in English and German', (_, catalogues) => {
    expectSameKeysAndPlaceholders(catalogues);
  });

  it('fills placeholders and marks missing keys', () => {
    expect(fill(SHOP_TEXTS.de, 'form.range', { min: '5,00 €', max: '500,00 €' })).toBe('Von 5,00 € bis 500,00 €.');
    expect(fill(SHOP_TEXTS.en, 'no.such.key')).toBe('⟦no.such.key⟧');
    expect(fill(POS_TEXTS.de, 'hold.partial', { requested: '20,00 €', rest: '5,00 €' }))
      .toBe('Teilgenehmigung: 20,00 € angefragt; kassieren Sie 5,00 € auf anderem Weg.');
  });

  it('writes amounts per language, with thousands separators and exact cents', () => {
    const plain = (s: string) => s.replace(/\u00a0/g, ' ');
    expect(plain(formatAmount('de', 1250, 'EUR'))).toBe('12,50 €');
    expect(formatAmount('en', 1250, 'EUR')).toBe('€12.50');
    expect(plain(formatAmount('de', 123456, 'EUR'))).toBe('1.234,56 €');
    expect(formatAmount('en', 123456, 'EUR')).toBe('€1,234.56');
    expect(formatAmount('en', -29, 'EUR')).toBe('-€0.29');
    expect(() => formatAmount('en', 12.5, 'EUR')).toThrow(RangeError);
  });
});
