// Amount (a preset or any amount in range) and e-mail, then shop.createOrder.

import { useId, useRef, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney, formatPreset, parseAmount } from '../money.ts';
import { randomId, type Client } from '../trpc.ts';
import type { ShopConfig } from './ShopPage.tsx';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Choice = { kind: 'preset'; amount: number } | { kind: 'custom' };

interface FieldErrors {
  amount?: string;
  email?: string;
}

export function PurchaseForm({ client, config, onCreated }: {
  client: Client;
  config: ShopConfig;
  onCreated: (orderId: string, accessToken: string) => void;
}) {
  const ids = useId();
  const defaultPreset = config.presets[1] ?? config.presets[0];
  const [choice, setChoice] = useState<Choice>(
    defaultPreset === undefined ? { kind: 'custom' } : { kind: 'preset', amount: defaultPreset });
  const [custom, setCustom] = useState('');
  const [email, setEmail] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // One idempotency key per distinct request: a retry after a lost answer finds the same order.
  const requestKey = useRef<{ fingerprint: string; key: string } | null>(null);
  const customRef = useRef<HTMLInputElement>(null);

  const range = `${formatMoney(config.minAmount, config.currency)} to ${formatMoney(config.maxAmount, config.currency)}`;

  function validate(): { amount: number; email: string } | null {
    const errors: FieldErrors = {};
    let amount: number | null = null;
    if (choice.kind === 'preset') {
      amount = choice.amount;
    } else {
      const parsed = parseAmount(custom);
      if (!parsed.ok) errors.amount = parsed.error;
      else if (parsed.minor < config.minAmount || parsed.minor > config.maxAmount) errors.amount = `Choose an amount from ${range}`;
      else amount = parsed.minor;
    }
    const address = email.trim();
    if (!address) errors.email = 'Enter the e-mail address we send the voucher to';
    else if (!EMAIL.test(address)) errors.email = 'This does not look like an e-mail address';
    setFieldErrors(errors);
    if (amount === null || errors.email || errors.amount) return null;
    return { amount, email: address };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setError(null);
    const input = validate();
    if (!input) return;
    const fingerprint = `${input.amount}|${config.currency}|${input.email}`;
    if (requestKey.current?.fingerprint !== fingerprint) requestKey.current = { fingerprint, key: `shop-${randomId()}` };
    setBusy(true);
    try {
      const order = await client.shop.createOrder.mutate(
        // The shop sells EUR vouchers only (the procedure's input is the literal 'EUR').
        { amount: input.amount, currency: 'EUR', email: input.email },
        { context: { idempotencyKey: requestKey.current.key } },
      );
      onCreated(order.orderId, order.accessToken);
    } catch (err) {
      const apiError = toApiError(err);
      const fields: FieldErrors = {};
      if (apiError.fields.amount || apiError.appCode === 'amount_out_of_range') fields.amount = apiError.fields.amount ?? apiError.message;
      if (apiError.fields.email) fields.email = apiError.fields.email;
      setFieldErrors(fields);
      setError(apiError);
      setBusy(false);
    }
  }

  const amountErrorId = `${ids}-amount-error`;
  const emailErrorId = `${ids}-email-error`;

  return (
    <form className="card purchase" onSubmit={submit} noValidate aria-labelledby={`${ids}-title`} data-testid="purchase-form">
      <h2 id={`${ids}-title`}>Choose your voucher</h2>

      <fieldset className="amounts" aria-describedby={fieldErrors.amount ? amountErrorId : undefined}>
        <legend>Amount</legend>
        <div className="amounts__grid">
          {config.presets.map((amount) => (
            <label key={amount} className="amount-tile" data-testid={`preset-${amount}`}>
              <input
                type="radio"
                name="amount"
                value={amount}
                checked={choice.kind === 'preset' && choice.amount === amount}
                onChange={() => { setChoice({ kind: 'preset', amount }); setFieldErrors((e) => ({ ...e, amount: undefined })); }}
              />
              <span className="amount-tile__value">{formatPreset(amount)}</span>
              <span className="amount-tile__currency">{config.currency}</span>
            </label>
          ))}
          <label className="amount-tile amount-tile--custom" data-testid="preset-custom">
            <input
              type="radio"
              name="amount"
              value="custom"
              checked={choice.kind === 'custom'}
              onChange={() => { setChoice({ kind: 'custom' }); customRef.current?.focus(); }}
            />
            <span className="amount-tile__value">Other</span>
            <span className="amount-tile__currency">amount</span>
          </label>
        </div>
        {choice.kind === 'custom' && (
          <div className="field">
            <label htmlFor={`${ids}-custom`}>Your amount in {config.currency}</label>
            <div className="input-affix">
              <input
                id={`${ids}-custom`}
                ref={customRef}
                data-testid="custom-amount"
                inputMode="decimal"
                autoComplete="off"
                placeholder="e.g. 35.00"
                value={custom}
                onChange={(e) => setCustom(e.target.value)}
                aria-invalid={fieldErrors.amount ? true : undefined}
                aria-describedby={fieldErrors.amount ? amountErrorId : `${ids}-range`}
              />
              <span className="input-affix__suffix" aria-hidden="true">{config.currency}</span>
            </div>
            <p id={`${ids}-range`} className="hint">From {range}.</p>
          </div>
        )}
        {fieldErrors.amount && <p id={amountErrorId} className="field-error" data-testid="amount-error">{fieldErrors.amount}</p>}
      </fieldset>

      <div className="field">
        <label htmlFor={`${ids}-email`}>E-mail address</label>
        <input
          id={`${ids}-email`}
          data-testid="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={fieldErrors.email ? true : undefined}
          aria-describedby={fieldErrors.email ? emailErrorId : `${ids}-email-hint`}
        />
        {fieldErrors.email
          ? <p id={emailErrorId} className="field-error" data-testid="email-error">{fieldErrors.email}</p>
          : <p id={`${ids}-email-hint`} className="hint">We send the voucher PDF here. Nothing else.</p>}
      </div>

      {error && <ErrorBox error={error} />}

      <button type="submit" className="btn btn--primary btn--large" data-testid="buy" disabled={busy}>
        {busy ? 'Creating your order…' : 'Buy voucher'}
      </button>
    </form>
  );
}
