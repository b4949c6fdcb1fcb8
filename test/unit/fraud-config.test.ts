// The till's fraud limits come from the environment: counts and minor units, `off` for none.

import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.ts';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('fraud limit configuration', () => {
  it('has defaults: card limits and a terminal limit on, store limits off', () => {
    process.env = { ...saved };
    for (const k of Object.keys(process.env)) if (k.startsWith('VELOCITY_') || k.startsWith('CODE_GUESS_')) delete process.env[k];
    const { fraud } = loadConfig();
    expect(fraud.velocity).toEqual({
      cardRedemptionsPerHour: 10, cardAmountPerHour: 250_000, cardRedemptionsPerDay: 30, cardAmountPerDay: 1_000_000,
      terminalSoldPerDay: 5_000_000, storeSoldPerDay: null, storeRedeemedPerDay: null,
    });
    expect(fraud.codeGuessing).toEqual({ windowSeconds: 900, slowAfter: 5, slowStepMs: 500, lockAfter: 20, lockSeconds: 900 });
  });

  it('reads limits, takes "off" for none and 0 for nothing allowed, and refuses nonsense', () => {
    process.env = { ...saved, VELOCITY_CARD_REDEMPTIONS_PER_HOUR: 'off', VELOCITY_STORE_SOLD_PER_DAY: '0', CODE_GUESS_LOCK_AFTER: '7' };
    const { fraud } = loadConfig();
    expect([fraud.velocity.cardRedemptionsPerHour, fraud.velocity.storeSoldPerDay, fraud.codeGuessing.lockAfter]).toEqual([null, 0, 7]);
    for (const [name, value] of [['VELOCITY_CARD_AMOUNT_PER_DAY', '-1'], ['VELOCITY_TERMINAL_SOLD_PER_DAY', '12.5'], ['CODE_GUESS_LOCK_SECONDS', 'off']]) {
      process.env = { ...saved, [name!]: value };
      expect(() => loadConfig(), name).toThrow(name);
    }
  });
});
