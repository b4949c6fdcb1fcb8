// Calls tRPC over real HTTP as the portal does: the session cookie and X-CSRF-Token, or an API key.

import type { Harness } from './harness.ts';

export interface PortalAuth {
  cookie?: string;
  csrf?: string;
  key?: string;
  /** Sent as Idempotency-Key. */
  idempotencyKey?: string;
}

export interface TrpcResponse {
  status: number;
  /** The procedure's data on success. */
  data: any;
  /** The engine's stable error code on failure. */
  code: string | null;
  headers: Headers;
}

export async function trpc(h: Harness, type: 'query' | 'mutation', path: string, input: unknown, auth: PortalAuth = {}): Promise<TrpcResponse> {
  const headers: Record<string, string> = {};
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.csrf) headers['x-csrf-token'] = auth.csrf;
  if (auth.key) headers.authorization = `Bearer ${auth.key}`;
  if (auth.idempotencyKey) headers['idempotency-key'] = auth.idempotencyKey;
  const url = `${h.baseUrl}/trpc/${path}`;
  const res = type === 'query'
    ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
    : await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(input ?? {}) });
  const body = await res.json() as any;
  return { status: res.status, data: body.result?.data ?? null, code: body.error?.data?.appCode ?? null, headers: res.headers };
}

/**
 * Signs in with e-mail and password; returns the session cookie and CSRF token. Where the user owes
 * a second factor (admins and finance always do) it enrols one if needed and gives a fresh TOTP
 * code, as the portal's user would; `secondFactor: false` stops after the password.
 */
export async function signIn(h: Harness, email: string, password: string, opts: { secondFactor?: boolean } = {}): Promise<PortalAuth & { response: TrpcResponse }> {
  const response = await trpc(h, 'mutation', 'auth.signIn', { email, password });
  const setCookie = response.headers.get('set-cookie');
  const auth = { cookie: setCookie?.split(';')[0], csrf: response.data?.csrfToken };
  if (opts.secondFactor !== false && response.data?.pendingSecondFactor) {
    if (response.data.secondFactor === 'enrol') await trpc(h, 'mutation', 'auth.enrolTotp', {}, auth);
    const code = await h.deps.users.currentTotpCode(response.data.user.userId);
    const verified = await trpc(h, 'mutation', 'auth.verifyTotp', { code }, auth);
    if (verified.status !== 200) throw new Error(`second factor refused: ${verified.status} ${verified.code}`);
  }
  return { ...auth, response };
}
