// Brings up real PostgreSQL, Redis and Temporal once per test run (started only where none is
// running), gives the run a fresh database schema with all migrations applied, and bundles the
// workflow code once for every test worker.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack, type Stack } from '../scripts/stack/index.ts';
import { migrate, resetDatabase } from '../infra/migrate.ts';
import { bundleWorkflows } from '../infra/worker.ts';

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
  }
}

export default async function setup(project: TestProject) {
  const dataDir = path.resolve('.data/test');
  const log = (line: string) => console.log(`[stack] ${line}`);
  stack = await startStack({ purpose: 'test', dataDir, log, stripeMock: true });
  await resetDatabase(stack.databaseUrl);
  await migrate(stack.databaseUrl);
  const bundle = await bundleWorkflows();
  const workflowBundlePath = path.join(dataDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);

  project.provide('databaseUrl', stack.databaseUrl);
  project.provide('redisUrl', stack.redisUrl);
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('temporalNamespace', stack.temporalNamespace);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('dataDir', dataDir);
  project.provide('stripeMockUrl', stack.stripeMockUrl!);

  return async () => {
    await stack?.stop();
  };
}
