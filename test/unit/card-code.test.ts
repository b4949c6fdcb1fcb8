import { describe, expect, it } from 'vitest';
import {
  CODE_LENGTH, cardCodeLast4, deriveCardCode, formatCardCode, generateCardCode, hashCardCode, isValidCardCode,
  normalizeCardCode,
} from '../../domain/card-code.ts';
import { apiKeyLast4, generateApiKey, hashApiKey, looksLikeApiKey } from '../../domain/api-key.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

describe('card codes', () => {
  it('are unique, well-formed and pass their own check', () => {
    const codes = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const code = generateCardCode();
      expect(code).toHaveLength(CODE_LENGTH);
      expect(isValidCardCode(code)).toBe(true);
      codes.add(code);
    }
    expect(codes.size).toBe(20_000);
  });

  it('reject every single-character typo', () => {
    for (let n = 0; n < 50; n++) {
      const code = generateCardCode();
      for (let pos = 0; pos < CODE_LENGTH; pos++) {
        for (const ch of ALPHABET) {
          if (ch === code[pos]) continue;
          const typo = code.slice(0, pos) + ch + code.slice(pos + 1);
          expect(normalizeCardCode(typo), `${code} -> ${typo}`).toBeNull();
        }
      }
    }
  });

  it('reject swaps of adjacent characters (all but Luhn\'s 0/Z blind spot)', () => {
    let swaps = 0;
    for (let n = 0; n < 200; n++) {
      const code = generateCardCode();
      for (let pos = 0; pos < CODE_LENGTH - 1; pos++) {
        if (code[pos] === code[pos + 1]) continue;
        if (new Set([code[pos], code[pos + 1]]).size === 2 && [code[pos], code[pos + 1]].sort().join('') === '0Z') continue;
        const swapped = code.slice(0, pos) + code[pos + 1] + code[pos] + code.slice(pos + 2);
        swaps++;
        expect(normalizeCardCode(swapped), `${code} -> ${swapped}`).toBeNull();
      }
    }
    expect(swaps).toBeGreaterThan(2000);
  });

  it('accept the printed form, lower case and look-alike letters', () => {
    const code = generateCardCode();
    const printed = formatCardCode(code);
    expect(printed).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(normalizeCardCode(printed)).toBe(code);
    expect(normalizeCardCode(` ${printed.toLowerCase()} `)).toBe(code);
    const withZero = code.replace(/0/g, 'O');
    expect(normalizeCardCode(withZero)).toBe(code);
    expect(normalizeCardCode('')).toBeNull();
    expect(normalizeCardCode('ABC')).toBeNull();
    expect(normalizeCardCode(code + 'X')).toBeNull();
    expect(normalizeCardCode('!!!!-!!!!-!!!!-!!!!')).toBeNull();
  });

  it('hash under a key, so equal codes under other keys differ', () => {
    const code = generateCardCode();
    const h1 = hashCardCode(code, 'key-1');
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    expect(hashCardCode(code, 'key-1')).toBe(h1);
    expect(hashCardCode(code, 'key-2')).not.toBe(h1);
    expect(h1).not.toContain(code.toLowerCase());
    expect(cardCodeLast4(code)).toBe(code.slice(-4));
  });

  it('derive the same valid code for the same identity and different ones otherwise', () => {
    const a = deriveCardCode('secret', 'pos-issue', 'terminal-1', 'key-1');
    expect(isValidCardCode(a)).toBe(true);
    expect(deriveCardCode('secret', 'pos-issue', 'terminal-1', 'key-1')).toBe(a);
    expect(deriveCardCode('secret', 'pos-issue', 'terminal-1', 'key-2')).not.toBe(a);
    expect(deriveCardCode('other', 'pos-issue', 'terminal-1', 'key-1')).not.toBe(a);
    // The separator keeps ("a","bc") and ("ab","c") apart.
    expect(deriveCardCode('s', 'a', 'bc')).not.toBe(deriveCardCode('s', 'ab', 'c'));
  });
});

describe('API keys', () => {
  it('are long random tokens stored as SHA-256', () => {
    const key = generateApiKey();
    expect(looksLikeApiKey(key)).toBe(true);
    expect(looksLikeApiKey('vk_short')).toBe(false);
    expect(generateApiKey()).not.toBe(key);
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyLast4(key)).toBe(key.slice(-4));
  });
});
