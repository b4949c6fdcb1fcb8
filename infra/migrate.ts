// Applies Prisma migrations with the Prisma CLI. The CLI's native schema engine is a download
// that air-gapped machines cannot make, so PRISMA_SCHEMA_ENGINE_BINARY points at our
// WebAssembly-based engine (scripts/prisma-engine) unless the caller configured another.

import { spawn } from 'node:child_process';
import pg from 'pg';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SCHEMA_ENGINE_SHIM = fileURLToPath(new URL('../scripts/prisma-engine/schema-engine.mjs', import.meta.url));

export function prismaEnv(databaseUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? SCHEMA_ENGINE_SHIM,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
}

export function runPrisma(args: string[], databaseUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../node_modules/prisma/build/index.js', import.meta.url)), ...args], {
      cwd: ROOT, env: prismaEnv(databaseUrl), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`prisma ${args.join(' ')} failed (${code}):\n${output}`));
    });
  });
}

export async function migrate(databaseUrl: string): Promise<string> {
  return runPrisma(['migrate', 'deploy'], databaseUrl);
}

/** Drops everything in the public schema: tests and benchmarks start each run from nothing. */
export async function resetDatabase(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
}
