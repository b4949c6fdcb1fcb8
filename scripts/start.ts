// `npm start`: the whole system on one machine. Uses the services that are configured or
// running, starts what is missing (see scripts/stack), applies migrations, seeds a demo scheme,
// then runs the worker and the API as child processes. Ctrl-C stops everything it started.
// It is the one entry point that chooses development mode by itself (and says so); the API and
// worker alone run in production mode unless APP_MODE says otherwise.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDeps } from '../api/app.ts';
import { loadConfig } from '../infra/config.ts';
import { migrate } from '../infra/migrate.ts';
import { seedDemo, type DemoScheme } from '../services/demo-seed.ts';
import { existsSync } from 'node:fs';
import { startStack } from './stack/index.ts';
import { supervise, type Supervised } from './stack/supervisor.ts';
import { startDevMailbox, type DevMailbox } from './dev-mailbox.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = (line: string) => console.log(`[start] ${line}`);

if (!process.env.APP_MODE) {
  process.env.APP_MODE = 'development';
  log('APP_MODE is unset: running in DEVELOPMENT mode (development secrets and payment provider, demo data). '
    + 'Never expose this to the internet; for production see README, "Production mode".');
} else {
  log(`APP_MODE=${process.env.APP_MODE}`);
}
// Refuse a production configuration with development defaults before starting anything.
loadConfig();

const stack = await startStack({ purpose: 'dev', dataDir: path.join(ROOT, '.data/dev') });
let mailbox: DevMailbox | null = null;
if (!process.env.SMTP_URL) mailbox = await startDevMailbox(path.join(ROOT, '.data/dev/mail'), log);
if (!existsSync(path.join(ROOT, 'web/dist/index.html')) && existsSync(path.join(ROOT, 'web/vite.config.ts'))) {
  log('building the web app (shop, POS page)');
  const { spawnSync } = await import('node:child_process');
  const built = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) log('web app build failed: the API runs without the pages');
}
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...(mailbox ? { SMTP_URL: mailbox.url } : {}),
  DATABASE_URL: stack.databaseUrl,
  REDIS_URL: stack.redisUrl ?? 'off',
  TEMPORAL_ADDRESS: stack.temporalAddress,
  TEMPORAL_NAMESPACE: stack.temporalNamespace,
  ...(stack.temporalUiUrl ? { TEMPORAL_UI_URL: stack.temporalUiUrl } : {}),
};
Object.assign(process.env, env);
const config = loadConfig();

log('applying migrations');
await migrate(stack.databaseUrl);
// The demo scheme (and printing its codes) is for development only.
let demo: DemoScheme | null = null;
if (config.mode === 'development') {
  const deps = createDeps(config, log);
  demo = await seedDemo(deps);
  await deps.close();
}

// Supervised: a crashed worker or API is started again; the rest of the stack keeps running.
const children: Supervised[] = [];
function run(name: string, script: string): void {
  children.push(supervise({
    name, command: process.execPath, args: ['--import', 'tsx', path.join(ROOT, script)],
    options: { cwd: ROOT, env, stdio: 'inherit' }, log,
    onGiveUp: () => void stop(1),
  }));
}

let stopping = false;
async function stop(exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping');
  await Promise.all(children.map((child) => child.stop()));
  await mailbox?.close();
  await stack.stop();
  process.exit(exitCode);
}
// `on`, not `once`: a Ctrl-C reaches this process twice (directly and relayed by tsx), and a
// second signal must not kill it while it waits for the API and the worker to stop.
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

run('worker', 'scripts/worker.ts');
run('api', 'scripts/api.ts');

const apiUrl = `http://${config.host}:${config.port}`;
for (let i = 0; i < 200; i++) {
  try {
    if ((await fetch(`${apiUrl}/health`)).ok) break;
  } catch {
    /* not up yet */
  }
  await new Promise((r) => setTimeout(r, 100));
}

console.log(`
  Voucher engine is running in ${config.mode.toUpperCase()} mode. Ctrl-C stops everything started here.

  Shop           ${apiUrl}/          (Print@Home, ${config.payments.provider === 'dev' ? 'development payment provider: no real money' : 'Stripe'})
  POS page       ${apiUrl}/pos       (use the demo till API key below)
  Back office    ${apiUrl}/portal${demo ? `    (sign in as ${demo.admin.email} / ${demo.admin.password})` : ''}
  API            ${apiUrl}
  API docs       ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)
  tRPC           ${apiUrl}/trpc
  Temporal UI    ${stack.temporalUiUrl ?? `(external Temporal at ${stack.temporalAddress})`}
  PostgreSQL     ${stack.databaseUrl}
  Redis          ${stack.redisUrl ?? 'none: balance cache off'}
  Mail           ${mailbox ? `saved as .eml files in ${mailbox.dir} (set SMTP_URL to use a relay or maildev)` : process.env.SMTP_URL}
${demo ? demoSection(demo) : ''}`);

function demoSection(demo: DemoScheme): string {
  const card = demo.cards[0]!;
  return `
  Demo till API key:  ${demo.apiKey}
  Demo finance key:   ${demo.financeApiKey}   (clearing, statements, reports)
  Demo cards:         ${demo.cards.map((c) => `${c.code} (${(c.available / 100).toFixed(2)} EUR)`).join('\n                      ')}

  Try it:
    curl -s -X POST ${apiUrl}/v1/cards/lookup -H 'authorization: Bearer ${demo.apiKey}' \\
      -H 'content-type: application/json' -d '{"code":"${card.code}"}'
    curl -s ${apiUrl}/v1/reports/periods/$(date +%Y-%m) -H 'authorization: Bearer ${demo.financeApiKey}'
`;
}
