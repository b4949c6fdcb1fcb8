// Reads the environment against the schema (config-schema.ts) in one pass and refuses to start on
// anything wrong, naming every bad variable at once: a malformed value, a variable that looks like
// ours but is not one (a typo would otherwise be ignored silently), or two names for one setting.

import { z } from 'zod';
import { createLogger } from './logger.ts';
import { ENV_VARS, OTEL_SDK_VARS, type Env, type EnvName } from './config-schema.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1
      ? `configuration refused: ${problems[0]}`
      : `configuration refused (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const NAMES = Object.keys(ENV_VARS) as EnvName[];
const FORMER_NAMES = new Map(NAMES.flatMap((name) => {
  const formerly = (ENV_VARS[name] as { formerly?: string }).formerly;
  return formerly ? [[formerly, name] as const] : [];
}));

/**
 * The first words of our variables' names: an unknown name starting with one of them is a mistake.
 * Not APP_: platforms set APP_NAME, APP_URL and the like (a typo of APP_MODE is still a near-miss).
 */
const OUR_PREFIXES = ['DATABASE_', 'REDIS_', 'TEMPORAL_', 'CARD_', 'HOLD_', 'ADJUSTMENT_', 'EXPIRY_', 'IDEMPOTENCY_',
  'PUBLIC_', 'PAYMENT_', 'STRIPE_', 'SHOP_', 'SCHEME_', 'TRUST_', 'SMTP_', 'MAIL_', 'CLEARING_', 'DB_', 'HTTP_', 'CODE_GUESS_',
  'VELOCITY_', 'SIGN_IN_', 'WORKER_', 'SHUTDOWN_', 'PII_', 'ORDER_', 'EXPIRED_', 'WEBHOOK_', 'IMPORT_', 'ISO20022_', 'SEPA_',
  'DATEV_', 'MAX_CARD_', 'VOUCHER_', 'PORTAL_'];

/**
 * Names with our prefixes that belong to someone else: not ours to refuse. Each with its reason.
 * Patterns are anchored regular expressions.
 */
export const FOREIGN_VARS: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /^HTTP_PROXY$/, reason: 'the standard proxy variable (HTTP clients and package managers)' },
  { pattern: /^TEMPORAL_(API_KEY|TLS(_.+)?|CODEC_.+|GRPC_META(_.+)?|PROFILE|CONFIG_FILE|ENV|DISABLE_.+|CLI_.+|DEBUG|CORS_ORIGINS)$/,
    reason: "the temporal CLI's and Temporal's environment configuration (and the Temporal UI image's CORS setting)" },
  { pattern: /^[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/,
    reason: 'Kubernetes service links (e.g. REDIS_PORT, REDIS_SERVICE_HOST for a service named redis)' },
];

/**
 * Not configuration: set by tools, the shell or the test runner, read only by them. Listed so that
 * the schema accounts for every variable the repository reads.
 */
export const TOOLING_VARS: Record<string, string> = {
  CI: 'set by CI runners; the test runner reads it',
  NODE_ENV: 'read by libraries; the engine decides by APP_MODE, never by NODE_ENV',
  PATH: 'the shell', USER: 'the shell: names the operator in a CLI import', XDG_CACHE_HOME: 'where the launcher caches built binaries',
  DEBIAN_FRONTEND: 'set by the test runner for apt', LC_ALL: 'set by the launcher for PostgreSQL tools', LC_MESSAGES: 'the same',
  PRISMA_SCHEMA_ENGINE_BINARY: "Prisma's migration engine (scripts/prisma-engine)", PRISMA_SCHEMA_ENGINE_SHIM_DEBUG: 'debug output of that shim',
  CHAOS_TILLS: 'the bank chaos test', CHAOS_RUN_SECONDS: 'the bank chaos test', RECORD_AS: 'recording replay histories',
  CHROMIUM_PATH: 'the browser tests',
};

function isForeign(name: string): boolean {
  return name in TOOLING_VARS || name.startsWith('OTEL_') || FOREIGN_VARS.some((f) => f.pattern.test(name));
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name closest to `name`, if it is close enough to be a typo of it. */
export function closestName(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const known of [...NAMES, ...FORMER_NAMES.keys()]) {
    const distance = editDistance(name, known);
    if (!best || distance < best.distance) best = { name: known, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 5)) ? best.name : undefined;
}

/** Unknown names that look like ours: one of our prefixes, or a near-miss of a known name. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name) || name in ENV_VARS || FORMER_NAMES.has(name) || isForeign(name)) continue;
    const suggestion = closestName(name);
    const ours = OUR_PREFIXES.some((p) => name.startsWith(p));
    if (!ours && !(suggestion && name.length >= 8 && editDistance(name, suggestion) <= 2)) continue;
    problems.push(`${name} is not a known variable${suggestion ? ` (did you mean ${suggestion}?)` : ''}; see README, Configuration`);
  }
  return problems;
}

const warned = new Set<string>();

/** A deprecated name stands in for its new one: same value or only one set, else it is refused. */
function applyFormerNames(env: NodeJS.ProcessEnv, problems: string[], readAs: Map<EnvName, string>): Record<string, string | undefined> {
  const input: Record<string, string | undefined> = {};
  for (const name of NAMES) input[name] = env[name];
  for (const [formerly, name] of FORMER_NAMES) {
    const old = env[formerly]?.trim();
    if (!old) continue;
    const current = env[name]?.trim();
    if (current && current !== old) {
      problems.push(`${formerly} (the former name of ${name}) and ${name} are both set, to different values: set ${name} only`);
      continue;
    }
    input[name] = old;
    readAs.set(name, formerly);
    if (!warned.has(formerly)) {
      warned.add(formerly);
      createLogger('config').warn(`${formerly} is deprecated: it is read as ${name} (the unit is in the name now); rename it`);
    }
  }
  return input;
}

/** Settings that are only meaningful together. */
function crossChecks(env: Env): string[] {
  if (!env.SEPA_CENTRE_IBAN) return [];
  const missing = (['SEPA_CENTRE_BIC', 'SEPA_CREDITOR_ID'] as const).filter((n) => !env[n]);
  return missing.map((n) => `${n} must be set with SEPA_CENTRE_IBAN`);
}

/**
 * The environment, validated and typed. Every problem is collected (zod reports all issues, not
 * the first) and thrown as one ConfigError. `only` reads just those variables and skips the
 * unknown-name check (tools that need one setting, before the rest may be complete).
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env, { only }: { only?: readonly EnvName[] } = {}): Env {
  const problems: string[] = [];
  const names = only ?? NAMES;
  // A value given under a former name is reported under that name: it is the one the operator set.
  const readAs = new Map<EnvName, string>();
  const input = only ? Object.fromEntries(only.map((n) => [n, env[n]])) : applyFormerNames(env, problems, readAs);
  const shape = Object.fromEntries(names.map((n) => [n, ENV_VARS[n].schema(readAs.get(n) ?? n)]));
  const result = z.object(shape).safeParse(input);
  if (!result.success) problems.push(...result.error.issues.map((issue) => issue.message));
  if (!only) problems.push(...unknownVariables(env));
  if (result.success && !only) problems.push(...crossChecks(result.data as Env));
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data as Env;
}

/** Every documented name (README, Configuration): the schema's, plus those the OpenTelemetry SDK reads. */
export function documentedNames(): string[] {
  return [...NAMES, ...OTEL_SDK_VARS];
}
