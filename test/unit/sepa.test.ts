// SEPA identifiers and text (domain/sepa.ts) and the settlement configuration.

import { describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/errors.ts';
import {
  businessDaysAfter, endToEndId, minorFromDecimal, normaliseBic, normaliseCreditorId, normaliseIban, normaliseMandateReference,
  sepaText, xmlAmount,
} from '../../domain/sepa.ts';
import { loadConfig, parseDatevAccounts } from '../../infra/config.ts';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof DomainError ? err.code : String(err);
  }
  return 'accepted';
};

describe('SEPA identifiers', () => {
  it('accepts IBANs with a valid checksum in SEPA countries, normalised', () => {
    expect(normaliseIban('de89 3704 0044 0532 0130 00')).toBe('DE89370400440532013000');
    expect(normaliseIban('FR14 2004 1010 0505 0001 3M02 606')).toBe('FR1420041010050500013M02606');
    expect(code(() => normaliseIban('DE89370400440532013001'))).toBe('invalid_iban');
    expect(code(() => normaliseIban('DE8937040044053201300'))).toBe('invalid_iban');
    expect(code(() => normaliseIban('BR1800360305000010009795493C1'))).toBe('invalid_iban'); // valid, not SEPA
  });

  it('checks BICs and creditor identifiers (ISO 7064 mod 97-10 over national id + country + 00)', () => {
    expect(normaliseBic('cobadeffxxx')).toBe('COBADEFFXXX');
    expect(normaliseBic('BYLADEM1')).toBe('BYLADEM1');
    for (const bad of ['COBADE', 'COBADEFFXX', '1OBADEFFXXX', 'COBA-DEFF']) expect(code(() => normaliseBic(bad)), bad).toBe('invalid_bic');
    expect(normaliseCreditorId('de98 zzz0 9999 9999 99')).toBe('DE98ZZZ09999999999');
    // The business code (ZZZ) is not part of the check.
    expect(normaliseCreditorId('DE98ABC09999999999')).toBe('DE98ABC09999999999');
    expect(normaliseCreditorId('AT61ZZZ01234567890')).toBe('AT61ZZZ01234567890');
    for (const bad of ['DE97ZZZ09999999999', 'DE98ZZZ0999999999X9', 'XX98ZZZ09999999999', 'DE98', '']) {
      expect(code(() => normaliseCreditorId(bad)), bad).toBe('invalid_creditor_id');
    }
    expect(normaliseMandateReference('VE-MANDATE/2023.1')).toBe('VE-MANDATE/2023.1');
    for (const bad of ['with space', '', 'x'.repeat(36), 'Ümlaut']) expect(code(() => normaliseMandateReference(bad)), bad).toBe('invalid_mandate');
  });

  it('writes end-to-end ids naming period and party within 35 characters, amounts and SEPA text', () => {
    const id = endToEndId('2023-04', '0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(id).toBe('VE-2023-04-0F8FAD5BD9CB469FA1657086');
    expect(id.length).toBeLessThanOrEqual(35);
    expect([xmlAmount(3000n), xmlAmount(5n), xmlAmount(123456789n)]).toEqual(['30.00', '0.05', '1234567.89']);
    expect([minorFromDecimal('30.00'), minorFromDecimal('30'), minorFromDecimal('0.5'), minorFromDecimal('1,00'), minorFromDecimal('-1')])
      .toEqual([3000n, 3000n, 50n, null, null]);
    expect(sepaText('Müller & Söhne — Café', 70)).toBe('Mueller Soehne Cafe');
    expect(sepaText('x'.repeat(100), 70)).toHaveLength(70);
    expect(businessDaysAfter('2023-05-05', 2)).toBe('2023-05-09'); // Friday → Tuesday
    expect(businessDaysAfter('2023-05-08', 2)).toBe('2023-05-10');
  });
});

describe('settlement configuration', () => {
  it('reads the schema folder beside the repository by default and validates the centre account', () => {
    const saved = { ...process.env };
    try {
      delete process.env.ISO20022_SCHEMA_DIR;
      expect(loadConfig({ mode: 'test' }).settlement.iso20022SchemaDir).toMatch(/\/shared\/iso20022$/);
      process.env.SEPA_CENTRE_IBAN = 'DE89370400440532013000';
      process.env.SEPA_CENTRE_BIC = 'COBADEFFXXX';
      process.env.SEPA_CREDITOR_ID = 'DE97ZZZ09999999999';
      expect(() => loadConfig({ mode: 'test' })).toThrow(/SEPA_CREDITOR_ID.*creditor identifier/);
      process.env.SEPA_CREDITOR_ID = 'DE98ZZZ09999999999';
      expect(loadConfig({ mode: 'test' }).settlement.centre).toMatchObject({ iban: 'DE89370400440532013000', creditorId: 'DE98ZZZ09999999999' });
      delete process.env.SEPA_CENTRE_IBAN;
      expect(loadConfig({ mode: 'test' }).settlement.centre?.iban).toBe('DE89370400440532013000');
      expect(loadConfig({ mode: 'test' }).settlement.painVersion).toBe('09');
      process.env.SEPA_PAIN_VERSION = '03';
      expect(loadConfig({ mode: 'test' }).settlement.painVersion).toBe('03');
      process.env.SEPA_PAIN_VERSION = '02';
      expect(() => loadConfig({ mode: 'test' })).toThrow(/SEPA_PAIN_VERSION must be one of 09, 03/);
    } finally {
      process.env = saved;
    }
    expect(parseDatevAccounts('voucherClearing=1591,party:0f8fad5b-d9cb-469f-a165-70867728950e=70001').parties)
      .toEqual({ '0f8fad5b-d9cb-469f-a165-70867728950e': '70001' });
    expect(() => parseDatevAccounts('bank=1200')).toThrow(/DATEV_ACCOUNTS/);
  });
});
