// The OpenAPI 3.1 document, generated from the same procedures and zod schemas as the API.

import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { z } from 'zod';
import { errorSchema } from './schemas.ts';
import { appRouter } from './router.ts';

let cached: OpenAPIObject | null = null;

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
  // Every error response uses the engine's own error shape, not the generator's default.
  const errorRef = { $ref: '#/components/schemas/Error' };
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { responses?: Record<string, { content?: unknown }> }>)) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (Number(status) >= 400) response.content = { 'application/json': { schema: errorRef } };
      }
    }
  }
  // Statement downloads are served outside the procedures (binary and streamed); document them too.
  (doc.paths as Record<string, unknown>)['/v1/clearing/periods/{period}/statements/{billingPartyId}.{format}'] = {
    get: {
      tags: ['Clearing'], summary: "A billing party's statement: the PDF as sent, or the CSV of its transactions",
      description: 'Authorized by a back-office key (finance and admin: any party; a billing party: its own) or by the '
        + 'signed link (expires, sig) from the statement e-mail or the period view. The CSV is RFC 4180, one row per '
        + 'sale, load, redemption and refund, amounts signed from the party\'s side; the same period gives the same bytes.',
      security: [{ apiKey: [] }, {}],
      parameters: [
        { name: 'period', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } },
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
  // The generator's own per-status error schemas are now unreferenced.
  const schemas = (doc.components?.schemas ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  cached = doc;
  return { ...doc, servers: [{ url: baseUrl }] };
}
