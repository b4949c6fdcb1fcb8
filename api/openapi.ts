// The OpenAPI 3.1 document, generated from the same procedures and zod schemas as the API.

import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { z } from 'zod';
import { errorSchema } from './schemas.ts';
import { appRouter } from './router.ts';
import { restProcedures } from './rest.ts';
import { PERIOD_PATTERN } from '../domain/period.ts';

let cached: OpenAPIObject | null = null;
const errorRef = { $ref: '#/components/schemas/Error' };

/** What any operation may answer besides its own refusals: the HTTP layer's and the engine's. */
const COMMON_ERRORS: Record<string, string> = {
  400: 'Malformed input: wrong types, values out of range, unknown fields, malformed JSON or percent-encoding (validation_error and other 400 codes)',
  414: 'The URL is longer than 8 KiB, or a path segment longer than 100 characters (uri_too_long)',
  431: 'The request line and headers are larger than 16 KiB (headers_too_large)',
  500: 'An internal fault (internal_error); quote the Request-Id to support',
  503: 'A service the engine depends on is unreachable (service_unavailable); retry shortly',
};
const BODY_ERRORS: Record<string, string> = {
  413: 'The body is larger than 64 KiB (payload_too_large)',
  415: 'The body is not application/json (unsupported_media_type)',
};
const AUTH_ERRORS: Record<string, string> = { 401: 'Missing or invalid API key (unauthenticated)' };
const ROLE_ERRORS: Record<string, string> = { 403: 'Not allowed for this key\'s role (forbidden)' };

type Operation = {
  security?: unknown[]; requestBody?: unknown; parameters?: { in: string; name: string }[]; tags?: string[];
  responses?: Record<string, { description?: string; content?: unknown; headers?: Record<string, unknown> }>;
};

/**
 * Every operation lists every status it can answer with, each error with the one error shape, and
 * every answer with its Request-Id header (429 also with Retry-After).
 */
function documentResponses(doc: OpenAPIObject): void {
  doc.components = { ...doc.components, headers: {
    ...doc.components?.headers,
    RequestId: { description: 'Identifies this request in the logs; quote it to support. A valid X-Request-Id sent by the client is echoed.', schema: { type: 'string' } },
    RetryAfter: { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
  } };
  // Operations for named back-office roles may refuse a key of another role (403).
  const withRoles = new Set(restProcedures(appRouter).filter((r) => r.roles)
    .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`));
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
      const protectedOp = (op.security ?? []).some((s) => Object.keys(s as object).length > 0);
      const backoffice = withRoles.has(`${method.toUpperCase()} ${path}`);
      const responses = op.responses ?? {};
      const errors = {
        ...COMMON_ERRORS, ...(method === 'post' ? BODY_ERRORS : {}),
        ...(protectedOp ? AUTH_ERRORS : {}), ...(backoffice ? ROLE_ERRORS : {}),
      };
      for (const [status, description] of Object.entries(errors)) responses[status] ??= { description };
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 400) response.content = { 'application/json': { schema: errorRef } };
        response.headers = {
          ...response.headers, 'Request-Id': { $ref: '#/components/headers/RequestId' },
          ...(status === '429' ? { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } : {}),
        };
      }
      op.responses = responses;
    }
  }
}

export function openApiDocument(baseUrl: string): OpenAPIObject {
  if (cached) return { ...cached, servers: [{ url: baseUrl }] };
  const doc = generateOpenApiDocument(appRouter, {
    title: 'Voucher engine API',
    version: '1.0.0',
    description: 'Point-of-sale and third-party API of the voucher scheme. Amounts are integers in minor '
      + 'units. Every POST is safe to retry with an Idempotency-Key header. Errors share one shape '
      + '(components.schemas.Error) with a stable machine code.',
    baseUrl,
    securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: "A terminal's API key (vk_…) for POS calls; a back-office key (vb_…) for clearing and reports" } },
    defs: { Error: errorSchema as unknown as z.ZodType },
  });
  // Statement downloads are served outside the procedures (binary and streamed); document them too.
  (doc.paths as Record<string, unknown>)['/v1/clearing/periods/{period}/statements/{billingPartyId}.{format}'] = {
    get: {
      tags: ['Clearing'], summary: "A billing party's statement: the PDF as sent, or the CSV of its transactions",
      description: 'Authorized by a back-office key (finance and admin: any party; a billing party: its own) or by the '
        + 'signed link (expires, sig) from the statement e-mail or the period view. The CSV is RFC 4180, one row per '
        + 'sale, load, redemption and refund, amounts signed from the party\'s side; the same period gives the same bytes.',
      security: [{ apiKey: [] }, {}],
      parameters: [
        { name: 'period', in: 'path', required: true, schema: { type: 'string', pattern: PERIOD_PATTERN } },
        { name: 'billingPartyId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        { name: 'format', in: 'path', required: true, schema: { type: 'string', enum: ['pdf', 'csv'] } },
        { name: 'expires', in: 'query', required: false, schema: { type: 'integer' } },
        { name: 'sig', in: 'query', required: false, schema: { type: 'string' } },
      ],
      responses: {
        200: { description: 'The statement', content: { 'application/pdf': {}, 'text/csv': {} } },
        400: { description: 'Malformed period or an altered link', content: { 'application/json': { schema: errorRef } } },
        401: { description: 'No valid key or link', content: { 'application/json': { schema: errorRef } } },
        404: { description: 'No such statement (or not yours)', content: { 'application/json': { schema: errorRef } } },
        410: { description: 'The link has expired', content: { 'application/json': { schema: errorRef } } },
      },
    },
  };
  documentSettlementRoutes(doc.paths as Record<string, unknown>);
  documentResponses(doc);
  // The generator's own per-status error schemas are now unreferenced.
  const schemas = (doc.components?.schemas ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  cached = doc;
  return { ...doc, servers: [{ url: baseUrl }] };
}

/** The settlement routes outside the procedures (XML and CSV bodies): api/routes/settlement.ts. */
const settlementError = (description: string) => ({ description, content: { 'application/json': { schema: errorRef } } });
const periodParameter = { name: 'period', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } };

function documentSettlementRoutes(paths: Record<string, unknown>): void {
  const error = settlementError;
  const period = periodParameter;
  paths['/v1/settlement/periods/{period}/files/{fileId}.xml'] = {
    get: {
      tags: ['Settlement'], summary: 'A SEPA file (pain.001 credit transfers or pain.008 direct debits) as offered, validated against its ISO 20022 schema',
      description: 'Finance and admins; every download is audited. Upload it to the bank as it is.',
      security: [{ apiKey: [] }],
      parameters: [period, { name: 'fileId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      responses: { 200: { description: 'The file', content: { 'application/xml': {} } }, 403: error('Not finance or admin'), 404: error('No such file') },
    },
  };
  paths['/v1/settlement/periods/{period}/datev/{billingPartyId}.csv'] = {
    get: {
      tags: ['Settlement'], summary: "A party's statement as a DATEV booking batch (EXTF Buchungsstapel, Windows-1252)",
      description: 'Finance and admins for any party, a billing party for its own; the period must be closed.',
      security: [{ apiKey: [] }],
      parameters: [period, { name: 'billingPartyId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      responses: {
        200: { description: 'The booking batch', content: { 'text/csv': {} } }, 403: error('Not allowed for this key'),
        404: error('No such statement (or not yours)'), 409: error('The period is not closed'),
      },
    },
  };
  paths['/v1/settlement/periods/{period}/datev-journal.csv'] = {
    get: {
      tags: ['Settlement'], summary: "The centre's journal of the period as a DATEV booking batch (EXTF Buchungsstapel, Windows-1252)",
      description: 'Finance and admins; the period must be closed. Per day, entry kind and party, debit and credit account (DATEV_ACCOUNTS); audited.',
      security: [{ apiKey: [] }],
      parameters: [period],
      responses: {
        200: { description: 'The booking batch', content: { 'text/csv': {} } }, 403: error('Not finance or admin'),
        404: error('The period was not cleared'), 409: error('The period is not closed'),
      },
    },
  };
  documentReconciliationRoutes(paths);
}

/** Uploads that reconcile what arrived: Stripe's payouts and the bank's account statement. */
function documentReconciliationRoutes(paths: Record<string, unknown>): void {
  const error = settlementError;
  const period = periodParameter;
  paths['/v1/settlement/stripe-payouts'] = {
    post: {
      tags: ['Settlement'], summary: "Match Stripe's payouts with the online orders: upload the payout reconciliation report (itemized, CSV)",
      description: "Stripe's `payout_reconciliation.itemized.5` report (up to 20 MiB). Charges and refunds are matched to orders by payment intent id "
        + 'and amount; a balance transaction is recorded once, so overlapping reports add only what is new. Audited.',
      security: [{ apiKey: [] }],
      requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
      responses: {
        200: { description: 'The import and the report after it', content: { 'application/json': { schema: { type: 'object' } } } },
        400: error('Not the itemized payout reconciliation report (invalid_payout_report)'), 403: error('Not finance or admin'),
        413: error('The body is larger than 20 MiB'), 415: error('The body is not CSV'),
      },
    },
    get: {
      tags: ['Settlement'], summary: "What Stripe's uploaded payouts carried: matched, unknown, amount differences, paid orders in no payout, provider clearing",
      security: [{ apiKey: [] }],
      parameters: [{ name: 'notPaidOutAfterDays', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 365, default: 7 } }],
      responses: { 200: { description: 'The report', content: { 'application/json': { schema: { type: 'object' } } } }, 403: error('Not finance or admin') },
    },
  };
  paths['/v1/settlement/periods/{period}/bank-statements'] = {
    post: {
      tags: ['Settlement'], summary: "Reconcile the period's payments with the bank's account statement (camt.053.001.02 or .08)",
      description: 'The body is the statement file (up to 10 MiB). Each payment in a file becomes paid, returned (with the reason code), '
        + 'wrong_amount or missing; differences are listed and alerted. The same file again changes nothing.',
      security: [{ apiKey: [] }],
      parameters: [period],
      requestBody: { required: true, content: { 'application/xml': { schema: { type: 'string' } } } },
      responses: {
        200: { description: 'Payments and differences after reconciling', content: { 'application/json': { schema: { type: 'object' } } } },
        400: error('Not a valid camt.053 (invalid_bank_statement)'), 403: error('Not finance or admin'), 404: error('The period was not settled'),
        413: error('The body is larger than 10 MiB'), 415: error('The body is not XML'), 422: error('A statement of another account (bank_statement_wrong_account)'),
      },
    },
  };
}
