// Liveness and readiness, the same for every process. Live: the process answers. Ready: each
// dependency is checked on its own and reported by name; only the ones a process cannot work
// without make it unready (the API keeps serving tills with Temporal or Redis down).

import type pg from 'pg';

export interface DependencyCheck {
  /** Throws when the dependency does not answer. */
  check(): Promise<void>;
  /** Without it the process cannot do its work: a failure makes the process unready. */
  required: boolean;
}

export interface Readiness {
  status: 'ready' | 'unready';
  checks: Record<string, { status: 'up' | 'down'; required: boolean; latencyMs: number; error?: string }>;
}

const CHECK_TIMEOUT_MS = 1_000;

/** One round trip to PostgreSQL: the only query outside a store, since it reads no table. */
export async function pingPostgres(pool: Pick<pg.Pool, 'query'>): Promise<void> {
  await pool.query('SELECT 1');
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<void>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

export async function readiness(checks: Record<string, DependencyCheck>): Promise<Readiness> {
  const entries = await Promise.all(Object.entries(checks).map(async ([name, dep]) => {
    const t0 = performance.now();
    try {
      await withTimeout(dep.check(), CHECK_TIMEOUT_MS);
      return [name, { status: 'up' as const, required: dep.required, latencyMs: Math.round(performance.now() - t0) }] as const;
    } catch (err) {
      return [name, {
        status: 'down' as const, required: dep.required, latencyMs: Math.round(performance.now() - t0),
        error: (err as Error).message.slice(0, 200),
      }] as const;
    }
  }));
  const result: Readiness['checks'] = Object.fromEntries(entries);
  const unready = Object.values(result).some((c) => c.required && c.status === 'down');
  return { status: unready ? 'unready' : 'ready', checks: result };
}
