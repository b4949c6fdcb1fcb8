// `npm run pii:erase -- <e-mail address>`: erases a shopper's address from every order they
// placed (the right to erasure). Orders, cards and the ledger stay, so the books still balance;
// the audit log records the erasure without the address.

import { userInfo } from 'node:os';
import { PiiCipher } from '../domain/pii-crypto.ts';
import { loadConfig } from '../infra/config.ts';
import { connectDatabase } from '../infra/db.ts';
import { eraseShopper } from '../services/orders.ts';

const email = process.argv[2];
if (!email || !email.includes('@')) {
  console.error('usage: npm run pii:erase -- <e-mail address>');
  process.exit(2);
}
const config = loadConfig();
const db = connectDatabase(config.databaseUrl, { max: 2 });
try {
  const erased = await eraseShopper(db.pool, new PiiCipher(config.privacy.piiKeys), email, `operator:${userInfo().username}`);
  console.log(erased.length === 0 ? 'no order has this address' : `address erased from ${erased.length} order(s): ${erased.join(', ')}`);
} finally {
  await db.close();
}
