// Amount parsing and formatting of the web app: integers of minor units, never floats.

import { describe, expect, it } from 'vitest';
import { formatMinor, formatMoney, formatPreset, parseAmount } from './money.ts';

describe('parseAmount', () => {
  it.each([
    ['25', 2500], ['25.5', 2550], ['25.50', 2550], ['25,50', 2550], ['0.29', 29], ['0.01', 1], ['.5', 50],
    ['1 000.00', 100_000], ['  12.3 ', 1230], ['10.', 1000], ['999999999.99', 99_999_999_999],
  ])('%j → %i minor units', (text, minor) => {
    expect(parseAmount(text)).toEqual({ ok: true, minor });
  });

  it.each(['', ' ', '0', '0.00', '-5', '+5', '1.234', '1e3', 'abc', '12.34.5', '1,000.00', '.', '1234567890'])('refuses %j', (text) => {
    expect(parseAmount(text).ok).toBe(false);
  });

  it('is exact where floats are not', () => {
    // 0.29 * 100 === 28.999999999999996 and 1.005 * 100 === 100.49999999999999 in floating point.
    expect(parseAmount('0.29')).toEqual({ ok: true, minor: 29 });
    expect(parseAmount('4.35')).toEqual({ ok: true, minor: 435 });
    expect(parseAmount('1.15')).toEqual({ ok: true, minor: 115 });
  });
});

describe('formatting', () => {
  it('formats minor units with two decimals', () => {
    expect(formatMinor(0)).toBe('0.00');
    expect(formatMinor(5)).toBe('0.05');
    expect(formatMinor(1234)).toBe('12.34');
    expect(formatMinor(-1234)).toBe('-12.34');
    expect(formatMinor(25_000_000)).toBe('250000.00');
    expect(formatMoney(1500, 'EUR')).toBe('15.00 EUR');
  });

  it('shows presets without needless decimals', () => {
    expect(formatPreset(2500)).toBe('25');
    expect(formatPreset(2550)).toBe('25.50');
  });

  it('refuses what is not an integer amount', () => {
    expect(() => formatMinor(12.5)).toThrow(RangeError);
  });
});
