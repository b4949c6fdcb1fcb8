// Amounts are integers in minor units (cents), as in the API. Parsing and formatting work on the
// digits of the string, never on floats: "0.29" is 29, not 28.999999999999996.

/** Every currency the engine supports (EUR, CHF, GBP, USD) has two decimals. */
const DECIMALS = 2;
const SCALE = 10 ** DECIMALS;

export type ParsedAmount = { ok: true; minor: number } | { ok: false; error: string };

/**
 * Parses what a person typed as an amount in major units: "25", "25.5", "25.50", "25,50",
 * " 1 000.00 " (spaces are ignored). At most two decimals, no sign, no exponent.
 */
export function parseAmount(input: string): ParsedAmount {
  const text = input.replace(/[\s\u00a0\u202f]/g, '');
  if (text === '') return { ok: false, error: 'Enter an amount' };
  const match = /^(\d{1,9})?(?:[.,](\d*))?$/.exec(text);
  if (!match || (match[1] === undefined && !match[2])) return { ok: false, error: 'Enter an amount like 25 or 25.50' };
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > DECIMALS) return { ok: false, error: `At most ${DECIMALS} decimals` };
  const minor = Number(whole) * SCALE + Number(fraction.padEnd(DECIMALS, '0'));
  if (minor <= 0) return { ok: false, error: 'The amount must be more than 0' };
  return { ok: true, minor };
}

/** 1234 → "12.34"; −5 → "-0.05". Integers only. */
export function formatMinor(minor: number): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an amount in minor units: ${minor}`);
  const negative = minor < 0;
  const abs = Math.abs(minor);
  const whole = Math.floor(abs / SCALE);
  const fraction = String(abs % SCALE).padStart(DECIMALS, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** 1234, "EUR" → "12.34 EUR", the format the engine uses in e-mails and receipts. */
export function formatMoney(minor: number, currency: string): string {
  return `${formatMinor(minor)} ${currency}`;
}

/** 2500 → "25" and 2550 → "25.50": how a preset reads on a button. */
export function formatPreset(minor: number): string {
  return minor % SCALE === 0 ? String(minor / SCALE) : formatMinor(minor);
}
