// Admins manage the portal's users: who they are, their role (store staff with their store) and
// whether they must use a second factor. Every change goes to the audit log.

import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../../services/audit.ts';
import { plainText } from '../schemas.ts';
import { backofficeProcedure, router } from '../trpc.ts';

const ADMIN = ['admin'] as const;
const roleSchema = z.enum(['admin', 'finance', 'support', 'store_staff']);
const userSchema = z.object({
  userId: z.string(), email: z.string(), displayName: z.string(), role: roleSchema, storeId: z.string().nullable(),
  totpRequired: z.boolean(), totpRequiredByRole: z.boolean(), totpEnrolled: z.boolean(), disabled: z.boolean(), lockedUntil: z.string().nullable(),
});

export const usersRouter = router({
  list: backofficeProcedure(ADMIN)
    .input(z.object({}).strict().optional())
    .output(z.object({ users: z.array(userSchema) }))
    .query(async ({ ctx }) => ({ users: await ctx.deps.users.list() })),

  create: backofficeProcedure(ADMIN)
    .input(z.object({
      email: z.email().max(254), displayName: plainText(100).min(1), role: roleSchema,
      storeId: z.uuid().nullable().default(null), password: plainText(256).min(1),
    }).strict())
    .output(userSchema)
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.deps.users.create(input);
      await audit(ctx.deps.db.pool, {
        actor: ctx.principal.name, action: 'user_created', subject: `user:${user.userId}`,
        // The address is sealed in the users table; the log, which can never be erased, keeps the id.
        details: { role: user.role, storeId: user.storeId }, requestId: ctx.requestId,
      });
      return user;
    }),

  update: backofficeProcedure(ADMIN)
    .input(z.object({
      userId: z.uuid(), role: roleSchema.optional(), storeId: z.uuid().nullable().optional(),
      disabled: z.boolean().optional(), unlock: z.boolean().optional(),
    }).strict())
    .output(userSchema)
    .mutation(async ({ ctx, input }) => {
      const { userId, ...change } = input;
      if (userId === ctx.principal.clientId && (change.disabled || (change.role && change.role !== 'admin'))) {
        throw new DomainError('validation_error', 'admins cannot disable or demote themselves');
      }
      const user = await ctx.deps.users.update(userId, change);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'user_updated', subject: `user:${userId}`, details: change, requestId: ctx.requestId });
      return user;
    }),

  setTotpRequired: backofficeProcedure(ADMIN)
    .input(z.object({ userId: z.uuid(), required: z.boolean() }).strict())
    .output(userSchema)
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.deps.users.setTotpRequired(input.userId, input.required);
      await audit(ctx.deps.db.pool, {
        actor: ctx.principal.name, action: input.required ? 'totp_required' : 'totp_not_required',
        subject: `user:${user.userId}`, requestId: ctx.requestId,
      });
      return user;
    }),

  /** For a user who lost their authenticator and recovery codes; audited, and signs them out everywhere. */
  resetSecondFactor: backofficeProcedure(ADMIN)
    .input(z.object({ userId: z.uuid() }).strict())
    .output(userSchema)
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.deps.users.resetSecondFactor(input.userId);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'second_factor_reset', subject: `user:${user.userId}`, details: { email: user.email }, requestId: ctx.requestId });
      return user;
    }),
});
