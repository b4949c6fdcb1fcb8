// Turns whatever a tRPC call threw into what the page shows: the API's stable application code
// (error.data.appCode, e.g. "insufficient_funds"), a message for people, per-field messages for
// input validation errors and the request id to quote to support.

import { TRPCClientError } from '@trpc/client';

export interface ApiError {
  appCode: string;
  message: string;
  /** Validation messages by input field ("amount", "email", …). */
  fields: Record<string, string>;
  requestId: string | null;
}

interface Issue {
  path?: unknown[];
  message?: unknown;
}

/** Zod's issues, which tRPC sends as the message of an input validation error. */
function parseIssues(message: string): Issue[] | null {
  if (!message.trimStart().startsWith('[')) return null;
  try {
    const parsed: unknown = JSON.parse(message);
    return Array.isArray(parsed) ? (parsed as Issue[]) : null;
  } catch {
    return null;
  }
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof TRPCClientError) {
    const data = (err.data ?? {}) as { appCode?: unknown; requestId?: unknown; httpStatus?: unknown };
    const requestId = typeof data.requestId === 'string' ? data.requestId : null;
    if (typeof data.appCode !== 'string') {
      // No answer from the API at all (offline, proxy error, server down).
      return { appCode: 'network_error', message: 'The server could not be reached. Check the connection and try again.', fields: {}, requestId };
    }
    const issues = parseIssues(err.message);
    if (issues) {
      const fields: Record<string, string> = {};
      const lines: string[] = [];
      for (const issue of issues) {
        const field = Array.isArray(issue.path) ? issue.path.map(String).join('.') : '';
        const text = typeof issue.message === 'string' ? issue.message : 'invalid value';
        if (field && !fields[field]) fields[field] = text;
        lines.push(field ? `${field}: ${text}` : text);
      }
      return { appCode: data.appCode, message: lines.join('; ') || 'invalid input', fields, requestId };
    }
    return { appCode: data.appCode, message: err.message, fields: {}, requestId };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { appCode: 'client_error', message, fields: {}, requestId: null };
}
