// The keys the engine derives from its one configured secret (CARD_CODE_KEY), one per purpose.

import { createHmac } from 'node:crypto';

/** One key per purpose, all derived from the one configured secret. */
export interface CardSecrets {
  /** Card codes are stored only as an HMAC under this key. */
  hashKey: Buffer;
  /** Card codes of sales and orders are derived under this key. */
  deriveKey: Buffer;
  /** An order's access token (given only to its creator) is an HMAC under this key. */
  orderKey: Buffer;
  /** Voucher download links are signed with this key. */
  downloadKey: Buffer;
  /** Users' TOTP secrets are sealed with this key. */
  totpKey: Buffer;
}

export function cardSecrets(master: string): CardSecrets {
  const sub = (label: string) => createHmac('sha256', master).update(label).digest();
  return {
    hashKey: sub('card-code-hash/v1'), deriveKey: sub('card-code-derive/v1'),
    orderKey: sub('order-access/v1'), downloadKey: sub('voucher-download/v1'), totpKey: sub('totp-seal/v1'),
  };
}
