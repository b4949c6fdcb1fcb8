// Outbound webhooks: admins register endpoints (the signing secret is shown once, at creation and
// at each rotation), see each endpoint's deliveries and send an event again. Every change is audited.

import { z } from 'zod';
import { audit } from '../../services/audit.ts';
import { ALL_EVENTS, WebhookStore } from '../../services/webhooks.ts';
import { bigintIdSchema, plainText } from '../schemas.ts';
import { backofficeProcedure, requireIdempotencyKey, router, type RequestContext } from '../trpc.ts';

const ADMIN = ['admin'] as const;
const ERRORS = { 400: 'Invalid input', 401: 'Missing or invalid credentials', 403: 'Not an admin', 404: 'No such endpoint' };
const TAGS = ['Webhooks'];

const urlSchema = z.string().min(8).max(2_048).regex(/^https?:\/\/[\x21-\x7e]+$/, 'an http(s) URL without spaces')
  .describe('Where events are POSTed; https outside development');
const eventTypeSchema = z.string().max(64).regex(/^(\*|[a-z_]+(\.[a-z_]+)+)$/, 'an event type such as card.loaded, or *');
const eventTypesSchema = z.array(eventTypeSchema).min(1).max(50).describe('Event types to receive; ["*"] for all');
const endpointSchema = z.object({
  id: z.string(), url: z.string(), description: z.string(), eventTypes: z.array(z.string()), enabled: z.boolean(),
  disabledReason: z.enum(['admin', 'failing']).nullable(), disabledAt: z.string().nullable(), failingSince: z.string().nullable(),
  secretLast4: z.string(), previousSecretExpiresAt: z.string().nullable(), createdBy: z.string(), createdAt: z.string(),
}).meta({ id: 'WebhookEndpoint' });
const withSecret = z.object({ endpoint: endpointSchema, secret: z.string().describe('Signing secret, shown only here: store it in the receiver now') });
const deliveryStatus = z.enum(['pending', 'succeeded', 'failed', 'cancelled']);

function store(ctx: RequestContext): WebhookStore {
  return new WebhookStore(ctx.deps.db.pool, ctx.deps.pii, ctx.deps.secrets.deriveKey, ctx.deps.config.webhooks);
}

export const webhooksRouter = router({
  eventTypes: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'GET', path: '/v1/webhook-event-types', tags: TAGS, protect: true, summary: 'Event types an endpoint can subscribe to', errorResponses: ERRORS } })
    .input(z.object({}).strict().optional())
    .output(z.object({ types: z.array(z.object({ type: z.string(), description: z.string() })) }))
    .query(async ({ ctx }) => ({ types: await store(ctx).eventTypes() })),

  list: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'GET', path: '/v1/webhook-endpoints', tags: TAGS, protect: true, summary: 'Registered webhook endpoints', errorResponses: ERRORS } })
    .input(z.object({}).strict().optional())
    .output(z.object({ endpoints: z.array(endpointSchema) }))
    .query(async ({ ctx }) => ({ endpoints: await store(ctx).list() })),

  create: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'POST', path: '/v1/webhook-endpoints', tags: TAGS, protect: true, summary: 'Register a webhook endpoint',
      description: 'Needs an Idempotency-Key; a repeat answers the same endpoint and secret.', errorResponses: ERRORS } })
    .input(z.object({
      url: urlSchema,
      description: plainText(200).default(''),
      eventTypes: eventTypesSchema.default([ALL_EVENTS]),
      enabled: z.boolean().default(true),
    }).strict())
    .output(withSecret)
    .mutation(async ({ ctx, input }) => {
      const created = await store(ctx).create(requireIdempotencyKey(ctx), ctx.principal.name, input);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'webhook_endpoint_created', subject: `webhook_endpoint:${created.endpoint.id}`, details: { url: created.endpoint.url, eventTypes: created.endpoint.eventTypes, enabled: input.enabled }, requestId: ctx.requestId });
      return created;
    }),

  update: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'PATCH', path: '/v1/webhook-endpoints/{endpointId}', tags: TAGS, protect: true, summary: 'Change, enable or disable an endpoint',
      description: 'Enabling a disabled endpoint starts a fresh failure window. Setting the same values again changes nothing.', errorResponses: ERRORS } })
    .input(z.object({
      endpointId: z.uuid(), url: urlSchema.optional(), description: plainText(200).optional(),
      eventTypes: eventTypesSchema.optional(), enabled: z.boolean().optional(),
    }).strict())
    .output(endpointSchema)
    .mutation(async ({ ctx, input }) => {
      const { endpointId, ...changes } = input;
      const endpoint = await store(ctx).update(endpointId, changes);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'webhook_endpoint_updated', subject: `webhook_endpoint:${endpointId}`, details: changes, requestId: ctx.requestId });
      return endpoint;
    }),

  rotateSecret: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'POST', path: '/v1/webhook-endpoints/{endpointId}/rotate-secret', tags: TAGS, protect: true, summary: 'Rotate the signing secret',
      description: 'The previous secret keeps signing (a second v1 in the header) for overlapHours. Needs an Idempotency-Key.', errorResponses: ERRORS } })
    .input(z.object({ endpointId: z.uuid(), overlapHours: z.number().int().min(0).max(168).optional() }).strict())
    .output(withSecret)
    .mutation(async ({ ctx, input }) => {
      const overlap = input.overlapHours ?? ctx.deps.config.webhooks.secretOverlapHours;
      const rotated = await store(ctx).rotateSecret(requireIdempotencyKey(ctx), input.endpointId, overlap);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'webhook_secret_rotated', subject: `webhook_endpoint:${input.endpointId}`, details: { overlapHours: overlap }, requestId: ctx.requestId });
      return rotated;
    }),

  deliveries: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'GET', path: '/v1/webhook-endpoints/{endpointId}/deliveries', tags: TAGS, protect: true, summary: 'An endpoint\'s deliveries, newest first', errorResponses: ERRORS } })
    .input(z.object({
      endpointId: z.uuid(), status: deliveryStatus.optional(),
      before: bigintIdSchema.optional().describe('Page: deliveries older than this id'),
      // Decimal text, as a REST query string carries every value (a number here answered 400 over REST).
      limit: z.string().regex(/^(?:[1-9]\d?|1\d\d|200)$/, '1 to 200, as decimal text').optional().describe('Page size (default 50)'),
    }).strict())
    .output(z.object({ deliveries: z.array(z.object({
      id: z.string(), eventId: z.string(), eventType: z.string(), status: deliveryStatus, attempts: z.number().int(),
      lastStatusCode: z.number().int().nullable(), lastError: z.string().nullable(), lastAttemptAt: z.string().nullable(),
      nextAttemptAt: z.string().nullable(), redeliveryOf: z.string().nullable(), createdAt: z.string(),
    })), nextBefore: z.string().nullable() }))
    .query(async ({ ctx, input }) => store(ctx).deliveries(input.endpointId, { ...input, limit: input.limit ? Number(input.limit) : 50 })),

  redeliver: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'POST', path: '/v1/webhook-endpoints/{endpointId}/redeliver', tags: TAGS, protect: true, summary: 'Send one event to the endpoint again',
      description: 'A new delivery of the same event (same event id). Needs an Idempotency-Key; a repeat answers the same delivery.', errorResponses: ERRORS } })
    .input(z.object({ endpointId: z.uuid(), eventId: z.string().regex(/^evt_[0-9a-f]{32}$/, 'evt_<32 hex digits>') }).strict())
    .output(z.object({ deliveryId: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const result = await store(ctx).redeliver(requireIdempotencyKey(ctx), ctx.principal.name, input.endpointId, input.eventId);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'webhook_redelivered', subject: `webhook_endpoint:${input.endpointId}`, details: { eventId: input.eventId, deliveryId: result.deliveryId }, requestId: ctx.requestId });
      return result;
    }),
});
