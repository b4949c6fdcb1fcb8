// `npm run import -- --vouchers FILE --history FILE --stores FILE [--dry-run] [--accept-rejections FILE]
//                    [--encoding utf8|latin1] [--code-format plain|digits|crockford]`
// Runs the legacy import as the `import-<id>` workflow (a worker must be running on the task queue)
// and prints its progress; writes the rejection report and the reconciliation next to each other
// in IMPORT_DIR. The files must be readable by the workers at the same paths. Exit code 0 when the
// import (or dry run) completed, 1 when it was refused or failed, 2 for bad arguments.

import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { isLegacyCodeFormat } from '../domain/legacy-code.ts';
import { loadConfig } from '../infra/config.ts';
import { connectDatabase } from '../infra/db.ts';
import { connectClient } from '../infra/temporal.ts';
import { createImport, getImport, reportLines } from '../services/legacy-import/store.ts';
import { importProgress, startImportWorkflow, waitForImport } from '../services/legacy-import/temporal.ts';

const USAGE = 'usage: npm run import -- --vouchers FILE --history FILE --stores FILE [--dry-run] [--accept-rejections FILE] '
  + '[--encoding utf8|latin1] [--code-format plain|digits|crockford]';

const { values } = parseArgs({
  options: {
    vouchers: { type: 'string' }, history: { type: 'string' }, stores: { type: 'string' },
    'dry-run': { type: 'boolean', default: false }, 'accept-rejections': { type: 'string' },
    encoding: { type: 'string', default: 'utf8' }, 'code-format': { type: 'string', default: 'plain' },
  },
});
const format = values['code-format']!;
if (!values.vouchers || !values.history || !values.stores || !['utf8', 'latin1'].includes(values.encoding!) || !isLegacyCodeFormat(format)) {
  console.error(USAGE);
  process.exit(2);
}

const config = loadConfig();
const db = connectDatabase(config.databaseUrl, { timeouts: config.timeouts });
const client = await connectClient(config.temporalAddress, config.temporalNamespace);
const log = (line: string) => console.log(`[import] ${line}`);
try {
  const abs = (p: string) => path.resolve(p);
  const { record, existing } = await createImport(db.pool, {
    vouchersPath: abs(values.vouchers), historyPath: abs(values.history), storesPath: abs(values.stores),
    encoding: values.encoding as 'utf8' | 'latin1', codeFormat: format, dryRun: values['dry-run']!,
    acceptedPath: values['accept-rejections'] ? abs(values['accept-rejections']) : null, waitForAcceptance: false,
    requestedBy: `cli:${process.env.USER ?? 'operator'}`,
  });
  if (existing && record.status === 'completed') {
    log(`these files were imported already (import ${record.id}, ${record.completedAt?.toISOString()}): nothing to do`);
  } else {
    log(`import ${record.id}: workflow import-${record.id}${existing ? ' (already running: following it)' : ''}`);
    await startImportWorkflow(client, config, record);
    const done = waitForImport(client, record.id);
    let finished = false;
    void done.finally(() => { finished = true; });
    let last = '';
    while (!finished) {
      await new Promise((r) => setTimeout(r, 1000));
      const p = await importProgress(client, record.id);
      if (!p) continue;
      const line = `${p.step} ${p.percent}%: vouchers ${p.vouchers?.rows ?? 0} staged / ${p.vouchers?.rejected ?? 0} refused, `
        + `history ${p.history?.rows ?? 0} staged / ${p.history?.rejected ?? 0} refused`;
      if (line !== last) log(line);
      last = line;
    }
    const result = await done;
    log(`finished: ${result.step}${result.error ? ` (${result.error})` : ''}`);
  }
  const imp = (await getImport(db.pool, record.id))!;
  await mkdir(config.legacyImport.dir, { recursive: true });
  const reportPath = path.resolve(config.legacyImport.dir, `import-${imp.id}-report.csv`);
  await pipeline(Readable.from(reportLines(db.pool, imp.id)), createWriteStream(reportPath));
  log(`summary: ${JSON.stringify(imp.summary)}`);
  log(`rejection report: ${reportPath}`);
  if (imp.reconciliation) {
    const reconPath = path.resolve(config.legacyImport.dir, `import-${imp.id}-reconciliation.json`);
    await writeFile(reconPath, JSON.stringify(imp.reconciliation, null, 2));
    log(`reconciliation (${imp.reconciliation.ok ? 'ok' : 'MISMATCH'}): ${reconPath}`);
  }
  if (imp.status === 'rejected') log('stopped before writing: the report lists refused rows; accept them with --accept-rejections REPORT');
  process.exitCode = imp.status === 'completed' || imp.status === 'dry_run_completed' ? 0 : 1;
} finally {
  await client.connection.close();
  await db.close();
}
