// The official ISO 20022 XML schemas the settlement files are checked against, and the check
// itself: libxml2's schema validator (xmllint compiled to WebAssembly, npm `xmllint-wasm`), so no
// native library or system package is needed. The XSDs are not part of this repository: they
// live in ISO20022_SCHEMA_DIR (default ../shared/iso20022 beside the repository), and a machine
// without them fetches them once into ~/.cache/voucher-engine/iso20022 (see ensureSchemaFiles).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';

export type SchemaName =
  | 'pain.001.001.09' | 'pain.008.001.08' | 'camt.053.001.08'
  | 'pain.001.001.03' | 'pain.008.001.02' | 'camt.053.001.02';

/**
 * Where each schema was copied from (byte for byte; see SOURCES.md in the schema folder), pinned
 * to a commit and checked by SHA-256 after download.
 */
export const SCHEMA_SOURCES: Record<SchemaName, { repo: string; commit: string; path: string; sha256: string }> = {
  'pain.001.001.09': { repo: 'raphaelm/python-sepaxml', commit: '0728809b1f6437bfbfea99a2a50b75b90de68843', path: 'sepaxml/schemas/pain.001.001.09.xsd', sha256: 'de038b373e47b0077b1832ddd81f4b2f1eb25d35721f62da1e38b7f5a09fda24' },
  'pain.008.001.08': { repo: 'raphaelm/python-sepaxml', commit: '0728809b1f6437bfbfea99a2a50b75b90de68843', path: 'sepaxml/schemas/pain.008.001.08.xsd', sha256: '7edf4e4ce34c47a5567af6a327e22af4ed4007f715822af9f353c94ecc10f5ba' },
  'camt.053.001.08': { repo: 'genkgo/camt', commit: 'c99e4fe37347cd6d0daf9dc211186aa28794e60f', path: 'assets/camt.053.001.08.xsd', sha256: 'c3cfac080dc31476bde7444b05d00e1b23558d5e44529e58d0ad562e6013873d' },
  'pain.001.001.03': { repo: 'salesking/sepa_king', commit: '41d561362e7af4bcd7da7bfad97e6e5e2d32f7bb', path: 'lib/schema/pain.001.001.03.xsd', sha256: '781ddab2c2e18970dedfa9ae914577d49152ccba92267227ea5daa935db12d5a' },
  'pain.008.001.02': { repo: 'php-sepa-xml/php-sepa-xml', commit: '5bca797ea27007beef6130fddc68f8af2c693aa3', path: 'doc/ISO20022/pain/008/001/pain.008.001.02.xsd', sha256: '1ce9e574ad74f48e33d956d876bfe32c7aa9cd57aef95941cdbf251b0fc6d9ad' },
  'camt.053.001.02': { repo: 'genkgo/camt', commit: 'c99e4fe37347cd6d0daf9dc211186aa28794e60f', path: 'assets/camt.053.001.02.xsd', sha256: '05ec472590dda5e433fd646e9cf3849fa1ba01c033052aaca3089cec6862692d' },
};

export function schemaUrl(name: SchemaName): string {
  const s = SCHEMA_SOURCES[name];
  return `https://raw.githubusercontent.com/${s.repo}/${s.commit}/${s.path}`;
}

export const SCHEMA_CACHE_DIR = path.join(os.homedir(), '.cache', 'voucher-engine', 'iso20022');

function missingIn(dir: string): SchemaName[] {
  return (Object.keys(SCHEMA_SOURCES) as SchemaName[]).filter((n) => !existsSync(path.join(dir, `${n}.xsd`)));
}

/**
 * The folder holding every schema: `preferred` when it has them all, else the cache, filled from
 * the sources above. Fails with a message naming each missing file, where to put it and where
 * it comes from, when a download fails (a machine without internet).
 */
export async function ensureSchemaFiles(preferred: string, log: (line: string) => void = () => {}): Promise<string> {
  if (missingIn(preferred).length === 0) return preferred;
  const missing = missingIn(SCHEMA_CACHE_DIR);
  if (missing.length === 0) return SCHEMA_CACHE_DIR;
  mkdirSync(SCHEMA_CACHE_DIR, { recursive: true });
  const failed: string[] = [];
  for (const name of missing) {
    const url = schemaUrl(name);
    log(`fetching ${name}.xsd from ${url}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== SCHEMA_SOURCES[name].sha256) throw new Error(`SHA-256 ${sha} is not the pinned ${SCHEMA_SOURCES[name].sha256}`);
      writeFileSync(path.join(SCHEMA_CACHE_DIR, `${name}.xsd`), bytes);
    } catch (err) {
      failed.push(`  ${name}.xsd  from ${url}  (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  if (failed.length) {
    throw new Error(`The ISO 20022 schemas are not in ${preferred} (ISO20022_SCHEMA_DIR) and could not be downloaded.\n`
      + `Put these files into ${preferred} or ${SCHEMA_CACHE_DIR} (byte for byte, SHA-256 as pinned in services/iso20022/schemas.ts):\n${failed.join('\n')}`);
  }
  return SCHEMA_CACHE_DIR;
}

const loaded = new Map<string, string>();

function schemaText(dir: string, name: SchemaName): string {
  const file = path.join(dir, `${name}.xsd`);
  let text = loaded.get(file);
  if (text === undefined) {
    if (!existsSync(file)) {
      throw new Error(`ISO 20022 schema ${name}.xsd is not in ${dir}: set ISO20022_SCHEMA_DIR to the folder holding it (${schemaUrl(name)})`);
    }
    text = readFileSync(file, 'utf8');
    loaded.set(file, text);
  }
  return text;
}

export interface SchemaCheck {
  valid: boolean;
  errors: string[];
}

/** Validates a document against one of the schemas with libxml2. */
export async function validateAgainstSchema(dir: string, name: SchemaName, xml: string): Promise<SchemaCheck> {
  const result = await validateXML({
    xml: [{ fileName: 'document.xml', contents: xml }],
    schema: [{ fileName: `${name}.xsd`, contents: schemaText(dir, name) }],
    // A month's statement of a large centre runs to megabytes.
    initialMemoryPages: 512,
    maxMemoryPages: 16_384,
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.message) };
}
