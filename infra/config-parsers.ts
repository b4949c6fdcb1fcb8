// The kinds of value the environment holds, as zod schemas that name the variable in every message.
// An empty or blank value is "not set" (compose passes `${VAR:-}` as ''), so it takes the default.

import { z } from 'zod';

/** One environment variable: how to read it, its default, and what it means (README, Configuration). */
export interface EnvVar<T> {
  description: string;
  /** The value when unset; undefined where loadConfig decides (defaults that depend on the mode). */
  fallback: T;
  /** Values that are secrets or may hold credentials are never repeated in a message. */
  secret?: boolean;
  /** Its name before it carried its unit: still read, with a warning. */
  formerly?: string;
  /** The zod schema of this variable under `name` (its own or its former one). */
  schema(name: string): z.ZodType<T>;
}

/** A parse result meaning "not what this variable expects": the message then says what it expects. */
export const INVALID = Symbol('invalid');

function emptyIsUnset(raw: unknown): unknown {
  return typeof raw === 'string' && raw.trim() === '' ? undefined : raw;
}

interface VarOptions { secret?: boolean; formerly?: string }

/**
 * A variable read by `parse` (returning INVALID, or throwing an Error whose message says what is
 * wrong). `expected` completes "NAME must be …".
 */
export function envVar<T>(expected: string, parse: (raw: string) => T | typeof INVALID, fallback: T, description: string, opts: VarOptions = {}): EnvVar<T> {
  return {
    description, fallback, ...opts,
    schema(name) {
      const read = z.string().optional().transform((raw, ctx): T => {
        if (raw === undefined) return fallback;
        const value = raw.trim();
        let parsed: T | typeof INVALID;
        try {
          parsed = parse(value);
        } catch (err) {
          const message = (err as Error).message;
          ctx.addIssue({ code: 'custom', message: message.startsWith(name) ? message : `${name}: ${message}` });
          return z.NEVER;
        }
        if (parsed === INVALID) {
          const shown = opts.secret ? '' : `, not ${JSON.stringify(value)}`;
          ctx.addIssue({ code: 'custom', message: `${name} must be ${expected}${shown}` });
          return z.NEVER;
        }
        return parsed;
      });
      return z.preprocess(emptyIsUnset, read).describe(description) as unknown as z.ZodType<T>;
    },
  };
}

type Opts = VarOptions;

function integer(raw: string): number | typeof INVALID {
  if (!/^\d+$/.test(raw)) return INVALID;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : INVALID;
}

export const positiveInt = (fallback: number, description: string, opts?: Opts) =>
  envVar('a positive integer', (raw) => { const v = integer(raw); return v === 0 ? INVALID : v; }, fallback, description, opts);

export const nonNegativeInt = (fallback: number, description: string, opts?: Opts) =>
  envVar('a non-negative integer', integer, fallback, description, opts);

export const intBetween = (min: number, max: number, fallback: number, description: string, opts?: Opts) =>
  envVar(`an integer ${min}-${max}`, (raw) => { const v = integer(raw); return v === INVALID || v < min || v > max ? INVALID : v; }, fallback, description, opts);

/** A limit: a non-negative integer, or `off` for none (null). */
export const limit = (fallback: number | null, description: string, opts?: Opts) =>
  envVar<number | null>('a non-negative integer or "off"', (raw) => (raw === 'off' ? null : integer(raw)), fallback, description, opts);

export function oneOf<const V extends string, F extends V | undefined>(values: readonly V[], fallback: F, description: string, opts?: Opts): EnvVar<V | F> {
  return envVar<V | F>(`one of ${values.join(', ')}`, (raw) => (values.includes(raw as V) ? (raw as V) : INVALID), fallback, description, opts);
}

export const text = <F extends string | undefined>(fallback: F, description: string, opts?: Opts) =>
  envVar<string | F>('text', (raw) => raw, fallback, description, opts);

/** A URL of one of these schemes (e.g. `postgresql:`); `also` lists other accepted literal values. */
export function url<F extends string | undefined>(schemes: readonly string[], fallback: F, description: string, opts?: Opts & { also?: string[] }): EnvVar<string | F> {
  const expected = `a ${schemes.map((s) => `${s}//`).join(' or ')} URL${opts?.also ? ` or ${opts.also.map((a) => JSON.stringify(a)).join(', ')}` : ''}`;
  return envVar<string | F>(expected, (raw) => {
    if (opts?.also?.includes(raw)) return raw;
    try {
      return schemes.includes(new URL(raw).protocol) ? raw : INVALID;
    } catch {
      return INVALID;
    }
  }, fallback, description, opts);
}

/** host:port, e.g. `127.0.0.1:7233`, `temporal:7233` or `[::1]:7233`. */
export const hostPort = <F extends string | undefined>(fallback: F, description: string) =>
  envVar<string | F>('host:port', (raw) => (/^([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/.test(raw) ? raw : INVALID), fallback, description);

export const timeZone = (fallback: string, description: string) =>
  envVar('an IANA time zone (e.g. Europe/Berlin)', (raw) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: raw });
      return raw;
    } catch {
      return INVALID;
    }
  }, fallback, description);

/**
 * Whom to believe about the client's address: nobody (false), the nearest N proxies (a hop
 * count), or proxies at these addresses/CIDRs. Never "anyone": that lets a client choose its own
 * address with X-Forwarded-For and walk around per-address limits.
 */
export type TrustProxy = false | number | string[];

/**
 * TRUST_PROXY: unset/0/false = off; a number = that many proxies in front of the API (the client
 * is the address the outermost of them saw); otherwise a comma-separated list of proxy addresses
 * or CIDRs. `true` (trust every sender) is refused.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  if (raw === undefined || raw === '0' || raw.toLowerCase() === 'false' || raw.toLowerCase() === 'off') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (raw.toLowerCase() === 'true') {
    throw new Error('TRUST_PROXY=true would believe any X-Forwarded-For; give the number of proxies in front of the API, or their addresses/CIDRs');
  }
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const address = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(\/\d{1,3})?$/i;
  const bad = list.find((entry) => !address.test(entry));
  if (bad !== undefined || list.length === 0) {
    throw new Error(`TRUST_PROXY must be a number of proxies or a comma-separated list of addresses/CIDRs; ${JSON.stringify(bad ?? raw)} is neither`);
  }
  return list;
}

export interface DatevAccounts {
  /** Clearing account of the voucher scheme (vouchers sold are a liability until redeemed). */
  voucherClearing: string;
  /** Contra account per billing party: its debtor/creditor account, else this default. */
  partyDefault: string;
  /** Per party id: its own DATEV personal account. */
  parties: Record<string, string>;
  /** The centre's journal: what the payment provider collected for online sales and has not paid out yet. */
  providerClearing: string;
  /** The centre's journal: value of vouchers that expired unused (income). */
  breakage: string;
  /** The centre's journal: equity the legacy import booked opening balances against. */
  migration: string;
  /** DATEV consultant and client numbers of the centre's bookkeeping. */
  consultant: string;
  client: string;
  /** First month of the fiscal year (1-12). */
  fiscalYearStartMonth: number;
}

/** DATEV_ACCOUNTS: `voucherClearing=1590,partyDefault=1600,party:<uuid>=70001,…` (all optional). */
export function parseDatevAccounts(raw: string | undefined): DatevAccounts {
  const accounts: DatevAccounts = {
    voucherClearing: '1590', partyDefault: '1600', parties: {}, providerClearing: '1360', breakage: '2700', migration: '9000',
    consultant: '1001', client: '1', fiscalYearStartMonth: 1,
  };
  for (const part of (raw ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(voucherClearing|partyDefault|providerClearing|breakage|migration|consultant|client|fiscalYearStartMonth|party:[0-9a-f-]{36})=(\d{1,9})$/.exec(part);
    if (!m) throw new Error(`DATEV_ACCOUNTS: ${JSON.stringify(part)} is not name=digits (voucherClearing, partyDefault, providerClearing, breakage, migration, consultant, client, fiscalYearStartMonth, party:<uuid>)`);
    const [, key, value] = m;
    if (key!.startsWith('party:')) accounts.parties[key!.slice('party:'.length)] = value!;
    else if (key === 'fiscalYearStartMonth') accounts.fiscalYearStartMonth = Number(value);
    else (accounts as unknown as Record<string, string>)[key!] = value!;
  }
  if (accounts.fiscalYearStartMonth < 1 || accounts.fiscalYearStartMonth > 12) throw new Error('DATEV_ACCOUNTS: fiscalYearStartMonth is 1-12');
  return accounts;
}

/** EXPIRY_REMINDER_DAYS: `30,7` (days before expiry, each 1-365), or `off` for none. */
export function parseReminderDays(raw: string): number[] | typeof INVALID {
  if (raw === 'off') return [];
  const days = raw.split(',').map((d) => Number(d.trim()));
  if (days.some((d) => !Number.isInteger(d) || d < 1 || d > 365)) return INVALID;
  return [...new Set(days)].sort((a, b) => b - a);
}
