// The unsubscribe link in expiry reminder e-mails: signed for its order, honoured for every card
// of that buyer. A GET, as mail clients follow it; repeating it changes nothing.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { ExpiryReminders, reminderLinkKey } from '../../services/expiry-reminders.ts';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../errors.ts';

export async function registerReminderRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/v1/reminders/unsubscribe/:orderId', async (req, reply) => {
    try {
      const params = z.object({ orderId: z.uuid() }).safeParse(req.params);
      if (!params.success) throw new DomainError('validation_error', 'the link names an order id');
      const query = req.query as { expires?: string; sig?: string };
      await new ExpiryReminders(deps.db.pool).unsubscribe(params.data.orderId, query.expires, query.sig, reminderLinkKey(deps.secrets.deriveKey));
      return reply.type('text/html; charset=utf-8').send('<!doctype html><title>Unsubscribed</title><p>You will get no more expiry reminders for your vouchers.</p>');
    } catch (err) {
      const { status, body } = describeError(err, req.id);
      if (status >= 500) req.log.error({ err }, 'unsubscribe failed');
      return reply.code(status).send(body);
    }
  });
}
