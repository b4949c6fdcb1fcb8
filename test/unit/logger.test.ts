import { describe, expect, it } from 'vitest';
import { deriveCardCode, formatCardCode } from '../../domain/card-code.ts';
import { scrubSecrets } from '../../infra/logger.ts';

describe('log scrubbing', () => {
  it('masks card codes, keys, Stripe secrets, tokens and signatures wherever they stand', () => {
    const code = deriveCardCode('k', 'x');
    const line = JSON.stringify({
      msg: `lookup of ${formatCardCode(code)} and ${code} failed`,
      url: '/v1/orders/5b1c/voucher.pdf?expires=1999999999&sig=abcdef0123456789',
      err: 'key vk_JUTjZ_IHlhvkl2q8Hdjzp2Qk-KrwxFnv refused; vb_qMCV-NjoViWsjyxzO9yLdBZPuvNFa3mz too',
      stripe: 'sk_test_51Habc123 whsec_abcDEF123',
      headers: { authorization: 'Bearer vk_abcdefghijklmnopqrstu', 'x-order-token': 'tok123' },
      password: 'hunter2hunter2',
    });
    const out = scrubSecrets(line);
    for (const secret of [code, formatCardCode(code), 'abcdef0123456789', 'JUTjZ_IHlhvkl2q8Hdjzp2Qk', 'qMCV-NjoViWsjyxzO9yLdBZPuvNFa3mz',
      'sk_test_51Habc123', 'whsec_abcDEF123', 'vk_abcdefghijklmnopqrstu', 'tok123', 'hunter2hunter2']) {
      expect(out).not.toContain(secret);
    }
    expect(() => JSON.parse(out)).not.toThrow();
    expect(out).toContain('[card-code]');
  });

  it('leaves ids, request ids, amounts and times alone', () => {
    const line = JSON.stringify({
      reqId: 'req_01JDZ6Q4N8X2', cardId: '5b1c7e0a-3f2d-4c55-9a1e-2b7c8d9e0f11', amount: 2500, time: '2026-11-30T13:40:00.000Z',
      route: '/v1/redemptions/:holdId/capture', period: '2026-11', last4: 'YPD5',
    });
    expect(scrubSecrets(line)).toBe(line);
  });
});
