// `npm run check:audit`: proves the audit log is intact or exits non-zero. Recomputes every entry's
// hash and follows the chain from the first entry to the chain head, so a changed, removed or
// inserted entry is reported, even one made by a superuser with the triggers disabled.

import pg from 'pg';
import { loadConfig } from '../infra/config.ts';
import { verifyAuditChain } from '../services/audit.ts';

const client = new pg.Client({ connectionString: loadConfig().databaseUrl });
await client.connect();
try {
  const { entries, problems } = await verifyAuditChain(client);
  console.log(`checked ${entries} audit entries`);
  if (problems.length > 0) {
    console.error(`AUDIT LOG TAMPERED WITH: ${problems.length} problem(s)`);
    for (const p of problems.slice(0, 50)) console.error(`  ${p}`);
    process.exitCode = 1;
  } else {
    console.log('audit log OK: every entry matches its hash and the chain is complete');
  }
} finally {
  await client.end();
}
