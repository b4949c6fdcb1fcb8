import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode, normalRecoveryCode } from '../../domain/recovery-code.ts';

describe('recovery codes', () => {
  it('are 16 Crockford base32 characters in groups of four, all different', () => {
    const codes = generateRecoveryCodes(50);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect(new Set(codes).size).toBe(50);
  });

  it('match however they are typed: case, spaces, dashes, and I/L/O for 1/1/0', () => {
    const [code] = generateRecoveryCodes(1);
    const typed = code!.toLowerCase().replace(/-/g, ' ').replace(/1/g, 'l').replace(/0/g, 'o');
    expect(hashRecoveryCode(typed)).toBe(hashRecoveryCode(code!));
    expect(normalRecoveryCode(' ab-cd ')).toBe('ABCD');
    expect(hashRecoveryCode(code!)).not.toContain(code!.replace(/-/g, ''));
  });
});
