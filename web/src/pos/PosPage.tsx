// POS terminal: the till's API key, a code field a USB barcode/QR scanner types into (it ends
// with Enter), the balance, and two-phase redemption: authorize → capture (all or part) or void.

import { useMemo, useRef, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney, parseAmount } from '../money.ts';
import { createClient, randomId, type RouterOutputs } from '../trpc.ts';

type Card = RouterOutputs['pos']['lookupCard']['card'];
type Redemption = RouterOutputs['pos']['authorize'];

const KEY_STORAGE = 'voucher-pos.api-key';
const CURRENCY = 'EUR';

function loadKey(): string {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

function saveKey(key: string): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Private mode without storage: the key lasts as long as the page.
  }
}

type Outcome = { kind: 'captured' | 'voided'; redemption: Redemption };

export function PosPage() {
  const [apiKey, setApiKey] = useState(loadKey);
  const keyRef = useRef(apiKey);
  keyRef.current = apiKey;
  const client = useMemo(() => createClient({ apiKey: () => keyRef.current || null }), []);

  const [code, setCode] = useState('');
  const [card, setCard] = useState<Card | null>(null);
  /** The code the shown card and hold belong to (the field may have been edited since). */
  const [cardCode, setCardCode] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [allowPartial, setAllowPartial] = useState(false);
  const [hold, setHold] = useState<Redemption | null>(null);
  const [captureAmount, setCaptureAmount] = useState('');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  /** The last error, shown under the panel whose action caused it. */
  const [error, setError] = useState<{ where: 'voucher' | 'redeem'; error: ApiError } | null>(null);
  const [busy, setBusy] = useState<null | 'lookup' | 'authorize' | 'capture' | 'void' | 'activate'>(null);
  /** One Idempotency-Key per card being sold: a retried click activates once. */
  const activationKey = useRef<{ code: string; key: string } | null>(null);
  const codeRef = useRef<HTMLInputElement>(null);
  const amountRef = useRef<HTMLInputElement>(null);

  async function run<T>(what: NonNullable<typeof busy>, call: () => Promise<T>): Promise<T | null> {
    setBusy(what);
    setError(null);
    try {
      return await call();
    } catch (err) {
      setError({ where: what === 'lookup' || what === 'activate' ? 'voucher' : 'redeem', error: toApiError(err) });
      return null;
    } finally {
      setBusy(null);
    }
  }

  function localError(where: 'voucher' | 'redeem', appCode: string, message: string) {
    setError({ where, error: { appCode, message, fields: {}, requestId: null } });
  }

  async function lookup(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const typed = code.trim();
    if (!typed) return localError('voucher', 'validation_error', 'Scan or type a voucher code first.');
    if (hold) return localError('voucher', 'hold_open', 'Capture or void the open authorization first.');
    setOutcome(null);
    const result = await run('lookup', () => client.pos.lookupCard.mutate({ code: typed }));
    if (result) {
      setCard(result.card);
      setCardCode(typed);
      amountRef.current?.focus();
    } else {
      setCard(null);
      setCardCode(null);
    }
  }

  /** Sells a pending (scratch) card: its face value, or the amount typed for an open-value card. */
  async function activate() {
    if (busy || !cardCode) return;
    let value: number | undefined;
    if (amount.trim()) {
      const parsed = parseAmount(amount);
      if (!parsed.ok) return localError('voucher', 'validation_error', parsed.error);
      value = parsed.minor;
    }
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
    if (!useCode) return localError('redeem', 'validation_error', 'Scan or type a voucher code first.');
    const parsed = parseAmount(amount);
    if (!parsed.ok) return localError('redeem', 'validation_error', parsed.error);
    setOutcome(null);
    // A new reference per attempt; the API answers a repeated reference with the first result.
    const posReference = `web-${Date.now()}-${randomId().slice(0, 8)}`;
    const result = await run('authorize', () => client.pos.authorize.mutate({
      code: useCode, amount: parsed.minor, currency: CURRENCY, posReference, allowPartial,
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
    let partial: number | undefined;
    if (captureAmount.trim()) {
      const parsed = parseAmount(captureAmount);
      if (!parsed.ok) return localError('redeem', 'validation_error', parsed.error);
      partial = parsed.minor;
    }
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

  return (
    <div className="pos">
      <h1 className="pos__title">POS terminal</h1>
      <TerminalKey apiKey={apiKey} onChange={(key) => { saveKey(key); setApiKey(key); }} />

      <div className="pos__grid">
        <div className="pos__col">
          <form className="card" onSubmit={lookup} aria-labelledby="pos-code-title">
            <h2 id="pos-code-title">Voucher</h2>
            <div className="field">
              <label htmlFor="pos-code">Scan or type the voucher code</label>
              <input
                id="pos-code"
                ref={codeRef}
                data-testid="code"
                className="input--code"
                autoFocus
                autoComplete="off"
                autoCapitalize="characters"
                spellCheck={false}
                placeholder="XXXX-XXXX-XXXX-XXXX"
                value={code}
                onChange={(e) => {
                  setCode(e.target.value);
                  // The balance shown belongs to the code it was read for.
                  if (cardCode !== null && e.target.value.trim() !== cardCode) { setCard(null); setCardCode(null); }
                }}
                disabled={!!hold}
              />
            </div>
            <div className="actions">
              <button type="submit" className="btn btn--primary btn--large" data-testid="check-balance" disabled={busy !== null || !!hold}>
                {busy === 'lookup' ? 'Checking…' : 'Check balance'}
              </button>
              <button type="button" className="btn btn--secondary btn--large" onClick={nextCustomer} disabled={busy !== null || !!hold}>
                Next customer
              </button>
            </div>
          </form>

          {error?.where === 'voucher' && <ErrorBox error={error.error} />}
          {card && <Balance card={card} />}
          {card?.status === 'pending' && (
            <div className="card" data-testid="activation">
              <p>This voucher has not been sold yet. Activate it to sell it (an open-value voucher takes the amount typed under Redeem).</p>
              <button type="button" className="btn btn--primary btn--large" data-testid="activate" disabled={busy !== null} onClick={() => void activate()}>
                {busy === 'activate' ? 'Activating…' : 'Activate (sell)'}
              </button>
            </div>
          )}
        </div>

        <div className="pos__col">
          {!hold ? (
            <form className="card" onSubmit={authorize} aria-labelledby="pos-redeem-title">
              <h2 id="pos-redeem-title">Redeem</h2>
              <div className="field">
                <label htmlFor="pos-amount">Amount to pay with the voucher</label>
                <div className="input-affix">
                  <input
                    id="pos-amount"
                    ref={amountRef}
                    data-testid="redeem-amount"
                    className="input--amount"
                    inputMode="decimal"
                    autoComplete="off"
                    placeholder="0.00"
                    value={amount}
                    onChange={(e) => setAmount(e.target.value)}
                  />
                  <span className="input-affix__suffix" aria-hidden="true">{CURRENCY}</span>
                </div>
              </div>
              <label className="checkbox">
                <input type="checkbox" data-testid="allow-partial" checked={allowPartial} onChange={(e) => setAllowPartial(e.target.checked)} />
                <span>Allow partial — approve what the voucher has if it is less</span>
              </label>
              <button type="submit" className="btn btn--primary btn--large btn--block" data-testid="authorize" disabled={busy !== null}>
                {busy === 'authorize' ? 'Authorizing…' : 'Authorize'}
              </button>
            </form>
          ) : (
            <form className="card card--hold" onSubmit={capture} aria-labelledby="pos-hold-title" data-testid="hold" data-hold-id={hold.id}>
              <h2 id="pos-hold-title">Authorized — not yet charged</h2>
              <p className="big-amount" data-testid="hold-amount">{formatMoney(hold.approvedAmount, hold.currency)}</p>
              {hold.approvedAmount < hold.requestedAmount && (
                <p className="alert alert--warning" data-testid="partial-approval">
                  Partial approval: {formatMoney(hold.requestedAmount, hold.currency)} asked; collect
                  {' '}{formatMoney(hold.requestedAmount - hold.approvedAmount, hold.currency)} another way.
                </p>
              )}
              <dl className="facts">
                <div><dt>Reference</dt><dd className="mono">{hold.posReference}</dd></div>
                <div><dt>Hold expires</dt><dd>{new Date(hold.expiresAt).toLocaleTimeString()}</dd></div>
              </dl>
              <div className="field">
                <label htmlFor="pos-capture">Capture amount (optional — less releases the rest)</label>
                <div className="input-affix">
                  <input
                    id="pos-capture"
                    data-testid="capture-amount"
                    inputMode="decimal"
                    autoComplete="off"
                    placeholder={`all: ${formatMoney(hold.approvedAmount, hold.currency)}`}
                    value={captureAmount}
                    onChange={(e) => setCaptureAmount(e.target.value)}
                  />
                  <span className="input-affix__suffix" aria-hidden="true">{hold.currency}</span>
                </div>
              </div>
              <div className="actions">
                <button type="submit" className="btn btn--success btn--large" data-testid="capture" disabled={busy !== null}>
                  {busy === 'capture' ? 'Capturing…' : 'Capture'}
                </button>
                <button type="button" className="btn btn--danger btn--large" data-testid="void" onClick={voidHold} disabled={busy !== null}>
                  {busy === 'void' ? 'Voiding…' : 'Void'}
                </button>
              </div>
            </form>
          )}

          {error?.where === 'redeem' && <ErrorBox error={error.error} />}
          {outcome && <Result outcome={outcome} />}
        </div>
      </div>
    </div>
  );
}

function TerminalKey({ apiKey, onChange }: { apiKey: string; onChange: (key: string) => void }) {
  const [editing, setEditing] = useState(!apiKey);
  const [draft, setDraft] = useState(apiKey);

  if (!editing && apiKey) {
    return (
      <div className="card terminal-key terminal-key--set" data-testid="api-key-set">
        <p><span className="dot dot--ok" aria-hidden="true" /> Terminal key saved on this device (ends in <span className="mono">{apiKey.slice(-4)}</span>)</p>
        <button type="button" className="btn btn--link" onClick={() => { setDraft(''); setEditing(true); }}>Change key</button>
      </div>
    );
  }
  return (
    <form
      className="card terminal-key"
      onSubmit={(e) => { e.preventDefault(); onChange(draft.trim()); setEditing(!draft.trim()); }}
    >
      <div className="field">
        <label htmlFor="pos-api-key">Terminal API key</label>
        <input
          id="pos-api-key"
          data-testid="api-key"
          type="password"
          autoComplete="off"
          placeholder="vk_…"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <p className="hint">Stored in this browser only. Every request sends it as <code>Authorization: Bearer …</code>.</p>
      </div>
      <div className="actions">
        <button type="submit" className="btn btn--primary" data-testid="save-api-key">Save key</button>
        {apiKey && <button type="button" className="btn btn--secondary" onClick={() => setEditing(false)}>Cancel</button>}
      </div>
    </form>
  );
}

function Balance({ card }: { card: Card }) {
  return (
    <section className="card balance" aria-labelledby="pos-balance-title" data-testid="card-info" data-status={card.status}>
      <h2 id="pos-balance-title">Balance <span className="muted">· voucher …{card.last4}</span></h2>
      <p className="big-amount" data-testid="balance" aria-live="polite">{formatMoney(card.available, card.currency)}</p>
      <dl className="facts">
        <div><dt>On hold</dt><dd data-testid="held">{formatMoney(card.held, card.currency)}</dd></div>
        <div><dt>Status</dt><dd className={card.status === 'active' ? 'text-ok' : 'text-danger'}>{card.status}</dd></div>
        <div><dt>Valid until</dt><dd>{card.expiresAt.slice(0, 10)}</dd></div>
      </dl>
    </section>
  );
}

function Result({ outcome }: { outcome: Outcome }) {
  const r = outcome.redemption;
  return (
    <div className={`alert ${outcome.kind === 'captured' ? 'alert--success' : 'alert--info'}`} role="status" data-testid="result" data-kind={outcome.kind}>
      {outcome.kind === 'captured'
        ? <p><strong>Paid {formatMoney(r.capturedAmount, r.currency)}</strong> with the voucher.
          {r.capturedAmount < r.approvedAmount && <> {formatMoney(r.approvedAmount - r.capturedAmount, r.currency)} went back to the voucher.</>}</p>
        : <p><strong>Voided.</strong> {formatMoney(r.approvedAmount, r.currency)} went back to the voucher.</p>}
      {r.card && <p>New balance: <strong data-testid="result-balance">{formatMoney(r.card.available, r.card.currency)}</strong></p>}
    </div>
  );
}
