// The till's state for one customer and its actions: look up a code, sell a pending card, then
// two-phase redemption: authorize → capture (all or part) or void. Components only render it.

import { useRef, useState, type FormEvent } from 'react';
import type { PosKey } from '../i18n/pos.ts';
import { randomId, type RouterOutputs } from '../trpc.ts';
import { usePosRequest } from './usePosRequest.ts';
import type { PosClient } from './useTerminalClient.ts';

export type Card = RouterOutputs['pos']['lookupCard']['card'];
export type Redemption = RouterOutputs['pos']['authorize'];
export type Outcome = { kind: 'captured' | 'voided'; redemption: Redemption };
export const CURRENCY = 'EUR';

export function usePosSession(client: PosClient, t: (key: PosKey) => string) {
  const [code, setCode] = useState('');
  const [card, setCard] = useState<Card | null>(null);
  /** The code the shown card and hold belong to (the field may have been edited since). */
  const [cardCode, setCardCode] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [allowPartial, setAllowPartial] = useState(false);
  const [hold, setHold] = useState<Redemption | null>(null);
  const [captureAmount, setCaptureAmount] = useState('');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const { busy, error, setError, run, localError, amountOf } = usePosRequest(t);
  /** One Idempotency-Key per card being sold: a retried click activates once. */
  const activationKey = useRef<{ code: string; key: string } | null>(null);
  const codeRef = useRef<HTMLInputElement>(null);
  const amountRef = useRef<HTMLInputElement>(null);

  function editCode(value: string) {
    setCode(value);
    // The balance shown belongs to the code it was read for.
    if (cardCode !== null && value.trim() !== cardCode) { setCard(null); setCardCode(null); }
  }

  async function lookup(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const typed = code.trim();
    if (!typed) return localError('voucher', 'validation_error', 'voucher.codeFirst');
    if (hold) return localError('voucher', 'hold_open', 'voucher.holdOpen');
    setOutcome(null);
    const result = await run('lookup', () => client.pos.lookupCard.mutate({ code: typed }));
    setCard(result?.card ?? null);
    setCardCode(result ? typed : null);
    if (result) amountRef.current?.focus();
  }

  /** Sells a pending (scratch) card: its face value, or the amount typed for an open-value card. */
  async function activate() {
    if (busy || !cardCode) return;
    const value = amount.trim() ? amountOf(amount, 'voucher') : undefined;
    if (value === null) return;
    if (activationKey.current?.code !== cardCode) activationKey.current = { code: cardCode, key: `pos-activate-${randomId()}` };
    const key = activationKey.current.key;
    const result = await run('activate', () => client.pos.activateCard.mutate(
      { code: cardCode, currency: CURRENCY, ...(value === undefined ? {} : { amount: value }) }, { context: { idempotencyKey: key } }));
    if (result) {
      setCard(result.card);
      setAmount('');
    }
  }

  async function authorize(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const useCode = code.trim();
    if (!useCode) return localError('redeem', 'validation_error', 'voucher.codeFirst');
    const minor = amountOf(amount, 'redeem');
    if (minor === null) return;
    setOutcome(null);
    // A new reference per attempt; the API answers a repeated reference with the first result.
    const posReference = `web-${Date.now()}-${randomId().slice(0, 8)}`;
    const result = await run('authorize', () => client.pos.authorize.mutate({
      code: useCode, amount: minor, currency: CURRENCY, posReference, allowPartial,
    }));
    if (result) {
      setHold(result);
      setCardCode(useCode);
      if (result.card) setCard(result.card);
      setCaptureAmount('');
    }
  }

  async function capture(event: FormEvent) {
    event.preventDefault();
    if (busy || !hold) return;
    const partial = captureAmount.trim() ? amountOf(captureAmount, 'redeem') : undefined;
    if (partial === null) return;
    const result = await run('capture', () => client.pos.capture.mutate(
      partial === undefined ? { holdId: hold.id } : { holdId: hold.id, amount: partial }));
    if (result) settled('captured', result);
  }

  async function voidHold() {
    if (busy || !hold) return;
    const result = await run('void', () => client.pos.void.mutate({ holdId: hold.id }));
    if (result) settled('voided', result);
  }

  function settled(kind: Outcome['kind'], result: Redemption) {
    setOutcome({ kind, redemption: result });
    if (result.card) setCard(result.card);
    setHold(null);
    setAmount('');
    setCaptureAmount('');
  }

  function nextCustomer() {
    setCode('');
    setCard(null);
    setCardCode(null);
    setHold(null);
    setOutcome(null);
    setError(null);
    setAmount('');
    setAllowPartial(false);
    codeRef.current?.focus();
  }

  return {
    code, editCode, card, amount, setAmount, allowPartial, setAllowPartial, hold, captureAmount, setCaptureAmount,
    outcome, error, busy, codeRef, amountRef, lookup, activate, authorize, capture, voidHold, nextCustomer,
  };
}

export type PosSession = ReturnType<typeof usePosSession>;
