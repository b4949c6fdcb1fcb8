// CSV export of the portal's transaction table, with the table's filters: streamed page by page
// (keyset), so a month of a large scheme exports without holding it in memory. Authorized like the
// table itself: the portal's session cookie or a back-office API key; store staff get their store.

import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../domain/errors.ts';
import { formatDecimal } from '../../domain/money.ts';
import { countTransactions, listTransactions, type Cursor } from '../../services/transactions.ts';
import { audit } from '../../services/audit.ts';
import { csvField, csvText } from '../../services/statement-csv.ts';
import { createRequestContext, SESSION_COOKIE } from '../context.ts';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../errors.ts';
import { orderOf, scopedFilter, transactionFilterSchema } from '../transaction-filter.ts';
import { backofficePrincipal } from '../trpc.ts';

const VIEWERS = ['admin', 'finance', 'support', 'store_staff'];
const PAGE = 1_000;
const HEADER = ['booked_at', 'entry_id', 'type', 'billing_party', 'store', 'terminal_id', 'card_last4', 'hold_status', 'currency', 'amount_minor', 'amount'];

/** Query-string values are strings: turn them into what the table's filter schema expects. */
function filterInput(query: unknown): unknown {
  const q = (query ?? {}) as Record<string, unknown>;
  const number = (v: unknown) => (typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : v);
  const out: Record<string, unknown> = { ...q };
  if (typeof q.types === 'string') out.types = q.types.split(',');
  if (q.minAmount !== undefined) out.minAmount = number(q.minAmount);
  if (q.maxAmount !== undefined) out.maxAmount = number(q.maxAmount);
  if (q.ascending === 'true' || q.ascending === 'false') out.ascending = q.ascending === 'true';
  return out;
}

export async function registerExportRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/v1/backoffice/transactions.csv', async (req, reply) => {
    try {
      const ctx = createRequestContext(deps, req.id, req.headers, req.ip, { token: req.cookies[SESSION_COOKIE] ?? null, cookie: null });
      const principal = await backofficePrincipal(ctx, 'query');
      if (!VIEWERS.includes(principal.role)) throw new DomainError('forbidden', 'your role cannot export transactions');
      const parsed = transactionFilterSchema.safeParse(filterInput(req.query));
      if (!parsed.success) throw new DomainError('validation_error', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const filter = scopedFilter(principal, parsed.data);
      const order = orderOf(parsed.data);

      async function* rows(): AsyncGenerator<string> {
        yield HEADER.join(',') + '\r\n';
        let after: Cursor | null = null;
        do {
          const page = await listTransactions(deps.db.pool, filter, order, { limit: PAGE, after });
          yield page.transactions.map((t) => [
            t.bookedAt.toISOString(), t.entryId, t.type, csvText(t.billingPartyName ?? ''), csvText(t.storeName ?? ''),
            t.terminalId ?? '', t.cardLast4, t.holdStatus ?? '', t.currency, t.amount.toString(),
            formatDecimal(t.amount),
          ].map(csvField).join(',') + '\r\n').join('');
          after = page.next;
        } while (after);
      }
      // The total first, so the portal can show how far a long export has come.
      const total = await countTransactions(deps.db.pool, filter);
      await audit(deps.db.pool, { actor: principal.name, action: 'transactions_exported', subject: 'transactions', details: { filter: parsed.data, rows: total } });
      return reply.type('text/csv; charset=utf-8')
        .header('x-total-rows', String(total))
        .header('content-disposition', 'attachment; filename="transactions.csv"')
        .header('cache-control', 'private, no-store')
        .send(Readable.from(rows()));
    } catch (err) {
      const { status, body } = describeError(err, req.id);
      if (status >= 500) req.log.error({ err }, 'export failed');
      return reply.code(status).send(body);
    }
  });
}
