// The fast tier starts no services, but the ISO 20022 reader tests need the official schemas:
// the same folder the integration setup provides (ISO20022_SCHEMA_DIR, else the download cache).
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../infra/config.ts';
import { ensureSchemaFiles } from '../services/iso20022/schemas.ts';

export default async function setup(project: TestProject) {
  const preferred = loadConfig({ mode: 'test' }).settlement.iso20022SchemaDir;
  const dir = await ensureSchemaFiles(preferred, (line) => console.log(`[unit] ${line}`)).catch((err: Error) => {
    console.error(`[unit] ${err.message}`);
    return preferred;
  });
  project.provide('iso20022SchemaDir', dir);
}
