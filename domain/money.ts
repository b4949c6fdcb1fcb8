// Money is an integer count of minor units (cents) with its currency. Never a float.

export const SUPPORTED_CURRENCIES = ['EUR', 'CHF', 'GBP', 'USD'] as const;
export type Currency = (typeof SUPPORTED_CURRENCIES)[number];

export interface Money {
  readonly amount: bigint;
  readonly currency: Currency;
}

/** Largest amount one operation may move: 1,000,000.00 in a two-decimal currency. */
export const MAX_OPERATION_AMOUNT = 100_000_000n;

export function isCurrency(value: string): value is Currency {
  return (SUPPORTED_CURRENCIES as readonly string[]).includes(value);
}

export function money(amount: bigint, currency: Currency): Money {
  return { amount, currency };
}

export class CurrencyMismatchError extends Error {
  constructor(readonly left: string, readonly right: string) {
    super(`cannot combine ${left} with ${right}`);
  }
}

function sameCurrency(a: Money, b: Money): Currency {
  if (a.currency !== b.currency) throw new CurrencyMismatchError(a.currency, b.currency);
  return a.currency;
}

export function add(a: Money, b: Money): Money {
  return money(a.amount + b.amount, sameCurrency(a, b));
}

export function subtract(a: Money, b: Money): Money {
  return money(a.amount - b.amount, sameCurrency(a, b));
}

/** Sums a list of signed amounts per currency; a balanced journal entry gives all zeros. */
export function sumByCurrency(items: Iterable<Money>): Map<Currency, bigint> {
  const sums = new Map<Currency, bigint>();
  for (const item of items) sums.set(item.currency, (sums.get(item.currency) ?? 0n) + item.amount);
  return sums;
}

export function isBalanced(items: Iterable<Money>): boolean {
  for (const total of sumByCurrency(items).values()) if (total !== 0n) return false;
  return true;
}

/** "-12.34": the amount as a decimal number, for CSV files and the like. */
export function formatDecimal(amount: bigint): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  return `${negative ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** "12.34 EUR" for humans and e-mails; every supported currency has two decimals. */
export function formatMoney({ amount, currency }: Money): string {
  return `${formatDecimal(amount)} ${currency}`;
}

/** Parses "12.34" into 1234n; rejects more than two decimals, signs and exponents. */
export function parseDecimalAmount(text: string): bigint {
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(text)}`);
  const [, units, cents = ''] = match;
  return BigInt(units!) * 100n + BigInt(cents.padEnd(2, '0'));
}
