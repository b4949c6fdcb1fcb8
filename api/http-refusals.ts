// What the HTTP layer refuses before any route runs (a body too large or of the wrong type,
// malformed JSON or percent-encoding, a URL or headers too long, bytes that are not HTTP),
// answered in the API's one error shape with a Request-Id, like every other refusal.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../domain/errors.ts';
import { newRequestId } from './context.ts';
import { errorBody } from './errors.ts';

/** Longer URLs are refused with 414; Node refuses a request line and headers over 16 KiB with 431. */
export const MAX_URL_LENGTH = 8 * 1024;
/** Longer path parameters (ids are 36 characters) are refused with 414 by the router. */
export const MAX_PARAM_LENGTH = 100;

const REFUSALS: Record<string, { status: number; code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'validation_error' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'validation_error' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'validation_error' },
  FST_ERR_BAD_URL: { status: 400, code: 'validation_error', message: 'the URL is not validly percent-encoded UTF-8' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', message: `a path segment is longer than ${MAX_PARAM_LENGTH} characters` },
};

/** The error shape for a refusal the framework raised, or null for a fault of ours. */
export function frameworkRefusal(err: FastifyError): { status: number; code: ErrorCode; message: string } | null {
  const known = err.code ? REFUSALS[err.code] : undefined;
  if (known) return { status: known.status, code: known.code, message: known.message ?? err.message };
  return null;
}

/** Refusals Fastify's router makes itself (bad percent-encoding, an overlong path parameter). */
export function answerFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const refusal = frameworkRefusal(err) ?? { status: 400, code: 'validation_error' as const, message: err.message };
  void reply.code(refusal.status).header('request-id', req.id).send(errorBody(refusal.code, refusal.message, req.id));
}

const CLIENT_ERRORS: Record<string, { status: number; code: ErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', message: 'the request line and headers are larger than the server takes (16 KiB)' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', message: 'the request did not arrive in time' },
};

/**
 * Node's HTTP parser refuses the request before Fastify sees it (headers too large, not HTTP):
 * the answer is written to the socket directly, then the connection closed, as Node does itself.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = (err.code && CLIENT_ERRORS[err.code]) || { status: 400, code: 'validation_error' as const, message: 'the request is not valid HTTP/1.1' };
  const requestId = newRequestId();
  const body = JSON.stringify(errorBody(refusal.code, refusal.message, requestId));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n`
      + `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
      + `Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/** Refuses overlong URLs with 414 before routing: the query strings of tRPC GETs included. */
export function refuseLongUrls(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.raw.url && req.raw.url.length > MAX_URL_LENGTH) {
      return reply.code(414).send(errorBody('uri_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters`, req.id));
    }
  });
}
