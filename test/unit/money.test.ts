import { describe, expect, it } from 'vitest';
import {
  add, CurrencyMismatchError, formatMoney, isBalanced, money, parseDecimalAmount, subtract, sumByCurrency,
} from '../../domain/money.ts';

describe('money', () => {
  it('adds and subtracts minor units exactly, beyond float precision', () => {
    const big = money(9_007_199_254_740_993n, 'EUR');
    expect(add(big, money(1n, 'EUR')).amount).toBe(9_007_199_254_740_994n);
    expect(subtract(money(10n, 'EUR'), money(3n, 'EUR'))).toEqual(money(7n, 'EUR'));
  });

  it('refuses to mix currencies', () => {
    expect(() => add(money(1n, 'EUR'), money(1n, 'CHF'))).toThrow(CurrencyMismatchError);
  });

  it('checks balance per currency', () => {
    expect(isBalanced([money(-500n, 'EUR'), money(500n, 'EUR')])).toBe(true);
    expect(isBalanced([money(-500n, 'EUR'), money(500n, 'CHF')])).toBe(false);
    expect(isBalanced([money(-500n, 'EUR'), money(499n, 'EUR')])).toBe(false);
    expect(sumByCurrency([money(1n, 'EUR'), money(2n, 'CHF'), money(3n, 'EUR')])).toEqual(
      new Map([['EUR', 4n], ['CHF', 2n]]));
  });

  it('formats and parses decimal amounts without floats', () => {
    expect(formatMoney(money(1234n, 'EUR'))).toBe('12.34 EUR');
    expect(formatMoney(money(-5n, 'EUR'))).toBe('-0.05 EUR');
    expect(parseDecimalAmount('12.3')).toBe(1230n);
    expect(parseDecimalAmount('0.07')).toBe(7n);
    expect(() => parseDecimalAmount('1.234')).toThrow(RangeError);
    expect(() => parseDecimalAmount('-1')).toThrow(RangeError);
    expect(() => parseDecimalAmount('1e3')).toThrow(RangeError);
  });
});
