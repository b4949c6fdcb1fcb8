// `npm run pii:reencrypt`: after adding a key at the end of PII_KEYS (or after upgrading from a
// version that stored addresses in clear), rewrites all personal data under the newest key. Once
// it has run, older keys may be dropped from PII_KEYS.

import { userInfo } from 'node:os';
import { PiiCipher } from '../domain/pii-crypto.ts';
import { loadConfig } from '../infra/config.ts';
import { connectDatabase } from '../infra/db.ts';
import { reencryptPersonalData } from '../services/personal-data.ts';

const config = loadConfig();
const db = connectDatabase(config.databaseUrl, { max: 2 });
try {
  const pii = new PiiCipher(config.privacy.piiKeys);
  const counts = await reencryptPersonalData(db.pool, pii, `operator:${userInfo().username}`);
  console.log(`personal data now sealed under key ${pii.currentKeyId}; rewritten: ${
    Object.entries(counts).map(([table, n]) => `${table} ${n}`).join(', ')}`);
} finally {
  await db.close();
}
