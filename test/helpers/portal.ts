// Calls tRPC over real HTTP as the portal does: the session cookie and X-CSRF-Token, or an API key.

import type { Harness } from './harness.ts';

export interface PortalAuth {
  cookie?: string;
  csrf?: string;
  key?: string;
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
  const url = `${h.baseUrl}/trpc/${path}`;
  const res = type === 'query'
    ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
    : await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(input ?? {}) });
  const body = await res.json() as any;
  return { status: res.status, data: body.result?.data ?? null, code: body.error?.data?.appCode ?? null, headers: res.headers };
}

/** Signs in with e-mail and password; returns the session cookie and CSRF token. */
export async function signIn(h: Harness, email: string, password: string): Promise<PortalAuth & { response: TrpcResponse }> {
  const response = await trpc(h, 'mutation', 'auth.signIn', { email, password });
  const setCookie = response.headers.get('set-cookie');
  return { cookie: setCookie?.split(';')[0], csrf: response.data?.csrfToken, response };
}
