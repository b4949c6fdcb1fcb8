// Admins manage the scheme's participants (billing parties, stores, terminals: a terminal's API
// key is shown once, at creation) and read the audit log. Every change is audited.

import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../../services/audit.ts';
import { createBillingParty, createStore, createTerminal, revokeTerminal } from '../../services/directory.ts';
import { bigintIdSchema, nameText, plainText } from '../schemas.ts';
import { backofficeProcedure, router } from '../trpc.ts';

const ADMIN = ['admin'] as const;
const name = nameText(120);

function notFoundOnForeignKey(err: unknown, what: string): never {
  const code = (err as { code?: string }).code;
  if (code === 'P2003' || code === '23503') throw new DomainError('not_found', `no such ${what}`);
  throw err;
}

export const adminRouter = router({
  directory: backofficeProcedure(ADMIN)
    .input(z.object({}).strict().optional())
    .output(z.object({
      parties: z.array(z.object({ id: z.string(), name: z.string(), contactEmail: z.string() })),
      stores: z.array(z.object({ id: z.string(), name: z.string(), billingPartyId: z.string(), holdTtlSeconds: z.number().int() })),
      terminals: z.array(z.object({ id: z.string(), name: z.string(), storeId: z.string(), apiKeyLast4: z.string(), revokedAt: z.string().nullable() })),
    }))
    .query(async ({ ctx }) => {
      const { prisma } = ctx.deps.db;
      const [parties, stores, terminals] = await Promise.all([
        prisma.billingParty.findMany({ orderBy: { name: 'asc' }, take: 1_000 }),
        prisma.store.findMany({ orderBy: { name: 'asc' }, take: 5_000 }),
        prisma.terminal.findMany({ orderBy: { createdAt: 'asc' }, take: 10_000 }),
      ]);
      return {
        parties: parties.map((p) => ({ id: p.id, name: p.name, contactEmail: p.contactEmail })),
        stores: stores.map((s) => ({ id: s.id, name: s.name, billingPartyId: s.billingPartyId, holdTtlSeconds: s.holdTtlSeconds })),
        terminals: terminals.map((t) => ({ id: t.id, name: t.name, storeId: t.storeId, apiKeyLast4: t.apiKeyLast4, revokedAt: t.revokedAt?.toISOString() ?? null })),
      };
    }),

  createParty: backofficeProcedure(ADMIN)
    .input(z.object({ name, contactEmail: z.email().max(254) }).strict())
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const party = await createBillingParty(ctx.deps.db.prisma, input);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'party_created', subject: `party:${party.id}`, details: input, requestId: ctx.requestId });
      return { id: party.id };
    }),

  createStore: backofficeProcedure(ADMIN)
    .input(z.object({ billingPartyId: z.uuid(), name, holdTtlSeconds: z.number().int().min(60).max(7 * 86_400).optional() }).strict())
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const store = await createStore(ctx.deps.db.prisma, input).catch((err) => notFoundOnForeignKey(err, 'billing party'));
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'store_created', subject: `store:${store.id}`, details: input, requestId: ctx.requestId });
      return { id: store.id };
    }),

  createTerminal: backofficeProcedure(ADMIN)
    .input(z.object({ storeId: z.uuid(), name }).strict())
    .output(z.object({ id: z.string(), apiKey: z.string().describe('Shown only here: configure the till with it now') }))
    .mutation(async ({ ctx, input }) => {
      const terminal = await createTerminal(ctx.deps.db.prisma, input).catch((err) => notFoundOnForeignKey(err, 'store'));
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'terminal_created', subject: `terminal:${terminal.id}`, details: input, requestId: ctx.requestId });
      return { id: terminal.id, apiKey: terminal.apiKey };
    }),

  revokeTerminal: backofficeProcedure(ADMIN)
    .input(z.object({ terminalId: z.uuid() }).strict())
    .output(z.object({ id: z.string(), revoked: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      await revokeTerminal(ctx.deps.db.prisma, input.terminalId).catch((err) => {
        if ((err as { code?: string }).code === 'P2025') throw new DomainError('not_found', 'no such terminal');
        throw err;
      });
      ctx.deps.terminals.forgetTerminal(input.terminalId);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'terminal_revoked', subject: `terminal:${input.terminalId}`, requestId: ctx.requestId });
      return { id: input.terminalId, revoked: true };
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
      const { rows } = await ctx.deps.db.pool.query<{ id: string; created_at: Date; actor: string; action: string; subject: string; details: unknown; request_id: string | null }>(
        `SELECT id, created_at, actor, action, subject, details, request_id FROM audit_entries
          WHERE ($1::text IS NULL OR actor ILIKE $1 OR action ILIKE $1 OR subject ILIKE $1 OR details::text ILIKE $1)
            AND ($2::bigint IS NULL OR id < $2)
          ORDER BY id DESC LIMIT $3`, [pattern, input.before ?? null, input.limit + 1]);
      const page = rows.slice(0, input.limit);
      return {
        entries: page.map((r) => ({ id: r.id, at: r.created_at.toISOString(), actor: r.actor, action: r.action, subject: r.subject, details: r.details, requestId: r.request_id })),
        nextBefore: rows.length > input.limit ? page[page.length - 1]!.id : null,
      };
    }),
});
