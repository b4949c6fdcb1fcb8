// Transactions: the ledger as a table with server-side filters and keyset paging, a CSV export of
// the same filter, and detail views of a transaction (with its actions) and of a card.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney, parseAmount } from '../money.ts';
import type { RouterInputs, RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { formatTime } from './i18n.ts';
import { ScopePicker } from './ScopePicker.tsx';
import { useIntendedAction } from './useIntendedAction.ts';
import { CardLifecyclePanel } from './CardLifecyclePanel.tsx';

type Filter = Omit<RouterInputs['transactions']['list'], 'limit' | 'cursor'>;
type Row = RouterOutputs['transactions']['list']['transactions'][number];
type CardView = RouterOutputs['transactions']['card'];
const TYPES = ['sale', 'load', 'authorization', 'redemption', 'void', 'hold_expiry', 'refund', 'card_expiry', 'sale_cancellation',
  'activation', 'deactivation', 'deactivation_refund', 'balance_clear', 'adjustment', 'transfer', 'expiry_extension',
  'opening_balance', 'legacy'] as const;
const HOLD_STATUSES = ['authorized', 'captured', 'voided', 'expired'] as const;
type Sort = NonNullable<Filter['sort']>;

export function TransactionsPage({ onOpenCard }: { onOpenCard: (cardId: string) => void }) {
  const { client, t, language } = usePortal();
  const [form, setForm] = useState({
    from: '', to: '', type: '', holdStatus: '', cardLast4: '', minAmount: '', maxAmount: '', billingPartyId: '', storeId: '',
  });
  const [filter, setFilter] = useState<Filter>({});
  const [rows, setRows] = useState<Row[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState<Row | null>(null);
  const [exporting, setExporting] = useState<{ rows: number; total: number; done: boolean } | null>(null);

  const load = useCallback(async (f: Filter, cursor?: string) => {
    setError(null);
    try {
      const page = await client.transactions.list.query({ ...f, limit: 50, cursor });
      setRows((prev) => (cursor ? [...prev, ...page.transactions] : page.transactions));
      setNext(page.nextCursor);
    } catch (err) {
      setError(toApiError(err));
    }
  }, [client]);

  useEffect(() => {
    void load(filter);
  }, [load, filter]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const amount = (v: string) => {
      const parsed = parseAmount(v);
      return parsed.ok ? parsed.minor : undefined;
    };
    const dayStart = (v: string) => (v ? new Date(`${v}T00:00:00`).toISOString() : undefined);
    setSelected(null);
    setFilter({
      sort: filter.sort, ascending: filter.ascending,
      storeId: form.storeId || undefined, billingPartyId: form.billingPartyId || undefined,
      holdStatus: (form.holdStatus || undefined) as Filter['holdStatus'],
      from: dayStart(form.from), to: form.to ? new Date(new Date(`${form.to}T00:00:00`).getTime() + 86_400_000).toISOString() : undefined,
      types: form.type ? [form.type as (typeof TYPES)[number]] : undefined, cardLast4: form.cardLast4 || undefined,
      minAmount: form.minAmount ? amount(form.minAmount) : undefined, maxAmount: form.maxAmount ? amount(form.maxAmount) : undefined,
    });
  };

  const exportUrl = `/v1/backoffice/transactions.csv?${new URLSearchParams(Object.entries(filter)
    .filter(([, v]) => v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])).toString()}`;
  const when = (iso: string) => formatTime(language, iso);

  // A column header sorts by its column, newest or largest first; a second click turns it round.
  const sortedBy = filter.sort ?? 'booked_at';
  const sortBy = (sort: Sort) => {
    setSelected(null);
    setFilter({ ...filter, sort, ascending: sort === sortedBy ? !filter.ascending : false });
  };
  const sortHeader = (sort: Sort, label: string) => {
    const active = sort === sortedBy;
    return (
      <th scope="col" aria-sort={active ? (filter.ascending ? 'ascending' : 'descending') : 'none'}>
        <button type="button" className="btn btn--link" data-testid={`sort-${sort}`} onClick={() => sortBy(sort)}
          title={active ? t(filter.ascending ? 'tx.sortedAsc' : 'tx.sortedDesc') : undefined}>
          {label}{active ? (filter.ascending ? ' ▲' : ' ▼') : ''}
        </button>
      </th>
    );
  };

  // A large export takes a while: read it as it streams, count its rows against the total the API
  // announces, then hand the file to the browser.
  async function exportCsv() {
    setError(null);
    try {
      const res = await fetch(exportUrl, { credentials: 'same-origin' });
      if (!res.ok || !res.body) throw new Error(`export failed (${res.status})`);
      const total = Number(res.headers.get('x-total-rows') ?? 0);
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let lines = 0;
      setExporting({ rows: 0, total, done: false });
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        for (const byte of value) if (byte === 10) lines++;
        setExporting({ rows: Math.max(0, lines - 1), total, done: false });
      }
      setExporting({ rows: Math.max(0, lines - 1), total, done: true });
      const url = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'transactions.csv';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setExporting(null);
      setError(toApiError(err));
    }
  }

  return (
    <section className="portal-page" aria-labelledby="tx-title">
      <h1 id="tx-title">{t('tx.title')}</h1>
      <form className="card portal-filters" onSubmit={apply} data-testid="tx-filters">
        <label>{t('tx.from')}<input type="date" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} /></label>
        <label>{t('tx.to')}<input type="date" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} /></label>
        <label>{t('tx.type')}
          <select value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value })}>
            <option value="">{t('tx.anyType')}</option>
            {TYPES.map((type) => <option key={type} value={type}>{t(`tx.type.${type}`)}</option>)}
          </select>
        </label>
        <label>{t('tx.holdStatus')}
          <select value={form.holdStatus} onChange={(e) => setForm({ ...form, holdStatus: e.target.value })}>
            <option value="">{t('tx.anyStatus')}</option>
            {HOLD_STATUSES.map((status) => <option key={status} value={status}>{t(`tx.hold.${status}`)}</option>)}
          </select>
        </label>
        <ScopePicker idPrefix="tx" value={form} onChange={(scope) => setForm({ ...form, ...scope })} />
        <label>{t('tx.cardLast4')}<input value={form.cardLast4} maxLength={4} onChange={(e) => setForm({ ...form, cardLast4: e.target.value })} /></label>
        <label>{t('tx.minAmount')}<input inputMode="decimal" value={form.minAmount} onChange={(e) => setForm({ ...form, minAmount: e.target.value })} /></label>
        <label>{t('tx.maxAmount')}<input inputMode="decimal" value={form.maxAmount} onChange={(e) => setForm({ ...form, maxAmount: e.target.value })} /></label>
        <button type="submit" className="btn btn--primary">{t('tx.apply')}</button>
        <button type="button" className="btn btn--secondary" data-testid="tx-export" disabled={exporting !== null && !exporting.done}
          onClick={() => void exportCsv()}>{t('tx.export')}</button>
        {exporting && <span className="muted" data-testid="export-progress">{t('tx.exported', { rows: exporting.rows, total: exporting.total })}</span>}
      </form>
      {error && <ErrorBox error={error} />}
      <div className="portal-columns portal-columns--detail">
        <div className="card portal-table-wrap">
          <table className="portal-table" data-testid="transactions">
            <thead>
              <tr>{sortHeader('booked_at', t('tx.time'))}<th scope="col">{t('tx.type')}</th><th scope="col">{t('tx.store')}</th>
                <th scope="col">{t('tx.card')}</th>{sortHeader('amount', t('tx.amount'))}<th scope="col">{t('tx.status')}</th></tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.entryId} className={selected?.entryId === r.entryId ? 'is-selected' : undefined}>
                  <th scope="row"><button type="button" className="btn btn--link" onClick={() => setSelected(r)}>{when(r.bookedAt)}</button></th>
                  <td>{t(`tx.type.${r.type}`)}</td><td>{r.storeName ?? '–'}</td>
                  <td><button type="button" className="btn btn--link mono" onClick={() => onOpenCard(r.cardId)}>…{r.cardLast4}</button></td>
                  <td>{formatMoney(r.amount, r.currency)}</td><td>{r.holdStatus ? t(`tx.hold.${r.holdStatus}`) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p className="muted">{t('tx.none')}</p>}
          {next && <button type="button" className="btn btn--secondary" onClick={() => void load(filter, next)}>{t('tx.more')}</button>}
        </div>
        {selected && <TransactionDetail row={selected} onChanged={() => void load(filter)} onOpenCard={onOpenCard} />}
      </div>
    </section>
  );
}

function TransactionDetail({ row, onChanged, onOpenCard }: { row: Row; onChanged: () => void; onOpenCard: (cardId: string) => void }) {
  const { client, t, session } = usePortal();
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const role = session.user.role;
  const holdOpen = row.holdStatus === 'authorized' && row.type === 'authorization';
  const refundable = row.type === 'redemption' && (role === 'admin' || role === 'support');

  const action = useIntendedAction();
  const minor = () => {
    const parsed = parseAmount(amount);
    return amount && parsed.ok ? parsed.minor : undefined;
  };
  // The intent is the action, the hold and the amount: a retry of the same click keeps its key.
  async function act(kind: 'capture' | 'void' | 'refund', call: (idempotencyKey: string) => Promise<{ cardAvailable: number }>) {
    setError(null);
    try {
      const result = await action.run(`${kind}|${row.holdId}|${minor() ?? 'all'}`, call);
      if (!result) return;
      setDone(t('tx.done', { balance: formatMoney(result.cardAvailable, row.currency) }));
      onChanged();
    } catch (err) {
      setError(toApiError(err));
    }
  }
  const ctx = (idempotencyKey: string) => ({ context: { idempotencyKey } });

  return (
    <aside className="card" data-testid="tx-detail">
      <h2>{t(`tx.type.${row.type}`)} #{row.entryId}</h2>
      <dl className="facts">
        <dt>{t('tx.amount')}</dt><dd>{formatMoney(row.amount, row.currency)}</dd>
        <dt>{t('tx.store')}</dt><dd>{row.storeName ?? '–'} {row.billingPartyName ? `(${row.billingPartyName})` : ''}</dd>
        <dt>{t('tx.card')}</dt><dd><button type="button" className="btn btn--link mono" onClick={() => onOpenCard(row.cardId)}>…{row.cardLast4}</button></dd>
        {row.holdStatus && <><dt>{t('tx.status')}</dt><dd>{t(`tx.hold.${row.holdStatus}`)}</dd></>}
      </dl>
      {(holdOpen || refundable) && (
        <div className="field">
          <label htmlFor="action-amount">{t('tx.actionAmount')}</label>
          <input id="action-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
        </div>
      )}
      <div className="actions">
        {holdOpen && role !== 'finance' && (
          <>
            <button type="button" className="btn btn--primary" disabled={action.busy} onClick={() => void act('capture', (key) => client.transactions.capture.mutate({ holdId: row.holdId!, amount: minor() }, ctx(key)))}>{t('tx.capture')}</button>
            <button type="button" className="btn btn--secondary" disabled={action.busy} onClick={() => void act('void', (key) => client.transactions.void.mutate({ holdId: row.holdId! }, ctx(key)))}>{t('tx.void')}</button>
          </>
        )}
        {refundable && (
          <button type="button" className="btn btn--danger" disabled={action.busy} onClick={() => void act('refund', (key) => client.transactions.refund.mutate({ holdId: row.holdId!, amount: minor() }, ctx(key)))}>{t('tx.refund')}</button>
        )}
      </div>
      {done && <p className="alert alert--success" data-testid="tx-done">{done}</p>}
      {error && <ErrorBox error={error} />}
    </aside>
  );
}

export function CardPage({ cardId }: { cardId: string }) {
  const { client, t, session, language } = usePortal();
  const [card, setCard] = useState<CardView | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback(() => client.transactions.card.query({ cardId }).then(setCard, (err) => setError(toApiError(err))), [client, cardId]);
  useEffect(() => {
    void load();
  }, [load]);
  const mayBlock = session.user.role === 'admin' || session.user.role === 'support';
  const when = (iso: string) => formatTime(language, iso);
  const resend = useIntendedAction();
  const blocking = useIntendedAction();


  return (
    <section className="portal-page" aria-labelledby="card-title">
      <h1 id="card-title">{t('card.title')} …{card?.last4 ?? ''}</h1>
      {error && <ErrorBox error={error} />}
      {card && (
        <>
          <div className="card">
            <dl className="facts">
              <dt>{t('card.available')}</dt><dd data-testid="card-available">{formatMoney(card.available, card.currency)}</dd>
              <dt>{t('card.held')}</dt><dd>{formatMoney(card.held, card.currency)}</dd>
              <dt>{t('card.status')}</dt><dd data-testid="card-status">{t(`card.status.${card.status}`)}</dd>
              <dt>{t('card.expires')}</dt><dd>{when(card.expiresAt)}</dd>
            </dl>
            {mayBlock && card.channel === 'online' && (
              <button type="button" className="btn btn--secondary" disabled={resend.busy} onClick={() => void resend
                .run(`resend|${cardId}`, (idempotencyKey) => client.transactions.resendVoucher.mutate({ cardId }, { context: { idempotencyKey } }))
                .then((r) => r && setNotice(t('card.resent')), (err) => setError(toApiError(err)))}>{t('card.resend')}</button>
            )}
            {notice && <p className="alert alert--success" data-testid="card-notice">{notice}</p>}
            {mayBlock && (card.status === 'active' || card.status === 'blocked') && (
              <button type="button" className="btn btn--secondary" disabled={blocking.busy} onClick={() => void blocking
                .run(`block|${cardId}|${card.status}`, () => client.transactions.setCardBlocked.mutate({ cardId, blocked: card.status === 'active' }))
                .then((r) => r && load(), (err) => setError(toApiError(err)))}>
                {card.status === 'active' ? t('card.block') : t('card.unblock')}
              </button>
            )}
          </div>
          <CardLifecyclePanel cardId={cardId} currency={card.currency} status={card.status} onChanged={() => void load()} />
          <div className="card portal-table-wrap">
            <h2>{t('card.history')}</h2>
            <table className="portal-table" data-testid="card-history">
              <thead><tr><th scope="col">{t('tx.time')}</th><th scope="col">{t('tx.type')}</th><th scope="col">{t('tx.store')}</th><th scope="col">{t('tx.amount')}</th></tr></thead>
              <tbody>
                {card.history.map((r) => (
                  <tr key={r.entryId}><th scope="row">{when(r.bookedAt)}</th><td>{t(`tx.type.${r.type}`)}</td><td>{r.storeName ?? '–'}</td><td>{formatMoney(r.amount, r.currency)}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
