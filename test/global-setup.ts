// Brings up real PostgreSQL, Redis and Temporal once per test run (started only where none is
// running), gives the run a fresh database schema with all migrations applied, and bundles the
// workflow code once for every test worker.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { startStack, type Stack } from '../scripts/stack/index.ts';
import { migrate, resetDatabase } from '../infra/migrate.ts';
import { bundleWorkflows } from '../infra/worker.ts';
import { loadConfig } from '../infra/config.ts';
import { ensureSchemaFiles } from '../services/iso20022/schemas.ts';

let stack: Stack | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string | null;
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
    stripeMockUrl: string;
    dataDir: string;
    /** The official ISO 20022 XSDs (ISO20022_SCHEMA_DIR, or fetched into the cache). */
    iso20022SchemaDir: string;
  }
}

export default async function setup(project: TestProject) {
  const dataDir = path.resolve('.data/test');
  const log = (line: string) => console.log(`[stack] ${line}`);
  stack = await startStack({ purpose: 'test', dataDir, log, stripeMock: true });
  await resetDatabase(stack.databaseUrl);
  // The balance cache is keyed by code hash, and test codes repeat between runs: a fresh database
  // needs a fresh cache, or a lookup answers with a card of an earlier run.
  if (stack.redisUrl) {
    const redis = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect().then(() => redis.flushdb()).catch((err: Error) => log(`could not clear the test Redis: ${err.message}`));
    redis.disconnect();
  }
  await migrate(stack.databaseUrl);
  // The SEPA files are checked against the real schemas: from ../shared/iso20022 or
  // ISO20022_SCHEMA_DIR, else downloaded once into ~/.cache/voucher-engine/iso20022.
  // Without them only the settlement tests can fail (each naming the missing file), not the run.
  const preferredSchemaDir = loadConfig({ mode: 'test' }).settlement.iso20022SchemaDir;
  const iso20022SchemaDir = await ensureSchemaFiles(preferredSchemaDir, log).catch((err: Error) => {
    console.error(`[stack] ${err.message}`);
    return preferredSchemaDir;
  });
  const bundle = await bundleWorkflows();
  const workflowBundlePath = path.join(dataDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);

  project.provide('databaseUrl', stack.databaseUrl);
  project.provide('redisUrl', stack.redisUrl);
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('temporalNamespace', stack.temporalNamespace);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('dataDir', dataDir);
  project.provide('iso20022SchemaDir', iso20022SchemaDir);
  project.provide('stripeMockUrl', stack.stripeMockUrl!);

  return async () => {
    await stack?.stop();
  };
}
