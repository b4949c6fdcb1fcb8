// All configuration comes from the environment; every value has a development default so
// `npm start` works on a fresh machine. Production must set the secrets (see README).

export interface Config {
  databaseUrl: string;
  redisUrl: string | null;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** Key for the HMAC under which card codes are stored. */
  cardCodeKey: string;
  port: number;
  host: string;
  maxCardBalance: bigint;
  cardValidityDays: number;
  /** Hold lifetime when a store sets none; stores normally carry their own. */
  defaultHoldTtlSeconds: number;
  temporalUiUrl: string | null;
}

const DEV_CARD_CODE_KEY = 'dev-only-card-code-key-change-me';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

export function loadConfig(overrides: Partial<Config> = {}): Config {
  const env = process.env;
  const config: Config = {
    databaseUrl: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/voucher',
    redisUrl: env.REDIS_URL === 'off' ? null : (env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'),
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'voucher-engine',
    cardCodeKey: env.CARD_CODE_KEY ?? DEV_CARD_CODE_KEY,
    port: intFromEnv('PORT', 3000),
    host: env.HOST ?? '127.0.0.1',
    maxCardBalance: BigInt(intFromEnv('MAX_CARD_BALANCE', 250_000_00)),
    cardValidityDays: intFromEnv('CARD_VALIDITY_DAYS', 3 * 365),
    defaultHoldTtlSeconds: intFromEnv('HOLD_TTL_SECONDS', 900),
    temporalUiUrl: env.TEMPORAL_UI_URL ?? null,
    ...overrides,
  };
  if (env.NODE_ENV === 'production' && config.cardCodeKey === DEV_CARD_CODE_KEY) {
    throw new Error('CARD_CODE_KEY must be set in production');
  }
  return config;
}
