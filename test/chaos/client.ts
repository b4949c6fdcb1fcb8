// A till's HTTP client for the bank test: every mutating call carries an Idempotency-Key and is
// retried with the same key on a 5xx or a network error until it is answered (bounded), and every
// attempt is recorded so the test can say what each fault did to the tills.

import { randomUUID } from 'node:crypto';

export interface Attempt {
  at: number; // ms since epoch when the attempt ended
  ok: boolean; // answered (2xx or a 4xx refusal)
  status: number | null; // null: network error
  route: string; // e.g. POST /v1/redemptions/:id/capture
  code?: string; // the error code of a 5xx answer
}

const route = (method: string, p: string) => `${method} ${p.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id')}`;

export interface Answer {
  method: string;
  path: string;
  key: string;
  body: unknown;
  apiKey: string | null;
  headers: Record<string, string>;
  status: number;
  response: any;
  attempts: number;
}

export interface CallLog {
  attempts: Attempt[];
  answers: Answer[];
  unanswered: Array<{ method: string; path: string; key: string; lastError: string }>;
}

export function newCallLog(): CallLog {
  return { attempts: [], answers: [], unanswered: [] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function send(baseUrl: string, a: { method: string; path: string; key: string; body?: unknown; apiKey: string | null; headers?: Record<string, string> }, timeoutMs = 15_000) {
  const headers: Record<string, string> = { 'idempotency-key': a.key, ...a.headers };
  if (a.apiKey) headers.authorization = `Bearer ${a.apiKey}`;
  if (a.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + a.path, {
    method: a.method, headers, body: a.body === undefined ? undefined : JSON.stringify(a.body), signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* a proxy's HTML error page: kept as text */
  }
  return { status: res.status, body: json as any };
}

/** Sends until answered (2xx or 4xx) or `budgetMs` runs out; retries keep the same key. */
export async function callUntilAnswered(
  log: CallLog, baseUrl: string,
  a: { method: string; path: string; body?: unknown; apiKey: string | null; key?: string; headers?: Record<string, string> },
  budgetMs = 90_000,
): Promise<Answer | null> {
  const key = a.key ?? randomUUID();
  const deadline = Date.now() + budgetMs;
  let delay = 100;
  let attempts = 0;
  let lastError = '';
  for (;;) {
    attempts++;
    try {
      const res = await send(baseUrl, { ...a, key });
      const answered = res.status < 500;
      log.attempts.push({ at: Date.now(), ok: answered, status: res.status, route: route(a.method, a.path), code: answered ? undefined : res.body?.error?.code });
      if (answered) {
        const answer: Answer = { method: a.method, path: a.path, key, body: a.body, apiKey: a.apiKey, headers: a.headers ?? {}, status: res.status, response: res.body, attempts };
        log.answers.push(answer);
        return answer;
      }
      lastError = `${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
    } catch (e) {
      log.attempts.push({ at: Date.now(), ok: false, status: null, route: route(a.method, a.path) });
      lastError = (e as Error).cause ? String((e as Error & { cause: unknown }).cause) : (e as Error).message;
    }
    if (Date.now() + delay > deadline) {
      log.unanswered.push({ method: a.method, path: a.path, key, lastError });
      return null;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 2_000);
  }
}
