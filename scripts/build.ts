// `npm run build`: the production build. Each process entry point becomes one plain-JavaScript
// file in dist/ (node runs it, no tsx), and the workflow code is bundled once into
// dist/workflow-bundle.js so a worker starts without webpack.
//
// dist/ sits one level below the project root like scripts/ does, so every path the code
// resolves relative to its own file (web/dist, node_modules/prisma, scripts/prisma-engine)
// points at the same place from a built file as from its source.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleWorkflows } from '../infra/worker.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'dist');

/** The processes a deployment runs: API replicas, worker replicas and the one-shot migrate job. */
const ENTRY_POINTS = ['api', 'worker', 'migrate'];

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const t0 = Date.now();
await build({
  entryPoints: Object.fromEntries(ENTRY_POINTS.map((name) => [name, path.join(ROOT, 'scripts', `${name}.ts`)])),
  outdir: OUT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies stay in node_modules: native modules (Temporal's core bridge) and packages that
  // read files next to themselves cannot be bundled, and the image installs them anyway.
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

const bundle = await bundleWorkflows();
writeFileSync(path.join(OUT, 'workflow-bundle.js'), bundle.code);

console.log(`[build] ${ENTRY_POINTS.map((n) => `dist/${n}.js`).join(', ')} and dist/workflow-bundle.js in ${Date.now() - t0} ms`);
