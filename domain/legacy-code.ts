// Card codes printed by a legacy system. They have no check character, so a typo cannot be told
// from an unknown card before a lookup; what a till types is normalised by the rules of the code
// format the import declared (README, "Importing existing vouchers"), then stored and looked up
// as the same keyed hash as our own codes (domain/card-code.ts: hashCardCode).

export const LEGACY_CODE_FORMATS = ['plain', 'digits', 'crockford'] as const;
export type LegacyCodeFormat = (typeof LEGACY_CODE_FORMATS)[number];

export function isLegacyCodeFormat(value: string): value is LegacyCodeFormat {
  return (LEGACY_CODE_FORMATS as readonly string[]).includes(value);
}

/** Separators people and printers put into codes; never part of a code. */
const SEPARATORS = /[\s\-./_]/g;
const MIN_LENGTH = 4;
const MAX_LENGTH = 40;

/**
 * The code as stored: null if it is not a code of this format.
 * - plain: letters and digits; upper-cased, separators (space, - . / _) dropped.
 * - digits: digits only, separators dropped; leading zeros are kept (they are printed).
 * - crockford: as plain, and the look-alikes O -> 0, I and L -> 1 are read as Crockford does.
 */
export function normalizeLegacyCode(input: string, format: LegacyCodeFormat): string | null {
  let code = input.toUpperCase().replace(SEPARATORS, '');
  if (format === 'crockford') code = code.replace(/O/g, '0').replace(/[IL]/g, '1');
  const pattern = format === 'digits' ? /^[0-9]+$/ : /^[0-9A-Z]+$/;
  if (code.length < MIN_LENGTH || code.length > MAX_LENGTH || !pattern.test(code)) return null;
  return code;
}
