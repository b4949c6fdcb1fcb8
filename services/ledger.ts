// The ledger's operations as the rest of the code sees them, and the only way to move money. Each
// call is one SQL function (prisma/migrations/*_ledger) executed as a named prepared statement: one
// round trip, one transaction. Refusals come back as DomainError with the API's stable codes, and
// every change writes the card's new balance to the balance cache, so no caller does either.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ledgerCalls } from '../infra/metrics.ts';
import { currentTraceCarrier, SpanKind, withSpan } from '../infra/tracing.ts';
import { DomainError, isErrorCode } from '../domain/errors.ts';
import { requestIds } from './audit.ts';
import type { BalanceCache } from './balance-cache.ts';
import { cacheCard } from './card-view.ts';

export interface CardSnapshot {
  cardId: string;
  codeHash: string;
  last4: string;
  currency: string;
  status: string;
  available: number;
  held: number;
  version: number;
  expiresAt: string;
  /**
   * Until when `held` is true: the soonest expiry among the card's holds that still count (null:
   * none). Past it the ledger counts that hold as released. Absent when the ledger function that
   * answered does not say; a cache must then not keep a snapshot with held value.
   */
  nextHoldExpiry?: string | null;
}

export interface IssueResult extends CardSnapshot {
  entryId: number;
  amount: number;
  replayed?: boolean;
}

export interface HoldSnapshot {
  holdId: string;
  status: 'authorized' | 'captured' | 'voided' | 'expired';
  posReference: string;
  currency: string;
  requestedAmount: number;
  approvedAmount: number;
  capturedAmount: number;
  refundedAmount: number;
  expiresAt: string;
  terminalId: string;
  storeId: string;
}

export interface AuthorizeResult extends HoldSnapshot {
  partial: boolean;
  entryId: number;
  card: CardSnapshot;
  replayed?: boolean;
}

export interface SettleResult extends HoldSnapshot {
  /**
   * False when the call settled nothing itself: expiry found the hold settled by the till, or a
   * void (or expiry) found it expired. Its release, if this call booked it, is audited on its own.
   */
  changed: boolean;
  releasedAmount?: number;
  entryId?: number;
  card?: CardSnapshot;
  replayed?: boolean;
}

export interface RefundResult extends HoldSnapshot {
  refundAmount: number;
  /** What went straight to breakage because the card's expiry was booked already. */
  breakage?: number;
  entryId: number;
  card: CardSnapshot;
  replayed?: boolean;
}

/**
 * Who makes a call and under which key: scope isolates keys per terminal (or per system actor).
 * A null key on a redemption call means "the hold is the key": (terminal, POS reference) for an
 * authorization, the hold itself for a capture or void.
 */
export interface IdempotencyContext {
  scope: string;
  key: string | null;
  /** Who the audit log names (default: the scope, e.g. terminal:<id>). */
  actor?: string;
}

/** Raised by the ledger when an identical call committed first; the retry replays its answer. */
const CONCURRENT_DUPLICATE = 'VE409';

/** Stable hash of what a request asks for, so a reused key with another body is detected. */
export function requestHash(operation: string, params: Record<string, unknown>): string {
  const canonical = JSON.stringify([operation, Object.keys(params).sort().map((k) => [k, String(params[k] ?? '')])]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** A refusal raised by a ledger SQL function becomes the DomainError it names. */
export function translateLedgerError(err: unknown): never {
  const e = err as { code?: string; message?: string; detail?: string };
  if (e.code === 'VE400' && e.message && isErrorCode(e.message)) {
    throw new DomainError(e.message, e.detail ?? e.message);
  }
  if (e.code === '23505' && String(e.message).includes('cards_code_hash_key')) {
    throw new DomainError('card_code_collision', 'a card with this code exists already');
  }
  throw err;
}

/** The audit log's actor for what the engine does on its own (expiry, breakage). */
const SYSTEM = 'system';

/** What a lifecycle operation returns: the card after it, the entry and the amount it moved. */
export interface LifecycleResult extends CardSnapshot {
  entryId: number;
  amount: number;
  replayed?: boolean;
}

function actorOf(idem: IdempotencyContext): string {
  return idem.actor ?? idem.scope;
}

function auditAs(idem: IdempotencyContext, action: string): { actor: string; action: string } {
  return { actor: idem.actor ?? idem.scope, action };
}

/** The cards a ledger answer carries: the answer itself (issue, load, expiry, block), its `card`, or both sides of a transfer. */
type CardOf<T> = (result: T) => CardSnapshot | undefined | CardSnapshot[];
const itself = <T extends CardSnapshot>(result: T) => result;
const itsCard = <T extends { card?: CardSnapshot }>(result: T) => result.card;
const bothCards = <T extends CardSnapshot & { toCard: CardSnapshot }>(result: T) => [result, result.toCard];

export class Ledger {
  /** `cache`: where each change's new balance goes (none: lookups read PostgreSQL). */
  constructor(private readonly pool: pg.Pool, private readonly cache: BalanceCache | null = null) {}

  /** Runs a ledger function and refreshes the balance cache with the card it changed. */
  private async change<T>(name: string, values: unknown[], audit: { actor: string; action: string }, cardOf: CardOf<T>): Promise<T> {
    const result = await this.call<T>(name, values, audit);
    const cards = cardOf(result);
    if (this.cache) for (const card of [cards ?? []].flat()) await cacheCard(this.cache, card);
    return result;
  }

  /**
   * Runs ledger function `name` with `values` and writes its audit entry in the same statement
   * (ledger_audited): one round trip, one transaction, and no change without its entry.
   */
  private call<T>(name: string, values: unknown[], audit: { actor: string; action: string }): Promise<T> {
    return withSpan(`ledger ${name}`, { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.operation.name': name } },
      () => this.callTraced<T>(name, values, audit));
  }

  private async callTraced<T>(name: string, values: unknown[], audit: { actor: string; action: string }): Promise<T> {
    const args = values.map((_, i) => `$${i + 1}`).join(',');
    const n = values.length;
    const ids = requestIds();
    const all = [...values, audit.actor, audit.action, ids?.requestId ?? null, ids?.clientRequestId ?? null];
    let text = `SELECT ledger_audited(${name}(${args}), $${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}) AS r`;
    let statement = `${name}_audited`;
    // With tracing, the trace context goes into a transaction-local setting in the same statement:
    // an outbox row the function queues takes it as its trace_context (the column's default), so
    // the workflow it starts joins this trace. The FROM item is evaluated before the select list.
    const carrier = currentTraceCarrier();
    if (carrier) {
      text += ` FROM (SELECT set_config('voucher.trace_context', $${n + 5}, true)) AS traced`;
      statement += '_traced';
      all.push(JSON.stringify(carrier));
    }
    const stop = ledgerCalls.startTimer({ operation: name });
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.pool.query<{ r: T }>({ name: statement, text, values: all });
        stop({ outcome: 'ok' });
        return result.rows[0]!.r;
      } catch (err) {
        if ((err as { code?: string }).code === CONCURRENT_DUPLICATE && attempt < 3) continue;
        try {
          translateLedgerError(err);
        } catch (translated) {
          stop({ outcome: (translated as { code?: string }).code ?? 'error' });
          throw translated;
        }
      }
    }
  }

  issueCard(
    idem: IdempotencyContext,
    p: { codeHash: string; last4: string; currency: string; amount: bigint; expiresAt: Date;
      channel: 'pos' | 'online'; storeId: string | null; terminalId: string | null; sourceRef?: string },
  ): Promise<IssueResult> {
    const hash = requestHash('issue', { currency: p.currency, amount: p.amount, channel: p.channel, store: p.storeId });
    return this.change('ledger_issue_card',
      [idem.scope, idem.key, hash, p.codeHash, p.last4, p.currency, p.amount, p.expiresAt, p.channel,
        p.storeId, p.terminalId, p.sourceRef ?? null], auditAs(idem, 'card_issued'), itself);
  }

  loadCard(
    idem: IdempotencyContext,
    p: { codeHash: string; currency: string; amount: bigint; maxBalance: bigint; storeId: string; terminalId: string },
  ): Promise<IssueResult> {
    const hash = requestHash('load', { card: p.codeHash, currency: p.currency, amount: p.amount });
    return this.change('ledger_load_card',
      [idem.scope, idem.key, hash, p.codeHash, p.currency, p.amount, p.maxBalance, p.storeId, p.terminalId], auditAs(idem, 'card_loaded'), itself);
  }

  authorize(
    idem: IdempotencyContext,
    p: { codeHash: string; currency: string; amount: bigint; allowPartial: boolean; storeId: string;
      terminalId: string; posReference: string; holdTtlSeconds?: number | null },
  ): Promise<AuthorizeResult> {
    const hash = requestHash('authorize', {
      card: p.codeHash, currency: p.currency, amount: p.amount, partial: p.allowPartial, ref: p.posReference });
    return this.change('ledger_authorize',
      [idem.scope, idem.key, hash, p.codeHash, p.currency, p.amount, p.allowPartial, p.storeId, p.terminalId,
        p.posReference, p.holdTtlSeconds ?? null], auditAs(idem, 'redemption_authorized'), itsCard);
  }

  capture(idem: IdempotencyContext, p: { holdId: string; storeId: string; amount: bigint | null }): Promise<SettleResult> {
    const hash = requestHash('capture', { hold: p.holdId, amount: p.amount });
    return this.settle(idem, hash, p.holdId, p.storeId, true, p.amount, 'capture', auditAs(idem, 'hold_captured'));
  }

  void(idem: IdempotencyContext, p: { holdId: string; storeId: string }): Promise<SettleResult> {
    const hash = requestHash('void', { hold: p.holdId });
    return this.settle(idem, hash, p.holdId, p.storeId, false, null, 'void', auditAs(idem, 'hold_voided'));
  }

  /**
   * Books a hold's expiry when its time is up (the redemption workflow's timer). The ledger
   * releases expired holds by itself whenever it touches their card, so this usually finds the
   * hold 'expired' already, or settled by the till: it answers the hold as it is, never twice.
   */
  expireHold(holdId: string): Promise<SettleResult> {
    return this.settle(null, null, holdId, null, false, null, 'expired', { actor: SYSTEM, action: 'hold_expired' });
  }

  private settle(
    idem: IdempotencyContext | null, hash: string | null, holdId: string, storeId: string | null,
    capture: boolean, amount: bigint | null, reason: string, audit: { actor: string; action: string },
  ): Promise<SettleResult> {
    return this.change('ledger_settle_hold',
      [idem?.scope ?? null, idem?.key ?? null, hash, holdId, storeId, capture, amount, reason], audit, itsCard);
  }

  refund(
    idem: IdempotencyContext,
    p: { holdId: string; storeId: string; terminalId: string | null; amount: bigint | null },
  ): Promise<RefundResult> {
    const hash = requestHash('refund', { hold: p.holdId, amount: p.amount });
    return this.change('ledger_refund',
      [idem.scope, idem.key, hash, p.holdId, p.storeId, p.terminalId, p.amount], auditAs(idem, 'redemption_refunded'), itsCard);
  }

  /** Moves an expired card's balance to breakage; refuses before expiry or with open holds. */
  expireCard(cardId: string): Promise<CardSnapshot & { changed: boolean; breakage: number }> {
    return this.change('ledger_expire_card', [cardId], { actor: SYSTEM, action: 'card_expired' }, itself);
  }

  /**
   * Undoes an untouched card's sale: its value goes back to the sale's source and the card is
   * blocked. A card used in any way since is refused with card_in_use.
   */
  cancelSale(idem: IdempotencyContext, cardId: string): Promise<CardSnapshot & { entryId: string; amount: number }> {
    const hash = requestHash('cancel_sale', { card: cardId });
    return this.change('ledger_cancel_sale', [idem.scope, idem.key, hash, cardId], auditAs(idem, 'sale_cancelled'), itself);
  }

  /** Blocks or unblocks a card; an expired card stays as it is. */
  setCardBlocked(cardId: string, blocked: boolean, actor = SYSTEM): Promise<CardSnapshot & { changed: boolean }> {
    return this.change('card_set_blocked', [cardId, blocked], { actor, action: blocked ? 'card_blocked' : 'card_unblocked' }, itself);
  }

  /**
   * Releases holds past their expiry in bulk (the hold-expiry sweep): the holds of up to
   * `batchSize` cards, soonest expiry first; cards a till's call has locked are skipped (that call
   * releases them). Each release is its own journal entry, effective at the hold's expiry, and
   * audited. `cards` below `batchSize` means nothing more is due now.
   */
  async releaseExpiredHolds(batchSize: number): Promise<{ cards: number; holds: number }> {
    const stop = ledgerCalls.startTimer({ operation: 'ledger_release_expired_holds_batch' });
    try {
      const result = await this.pool.query<{ r: { cards: number; holds: number } }>({
        name: 'release_expired_holds', text: 'SELECT ledger_release_expired_holds_batch($1) AS r', values: [batchSize],
      });
      stop({ outcome: 'ok' });
      return result.rows[0]!.r;
    } catch (err) {
      stop({ outcome: 'error' });
      throw err;
    }
  }

  /** A hold as it stands now: one past its expiry reads 'expired' even before its release is booked. */
  // ---- card lifecycle (issue #13): each one ledger function, one entry, audited in the same statement

  /** Sells a pending card at a till: its face value, or `amount` for an open-value card. */
  activateCard(
    idem: IdempotencyContext,
    p: { codeHash: string; currency: string; amount: bigint | null; maxBalance: bigint; storeId: string; terminalId: string },
  ): Promise<LifecycleResult> {
    const hash = requestHash('activate', { card: p.codeHash, currency: p.currency, amount: p.amount });
    return this.change('ledger_activate_card', [idem.scope, idem.key, hash, p.codeHash, p.currency, p.amount, p.maxBalance,
      p.storeId, p.terminalId, actorOf(idem)], auditAs(idem, 'card_activated'), itself);
  }

  /** Closes a card for good; its value goes to breakage, or back to its sale's source when `refund`. */
  deactivateCard(idem: IdempotencyContext, p: { cardId: string; refund: boolean; reason: string }): Promise<LifecycleResult & { kind: string; breakage: number }> {
    const hash = requestHash('deactivate', { card: p.cardId, refund: p.refund, reason: p.reason });
    return this.change('ledger_deactivate_card', [idem.scope, idem.key, hash, p.cardId, p.refund, p.reason, actorOf(idem)],
      auditAs(idem, 'card_deactivated'), itself);
  }

  clearBalance(idem: IdempotencyContext, p: { cardId: string; reason: string }): Promise<LifecycleResult> {
    const hash = requestHash('clear_balance', { card: p.cardId, reason: p.reason });
    return this.change('ledger_clear_balance', [idem.scope, idem.key, hash, p.cardId, p.reason, actorOf(idem)],
      auditAs(idem, 'card_balance_cleared'), itself);
  }

  /** `amount` > 0 adds value, < 0 takes it away (never below zero). */
  adjustCard(
    idem: IdempotencyContext,
    p: { cardId: string; amount: bigint; maxBalance: bigint; reason: string; details?: Record<string, unknown> },
  ): Promise<LifecycleResult> {
    const hash = requestHash('adjust', { card: p.cardId, amount: p.amount, reason: p.reason });
    return this.change('ledger_adjust_card', [idem.scope, idem.key, hash, p.cardId, p.amount, p.maxBalance, p.reason,
      actorOf(idem), JSON.stringify(p.details ?? {})], auditAs(idem, 'card_adjusted'), itself);
  }

  /** Moves `amount` (all of it when null) from one card to another of the same currency. */
  transferBalance(
    idem: IdempotencyContext,
    p: { fromCardId: string; toCardId: string; amount: bigint | null; maxBalance: bigint; reason: string },
  ): Promise<LifecycleResult & { toCard: CardSnapshot }> {
    const hash = requestHash('transfer', { from: p.fromCardId, to: p.toCardId, amount: p.amount, reason: p.reason });
    return this.change('ledger_transfer_balance', [idem.scope, idem.key, hash, p.fromCardId, p.toCardId, p.amount,
      p.maxBalance, p.reason, actorOf(idem)], auditAs(idem, 'card_balance_transferred'), bothCards);
  }

  extendExpiry(idem: IdempotencyContext, p: { cardId: string; expiresAt: Date; reason: string }): Promise<LifecycleResult & { previousExpiresAt: string }> {
    const hash = requestHash('extend_expiry', { card: p.cardId, expiresAt: p.expiresAt.toISOString(), reason: p.reason });
    return this.change('ledger_extend_card_expiry', [idem.scope, idem.key, hash, p.cardId, p.expiresAt, p.reason, actorOf(idem)],
      auditAs(idem, 'card_expiry_extended'), itself);
  }

  async findHold(holdId: string, storeId: string): Promise<HoldSnapshot | null> {
    const result = await this.pool.query<{ r: HoldSnapshot }>({
      name: 'hold_by_id',
      text: `SELECT hold_json(h) || CASE WHEN h.status = 'authorized' AND h.expires_at <= now()
                                         THEN '{"status": "expired"}'::jsonb ELSE '{}'::jsonb END AS r
               FROM holds h WHERE id = $1 AND store_id = $2`,
      values: [holdId, storeId],
    });
    return result.rows[0]?.r ?? null;
  }

  /**
   * A card as the ledger treats it now, without writing: holds past their expiry count as released
   * (available again), whether or not their release is booked yet.
   */
  async findCardByCodeHash(codeHash: string): Promise<CardSnapshot | null> {
    const result = await this.pool.query<{ r: CardSnapshot }>({
      name: 'card_by_code_hash',
      text: 'SELECT card_snapshot(card_as_of_now(c)) AS r FROM cards c WHERE code_hash = $1',
      values: [codeHash],
    });
    return result.rows[0]?.r ?? null;
  }

  /** Every broken invariant, empty when the ledger is sound (see ledger_violations). */
  async violations(): Promise<{ violation: string; subject: string; detail: string }[]> {
    const result = await this.pool.query('SELECT violation, subject, detail FROM ledger_violations');
    return result.rows;
  }
}
