// The one error shape of the REST API: {"error": {"code", "message", "request_id", "details"?}}.

import { TRPCError } from '@trpc/server';
import { DomainError, ERROR_STATUS, type ErrorCode } from '../domain/errors.ts';
import { appErrorCode } from './trpc.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; request_id: string; details?: unknown };
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, request_id: requestId, ...(details === undefined ? {} : { details }) } };
}

/** The first code answered with this status, if any (the general one: codes are listed general first). */
export function codeForStatus(status: number): ErrorCode | null {
  const found = Object.entries(ERROR_STATUS).find(([, s]) => s === status);
  return (found?.[0] as ErrorCode | undefined) ?? null;
}

/** Maps anything a procedure threw to a status and body; unknown failures never leak details. */
export function describeError(err: unknown, requestId: string): { status: number; body: ErrorBody } {
  if (err instanceof DomainError) {
    return { status: err.status, body: errorBody(err.code, err.message, requestId, err.details) };
  }
  if (err instanceof TRPCError) {
    if (err.cause instanceof DomainError) return describeError(err.cause, requestId);
    const code = appErrorCode(err);
    if (code === 'validation_error') {
      const issues = (err.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues;
      const details = issues?.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
      const summary = details?.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
      return { status: 400, body: errorBody('validation_error', summary || 'invalid input', requestId, details) };
    }
    if (code !== 'internal_error') return { status: ERROR_STATUS[code], body: errorBody(code, err.message, requestId) };
  }
  return { status: 500, body: errorBody('internal_error', 'internal error; quote the request id to support', requestId) };
}
