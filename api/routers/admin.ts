// Admins manage the scheme's participants (billing parties, stores, terminals: a terminal's API
// key is shown once, at creation) and read the audit log. Every change is audited.

import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { asLocale, LOCALES } from '../../domain/locale.ts';
import { audit, auditEntries, withAudit } from '../../services/audit.ts';
import { ApiClientAdmin } from '../../services/api-clients.ts';
import { createBillingParty, createStore, createTerminal, listParticipants, revokeTerminal, setBillingPartyLocale } from '../../services/directory.ts';
import { setStoreVelocityLimits, VELOCITY_LIMITS, velocityLimits, type VelocityLimits } from '../../services/fraud-limits.ts';
import { bigintIdSchema, nameText, plainText } from '../schemas.ts';
import { backofficeProcedure, requireIdempotencyKey, router, type RequestContext } from '../trpc.ts';

const ADMIN = ['admin'] as const;
const name = nameText(120);

const apiClientSchema = z.object({
  id: z.string(), name: z.string(), role: z.enum(['admin', 'finance', 'billing_party']), billingPartyId: z.string().nullable(),
  apiKeyLast4: z.string(), createdAt: z.string(), rotatedAt: z.string().nullable(), expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(), status: z.enum(['active', 'expired', 'revoked']),
});
const validDays = z.number().int().min(1).max(3_650).nullable().default(null).describe('Days the key stays valid; null: until revoked');
const issuedKey = z.object({ client: apiClientSchema, apiKey: z.string().describe('Shown only here: store it in the client now') });

function apiClientAdmin(ctx: RequestContext): ApiClientAdmin {
  return new ApiClientAdmin(ctx.deps.db.pool, ctx.deps.secrets.deriveKey);
}

function notFoundOnForeignKey(err: unknown, what: string): never {
  const code = (err as { code?: string }).code;
  if (code === 'P2003' || code === '23503') throw new DomainError('not_found', `no such ${what}`);
  throw err;
}

function notFoundOnMissing(err: unknown, what: string): never {
  if ((err as { code?: string }).code === 'P2025') throw new DomainError('not_found', `no such ${what}`);
  throw err;
}

// Fraud limits at the till: velocity limits per store, and code-guessing locks.
const count = z.number().int().min(0).max(2_147_483_647).nullable();
const amount = z.number().int().min(0).max(1e15).nullable();
const limitsShape = {
  cardRedemptionsPerHour: count.describe('Redemptions (authorizations) per card and calendar hour'),
  cardAmountPerHour: amount.describe('Value authorized per card and calendar hour, minor units'),
  cardRedemptionsPerDay: count.describe('Redemptions per card and day (centre time)'),
  cardAmountPerDay: amount.describe('Value authorized per card and day, minor units'),
  terminalSoldPerDay: amount.describe('Value a terminal sells and loads per day, minor units'),
  storeSoldPerDay: amount.describe('Value a store sells and loads per day, minor units'),
  storeRedeemedPerDay: amount.describe('Value a store authorizes per day, minor units'),
} satisfies Record<keyof VelocityLimits, z.ZodType>;
const limitsSchema = z.object(limitsShape);
const LIMIT_ERRORS = { 400: 'Invalid input', 401: 'Missing or invalid credentials', 403: 'Not an admin', 404: 'No such store' };
const codeGuessSubject = z.string().max(80)
  .regex(/^(terminal:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|address:[0-9A-Fa-f.:]{2,45})$/, 'terminal:<id> or address:<ip>');

const statementLocale = z.enum(LOCALES).describe('Language of the statement PDF and mail');

export const adminRouter = router({
  directory: backofficeProcedure(ADMIN)
    .input(z.object({}).strict().optional())
    .output(z.object({
      parties: z.array(z.object({ id: z.string(), name: z.string(), contactEmail: z.string(), locale: z.enum(LOCALES) })),
      stores: z.array(z.object({ id: z.string(), name: z.string(), billingPartyId: z.string(), holdTtlSeconds: z.number().int() })),
      terminals: z.array(z.object({ id: z.string(), name: z.string(), storeId: z.string(), apiKeyLast4: z.string(), revokedAt: z.string().nullable() })),
    }))
    .query(async ({ ctx }) => {
      const { parties, stores, terminals } = await listParticipants(ctx.deps.db.prisma);
      return {
        parties: parties.map((p) => ({ id: p.id, name: p.name, contactEmail: ctx.deps.pii.open(p.contactEmail), locale: asLocale(p.locale) })),
        stores: stores.map((s) => ({ id: s.id, name: s.name, billingPartyId: s.billingPartyId, holdTtlSeconds: s.holdTtlSeconds })),
        terminals: terminals.map((t) => ({ id: t.id, name: t.name, storeId: t.storeId, apiKeyLast4: t.apiKeyLast4, revokedAt: t.revokedAt?.toISOString() ?? null })),
      };
    }),

  createParty: backofficeProcedure(ADMIN)
    .input(z.object({ name, contactEmail: z.email().max(254), locale: statementLocale.optional() }).strict())
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      // The contact address stays out of the log: the log keeps no personal data in clear.
      const party = await withAudit(ctx.deps.db.prisma, (tx) => createBillingParty(tx, ctx.deps.pii, input),
        (p) => ({ actor: ctx.principal.name, action: 'party_created', subject: `party:${p.id}`, details: { name: input.name } }));
      return { id: party.id };
    }),

  setPartyLocale: backofficeProcedure(ADMIN)
    .input(z.object({ billingPartyId: z.uuid(), locale: statementLocale }).strict())
    .output(z.object({ id: z.string(), locale: z.enum(LOCALES) }))
    .mutation(async ({ ctx, input }) => {
      // Setting the language it already has changes nothing and answers the same: safe to retry.
      const party = await withAudit(ctx.deps.db.prisma,
        (tx) => setBillingPartyLocale(tx, input.billingPartyId, input.locale),
        (p) => ({ actor: ctx.principal.name, action: 'party_locale_set', subject: `party:${p.id}`, details: { locale: input.locale } }))
        .catch((err) => notFoundOnMissing(err, 'billing party'));
      return { id: party.id, locale: asLocale(party.locale) };
    }),

  createStore: backofficeProcedure(ADMIN)
    .input(z.object({ billingPartyId: z.uuid(), name, holdTtlSeconds: z.number().int().min(60).max(7 * 86_400).optional() }).strict())
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      // A store created without its own hold lifetime gets the configured one (HOLD_TTL_SECONDS).
      const store = await withAudit(ctx.deps.db.prisma,
        (tx) => createStore(tx, { ...input, holdTtlSeconds: input.holdTtlSeconds ?? ctx.deps.config.defaultHoldTtlSeconds }),
        (s) => ({ actor: ctx.principal.name, action: 'store_created', subject: `store:${s.id}`, details: input }))
        .catch((err) => notFoundOnForeignKey(err, 'billing party'));
      return { id: store.id };
    }),

  createTerminal: backofficeProcedure(ADMIN)
    .input(z.object({ storeId: z.uuid(), name }).strict())
    .output(z.object({ id: z.string(), apiKey: z.string().describe('Shown only here: configure the till with it now') }))
    .mutation(async ({ ctx, input }) => {
      const terminal = await withAudit(ctx.deps.db.prisma, (tx) => createTerminal(tx, input),
        (t) => ({ actor: ctx.principal.name, action: 'terminal_created', subject: `terminal:${t.id}`, details: input }))
        .catch((err) => notFoundOnForeignKey(err, 'store'));
      return { id: terminal.id, apiKey: terminal.apiKey };
    }),

  revokeTerminal: backofficeProcedure(ADMIN)
    .input(z.object({ terminalId: z.uuid() }).strict())
    .output(z.object({ id: z.string(), revoked: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      await withAudit(ctx.deps.db.prisma, (tx) => revokeTerminal(tx, input.terminalId),
        () => ({ actor: ctx.principal.name, action: 'terminal_revoked', subject: `terminal:${input.terminalId}` })).catch((err) => {
        if ((err as { code?: string }).code === 'P2025') throw new DomainError('not_found', 'no such terminal');
        throw err;
      });
      ctx.deps.terminals.forgetTerminal(input.terminalId);
      return { id: input.terminalId, revoked: true };
    }),

  apiClients: backofficeProcedure(ADMIN)
    .input(z.object({}).strict().optional())
    .output(z.object({ clients: z.array(apiClientSchema) }))
    .query(async ({ ctx }) => ({ clients: await apiClientAdmin(ctx).list() })),

  createApiClient: backofficeProcedure(ADMIN)
    .input(z.object({
      name, role: z.enum(['admin', 'finance', 'billing_party']), billingPartyId: z.uuid().nullable().default(null), validDays,
    }).strict())
    .output(issuedKey)
    .mutation(async ({ ctx, input }) => {
      const issued = await apiClientAdmin(ctx).create(requireIdempotencyKey(ctx), input);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'api_client_created', subject: `api_client:${issued.client.id}`, details: input, requestId: ctx.requestId });
      return issued;
    }),

  rotateApiClient: backofficeProcedure(ADMIN)
    .input(z.object({ clientId: z.uuid() }).strict())
    .output(issuedKey)
    .mutation(async ({ ctx, input }) => {
      const issued = await apiClientAdmin(ctx).rotate(requireIdempotencyKey(ctx), input.clientId);
      ctx.deps.apiClients.forgetClient(input.clientId);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'api_client_rotated', subject: `api_client:${input.clientId}`, requestId: ctx.requestId });
      return issued;
    }),

  setApiClientExpiry: backofficeProcedure(ADMIN)
    .input(z.object({ clientId: z.uuid(), validDays }).strict())
    .output(apiClientSchema)
    .mutation(async ({ ctx, input }) => {
      const client = await apiClientAdmin(ctx).setExpiry(input.clientId, input.validDays);
      ctx.deps.apiClients.forgetClient(input.clientId);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'api_client_expiry_set', subject: `api_client:${input.clientId}`, details: { expiresAt: client.expiresAt }, requestId: ctx.requestId });
      return client;
    }),

  revokeApiClient: backofficeProcedure(ADMIN)
    .input(z.object({ clientId: z.uuid() }).strict())
    .output(apiClientSchema)
    .mutation(async ({ ctx, input }) => {
      const client = await apiClientAdmin(ctx).revoke(input.clientId);
      ctx.deps.apiClients.forgetClient(input.clientId);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'api_client_revoked', subject: `api_client:${input.clientId}`, requestId: ctx.requestId });
      return client;
    }),

  auditLog: backofficeProcedure(ADMIN)
    .input(z.object({
      text: plainText(200).optional().describe('Matches actor, action, subject or details'),
      before: bigintIdSchema.optional().describe('Page: entries older than this id'),
      limit: z.number().int().min(1).max(200).default(50),
    }).strict())
    .output(z.object({ entries: z.array(z.object({
      id: z.string(), at: z.string(), actor: z.string(), action: z.string(), subject: z.string(), details: z.unknown(), requestId: z.string().nullable(),
    })), nextBefore: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const pattern = input.text ? `%${input.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      const rows = await auditEntries(ctx.deps.db.pool, pattern, input.before ?? null, input.limit + 1);
      const page = rows.slice(0, input.limit);
      return {
        entries: page.map((r) => ({ id: r.id, at: r.created_at.toISOString(), actor: r.actor, action: r.action, subject: r.subject, details: r.details, requestId: r.request_id })),
        nextBefore: rows.length > input.limit ? page[page.length - 1]!.id : null,
      };
    }),

  limits: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'GET', path: '/v1/admin/limits', tags: ['Admin'], protect: true,
      summary: 'Velocity limits: the defaults and each store\'s overrides', errorResponses: LIMIT_ERRORS } })
    .input(z.object({}).strict().optional())
    .output(z.object({
      defaults: limitsSchema,
      stores: z.array(z.object({ storeId: z.string(), overrides: limitsSchema, effective: limitsSchema, updatedBy: z.string().nullable(), updatedAt: z.string().nullable() })),
    }))
    .query(async ({ ctx }) => velocityLimits(ctx.deps.db.pool)),

  setStoreLimits: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'PUT', path: '/v1/admin/stores/{storeId}/limits', tags: ['Admin'], protect: true,
      summary: 'Set a store\'s velocity limits', description: 'Replaces the store\'s overrides; null means the default applies. Setting the same values again changes nothing.',
      errorResponses: LIMIT_ERRORS } })
    .input(z.object({ storeId: z.uuid(), ...limitsShape }).strict())
    .output(z.object({ storeId: z.string(), overrides: limitsSchema, effective: limitsSchema }))
    .mutation(async ({ ctx, input }) => {
      const overrides = Object.fromEntries(VELOCITY_LIMITS.map((k) => [k, input[k]])) as VelocityLimits;
      await setStoreVelocityLimits(ctx.deps.db.pool, input.storeId, overrides, ctx.principal.name, ctx.requestId);
      const store = (await velocityLimits(ctx.deps.db.pool)).stores.find((x) => x.storeId === input.storeId);
      if (!store) throw new DomainError('not_found', 'no such store');
      return { storeId: store.storeId, overrides: store.overrides, effective: store.effective };
    }),

  codeGuessLocks: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'GET', path: '/v1/admin/code-guessing/locks', tags: ['Admin'], protect: true,
      summary: 'Terminals and client addresses locked for guessing card codes', errorResponses: LIMIT_ERRORS } })
    .input(z.object({}).strict().optional())
    .output(z.object({ locks: z.array(z.object({ subject: z.string(), failures: z.number().int(), lockedAt: z.string(), lockedUntil: z.string() })) }))
    .query(async ({ ctx }) => ({ locks: await ctx.deps.codeGuard.locks() })),

  liftCodeGuessLock: backofficeProcedure(ADMIN)
    .meta({ openapi: { method: 'POST', path: '/v1/admin/code-guessing/locks/lift', tags: ['Admin'], protect: true,
      summary: 'Lift a code-guessing lock', description: 'Forgets the subject\'s failed attempts too. Lifting again answers lifted: false.',
      errorResponses: LIMIT_ERRORS } })
    .input(z.object({ subject: codeGuessSubject }).strict())
    .output(z.object({ subject: z.string(), lifted: z.boolean() }))
    .mutation(async ({ ctx, input }) => ({
      subject: input.subject, lifted: await ctx.deps.codeGuard.lift(input.subject, ctx.principal.name, ctx.requestId),
    })),
});
