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
    securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: "The terminal's API key" } },
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
  // The generator's own per-status error schemas are now unreferenced.
  const schemas = (doc.components?.schemas ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  cached = doc;
  return { ...doc, servers: [{ url: baseUrl }] };
}
