// `npm run bench -- <name> [options]`: runs bench/<name>.ts. Each benchmark exports
// run(args) and resolves to its exit code; an unknown name lists the available ones.

import { readdirSync } from 'node:fs';

const BENCH_DIR = new URL('../bench/', import.meta.url);

const available = readdirSync(BENCH_DIR, { withFileTypes: true })
  .filter((f) => f.isFile() && f.name.endsWith('.ts'))
  .map((f) => f.name.slice(0, -'.ts'.length))
  .sort();

// Benchmarks run the development stack with its public secrets; the API and worker they start
// inherit this.
process.env.APP_MODE ??= 'development';

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  if (name) console.error(`unknown benchmark "${name}"`);
  console.error(`usage: npm run bench -- <name> [options]\navailable: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}

const bench = (await import(new URL(`${name}.ts`, BENCH_DIR).href)) as { run(args: string[]): Promise<number | void> };
const code = (await bench.run(args)) ?? 0;
// Explicit exit: a client library's lingering handle must not keep a finished benchmark alive.
process.exit(code);
