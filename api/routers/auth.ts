// Portal sign-in over tRPC: password, then (when set up or required) a TOTP code. The session
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
  totpRequired: z.boolean(), totpEnrolled: z.boolean(), disabled: z.boolean(), lockedUntil: z.string().nullable(),
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
      try {
        const { token, session } = await ctx.deps.users.signIn(input.email, input.password);
        ctx.sessionCookie?.set(token);
        await audit(ctx.deps.db.pool, { actor: session.user.email, action: 'sign_in', subject: `user:${session.user.userId}`, requestId: ctx.requestId });
        return view(session);
      } catch (err) {
        if (err instanceof DomainError && (err.code === 'invalid_credentials' || err.code === 'account_locked')) {
          await audit(ctx.deps.db.pool, { actor: input.email.toLowerCase(), action: `sign_in_refused:${err.code}`, subject: `email:${input.email.toLowerCase()}`, requestId: ctx.requestId });
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
    .output(z.object({ uri: z.string().describe('otpauth:// URI for an authenticator app'), secret: z.string() }))
    .mutation(async ({ ctx }) => {
      const session = await currentSession(ctx);
      const enrolment = await ctx.deps.users.enrolTotp(ctx.sessionToken!);
      await audit(ctx.deps.db.pool, { actor: session.user.email, action: 'totp_enrolled', subject: `user:${session.user.userId}`, requestId: ctx.requestId });
      return enrolment;
    }),

  verifyTotp: publicProcedure
    .input(z.object({ code: z.string().regex(/^\d{6}$/, 'six digits') }).strict())
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      await currentSession(ctx);
      return view(await ctx.deps.users.verifyTotp(ctx.sessionToken!, input.code));
    }),

  signOut: publicProcedure
    .input(z.object({}).strict().optional())
    .output(z.object({ signedOut: z.boolean() }))
    .mutation(async ({ ctx }) => {
      if (ctx.sessionToken) await currentSession(ctx);
      await ctx.deps.users.signOut(ctx.sessionToken);
      ctx.sessionCookie?.clear();
      return { signedOut: true };
    }),
});
