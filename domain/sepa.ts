// SEPA identifiers and text: IBAN and BIC (checked by ibantools: checksum, country lengths, SEPA
// membership), the SEPA creditor identifier (ISO 7064 mod 97-10, EPC262-08), mandate references,
// end-to-end ids, and the restricted Latin character set banks accept in SEPA files.

import { electronicFormatIBAN, isSEPACountry, isValidBIC, isValidIBAN } from 'ibantools';
import { DomainError } from './errors.ts';
import { dateTimeFormat } from './intl-formats.ts';

/** The IBAN without spaces, upper case; refuses a bad checksum or a non-SEPA country. */
export function normaliseIban(raw: string): string {
  const iban = electronicFormatIBAN(raw) ?? '';
  if (!isValidIBAN(iban)) throw new DomainError('invalid_iban', 'the IBAN is not valid (length or check digits)');
  if (!isSEPACountry(iban.slice(0, 2))) throw new DomainError('invalid_iban', `${iban.slice(0, 2)} is not a SEPA country`);
  return iban;
}

export function normaliseBic(raw: string): string {
  const bic = raw.replace(/\s+/g, '').toUpperCase();
  if (!isValidBIC(bic)) throw new DomainError('invalid_bic', 'the BIC is not valid (8 or 11 characters: bank, country, location, branch)');
  return bic;
}

/** Letters as numbers (A=10 … Z=35), then mod 97 on the digit string, piecewise so it stays exact. */
function mod97(text: string): number {
  const digits = text.toUpperCase().replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return rest;
}

/**
 * SEPA creditor identifier: country (2), check digits (2), creditor business code (3, any, not
 * checked), national identifier (up to 28). The check digits are over national id + country + "00".
 */
export function normaliseCreditorId(raw: string): string {
  const id = raw.replace(/\s+/g, '').toUpperCase();
  const m = /^([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$/.exec(id);
  if (!m || !isSEPACountry(m[1]!) || 98 - mod97(`${m[4]}${m[1]}00`) !== Number(m[2])) {
    throw new DomainError('invalid_creditor_id', 'the SEPA creditor identifier is not valid (e.g. DE98ZZZ09999999999)');
  }
  return id;
}

/** Mandate references: up to 35 characters of the SEPA set, no spaces (EPC rulebook). */
export function normaliseMandateReference(raw: string): string {
  const ref = raw.trim();
  if (!/^[A-Za-z0-9+?/:().,'-]{1,35}$/.test(ref)) {
    throw new DomainError('invalid_mandate', 'a mandate reference is 1-35 letters, digits or + ? / - : ( ) . , \' (no spaces)');
  }
  return ref;
}

/**
 * Text for a SEPA file: the EPC's basic Latin set. Accents are dropped (é → e), German sharp s and
 * umlauts spelt out, anything else becomes a space; then trimmed to `max` characters.
 */
export function sepaText(text: string, max: number): string {
  const spelt = text.replace(/ß/g, 'ss').replace(/Ä/g, 'Ae').replace(/Ö/g, 'Oe').replace(/Ü/g, 'Ue')
    .replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue');
  const basic = spelt.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9/?:().,'+ -]/g, ' ');
  return basic.replace(/\s+/g, ' ').trim().slice(0, max).trim() || 'n/a';
}

/**
 * The end-to-end id of a party's settlement for a period: it names both and fits the 35
 * characters of the field. 24 hex digits of the party id (96 bits) keep it unique.
 */
export function endToEndId(period: string, billingPartyId: string): string {
  return `VE-${period}-${billingPartyId.replace(/-/g, '').slice(0, 24).toUpperCase()}`;
}

/** Minor units as the decimal the XML wants: 3000 → "30.00". */
export function xmlAmount(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** A decimal from a statement ("30.00", "30", "30.5") in minor units; null if it is not one. */
export function minorFromDecimal(text: string): bigint | null {
  const m = /^(\d{1,15})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  return BigInt(m[1]!) * 100n + BigInt((m[2] ?? '0').padEnd(2, '0'));
}

/** The IBAN shown to people: country, check digits and last four, the rest masked. */
export function maskIban(country: string, last4: string): string {
  return `${country}•• •••• •••• ${last4}`;
}

/** The day `n` business days (Monday to Friday) after `day` (YYYY-MM-DD). */
export function businessDaysAfter(day: string, n: number): string {
  const d = new Date(`${day}T12:00:00Z`);
  let left = n;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) left--;
  }
  return d.toISOString().slice(0, 10);
}

/** The calendar day of an instant in a time zone, YYYY-MM-DD. */
export function dayIn(instant: Date, timeZone: string): string {
  return dateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

export function settlementWorkflowId(period: string): string {
  return `settlement-${period}`;
}
