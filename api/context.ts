import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AppDeps } from './deps.ts';
import type { RequestContext } from './trpc.ts';

const REQUEST_ID = /^[\w.:-]{8,128}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The server's own id for a request: never taken from the client, so logs and audit can trust it. */
export function newRequestId(): string {
  return `req_${randomBytes(12).toString('base64url')}`;
}

/** A client's X-Request-Id, kept beside ours (audit log) when it looks like an id. */
export function clientRequestId(incoming: string | string[] | undefined): string | null {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : null;
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' ? value : null;
}

export const SESSION_COOKIE = 've_session';

/** How a procedure sets or clears the portal's session cookie (tRPC only; REST has no cookies). */
export interface SessionCookie {
  set(token: string): void;
  clear(): void;
}

export function createRequestContext(
  deps: AppDeps, requestId: string, headers: IncomingHttpHeaders, clientIp: string,
  session: { token: string | null; cookie: SessionCookie | null } = { token: null, cookie: null },
): RequestContext {
  const authorization = header(headers, 'authorization');
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? null;
  const idempotencyKey = header(headers, 'idempotency-key');
  // Refused by the procedures' middleware rather than here: an error thrown while creating the
  // context escapes tRPC's error mapping and would surface as a 500.
  const invalidHeader = idempotencyKey !== null && !IDEMPOTENCY_KEY.test(idempotencyKey)
    ? 'Idempotency-Key must be 1-255 printable ASCII characters' : null;
  return {
    deps, requestId, clientIp, apiKey: bearer, idempotencyKey: invalidHeader ? null : idempotencyKey,
    orderToken: header(headers, 'x-order-token'), invalidHeader, acceptLanguage: header(headers, 'accept-language'),
    sessionToken: session.token, sessionCookie: session.cookie, csrfToken: header(headers, 'x-csrf-token'),
  };
}
