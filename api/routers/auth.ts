// Portal sign-in over tRPC: password, then (when set up or required) a TOTP code or a recovery
// code. Sign-in requests are limited per client address here and per account in the directory. The session
// token goes only into an httpOnly, SameSite=Strict cookie; the CSRF token the portal must echo in
// X-CSRF-Token comes in the answer.

import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../../services/audit.ts';
import type { PortalSession } from '../../services/users.ts';
import { plainText } from '../schemas.ts';
import { publicProcedure, router, type RequestContext } from '../trpc.ts';

const userSchema = z.object({
  userId: z.string(), email: z.string(), displayName: z.string(),
  role: z.enum(['admin', 'finance', 'support', 'store_staff']), storeId: z.string().nullable(),
  totpRequired: z.boolean(), totpRequiredByRole: z.boolean(), totpEnrolled: z.boolean(), disabled: z.boolean(), lockedUntil: z.string().nullable(),
});

const sessionSchema = z.object({
  user: userSchema, csrfToken: z.string(), pendingSecondFactor: z.boolean(),
  secondFactor: z.enum(['none', 'verify', 'enrol']),
});

function view(session: PortalSession): z.infer<typeof sessionSchema> {
  const { user } = session;
  const secondFactor = !session.pendingSecondFactor ? 'none' : user.totpEnrolled ? 'verify' : 'enrol';
  return { user, csrfToken: session.csrfToken, pendingSecondFactor: session.pendingSecondFactor, secondFactor };
}

/** The caller's session, for auth steps that a session owing its second factor may take. */
async function currentSession(ctx: RequestContext): Promise<PortalSession> {
  const session = await ctx.deps.users.session(ctx.sessionToken);
  if (!session) throw new DomainError('unauthenticated', 'sign in first');
  const given = Buffer.from(ctx.csrfToken ?? '');
  const expected = Buffer.from(session.csrfToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new DomainError('csrf_token_invalid', 'send the session\'s X-CSRF-Token header with every change');
  }
  return session;
}

export const authRouter = router({
  signIn: publicProcedure
    .input(z.object({ email: plainText(254).min(3), password: plainText(256).min(1) }).strict())
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      const address = input.email.trim().toLowerCase();
      try {
        const limit = await ctx.deps.rateLimiter.allow(`sign-in:${ctx.clientIp}`, ctx.deps.users.policy.perClientPerMinute, 60);
        if (!limit.allowed) {
          throw new DomainError('rate_limited', `too many sign-in attempts from this address; retry in ${limit.retryAfterSeconds} s`, { retry_after_seconds: limit.retryAfterSeconds });
        }
        const { token, session } = await ctx.deps.users.signIn(input.email, input.password, ctx.clientIp,
          (user) => ({ actor: user.email, action: 'sign_in', subject: `user:${user.userId}`, requestId: ctx.requestId }));
        ctx.sessionCookie?.set(token);
        return view(session);
      } catch (err) {
        if (err instanceof DomainError && ['invalid_credentials', 'account_locked', 'rate_limited'].includes(err.code)) {
          await audit(ctx.deps.db.pool, { actor: address, action: `sign_in_refused:${err.code}`, subject: `email:${address}`, details: { client: ctx.clientIp }, requestId: ctx.requestId });
        }
        throw err;
      }
    }),

  me: publicProcedure
    .input(z.object({}).strict().optional())
    .output(sessionSchema.nullable())
    .query(async ({ ctx }) => {
      const session = await ctx.deps.users.session(ctx.sessionToken);
      return session ? view(session) : null;
    }),

  enrolTotp: publicProcedure
    .input(z.object({}).strict().optional())
    .output(z.object({
      uri: z.string().describe('otpauth:// URI for an authenticator app'), secret: z.string(),
      recoveryCodes: z.array(z.string()).describe('Shown only here: each signs in once when the authenticator is lost'),
    }))
    .mutation(async ({ ctx }) => {
      const session = await currentSession(ctx);
      return ctx.deps.users.enrolTotp(ctx.sessionToken!,
        { actor: session.user.email, action: 'totp_enrolled', subject: `user:${session.user.userId}`, requestId: ctx.requestId });
    }),

  verifyTotp: publicProcedure
    // One flat object (either field, not both): unknown fields are refused like everywhere else.
    .input(z.object({
      code: z.string().regex(/^\d{6}$/, 'six digits').optional(),
      recoveryCode: z.string().min(16).max(40).optional(),
    }).strict().refine((p) => (p.code === undefined) !== (p.recoveryCode === undefined), 'give either code or recoveryCode'))
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      const current = await currentSession(ctx);
      const actor = current.user.email;
      try {
        const proof = input.code !== undefined ? { code: input.code } : { recoveryCode: input.recoveryCode! };
        const { session } = await ctx.deps.users.verifySecondFactor(ctx.sessionToken!, proof, ctx.clientIp, async (user, used) => ({
          actor, action: used === 'recovery_code' ? 'recovery_code_used' : 'second_factor_verified', subject: `user:${user.userId}`,
          details: used === 'recovery_code' ? { left: await ctx.deps.users.recoveryCodesLeft(user.userId) } : {}, requestId: ctx.requestId,
        }));
        return view(session);
      } catch (err) {
        if (err instanceof DomainError && (err.code === 'invalid_credentials' || err.code === 'account_locked')) {
          await audit(ctx.deps.db.pool, { actor, action: `second_factor_refused:${err.code}`, subject: `user:${current.user.userId}`, details: { client: ctx.clientIp }, requestId: ctx.requestId });
        }
        throw err;
      }
    }),

  signOut: publicProcedure
    .input(z.object({}).strict().optional())
    .output(z.object({ signedOut: z.boolean() }))
    .mutation(async ({ ctx }) => {
      const session = ctx.sessionToken ? await currentSession(ctx) : null;
      await ctx.deps.users.signOut(ctx.sessionToken,
        session ? { actor: session.user.email, action: 'sign_out', subject: `user:${session.user.userId}`, requestId: ctx.requestId } : undefined);
      ctx.sessionCookie?.clear();
      return { signedOut: true };
    }),
});
