// What a scratch card carries besides its code: a serial number support can read out, and an
// activation code for accounting. Codes are derived from the secret, the batch and the card's
// place in it, so the print file can be produced after approval without the codes ever being stored.

import { createHmac } from 'node:crypto';
import { deriveCardCode } from './card-code.ts';

export function batchCardCode(deriveKey: string | Buffer, batchId: string, seq: number): string {
  return deriveCardCode(deriveKey, 'card-batch', batchId, String(seq));
}

/** `<prefix><batch number, 5 digits>-<card, 6 digits>`, e.g. SC00042-000317. */
export function batchSerial(prefix: string, batchNumber: number, seq: number): string {
  return `${prefix}${String(batchNumber).padStart(5, '0')}-${String(seq).padStart(6, '0')}`;
}

/** `digits` decimal digits, derived like the code but under its own label. */
export function batchActivationCode(deriveKey: string | Buffer, batchId: string, seq: number, digits: number): string {
  const mac = createHmac('sha256', deriveKey).update(`activation\u0000${batchId}\u0000${seq}`).digest();
  let n = mac.readBigUInt64BE(0);
  let out = '';
  for (let i = 0; i < digits; i++) {
    out += String(n % 10n);
    n /= 10n;
    if (n === 0n) n = mac.readBigUInt64BE(8);
  }
  return out;
}
