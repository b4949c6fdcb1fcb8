// Amount (a preset or any amount in range) and e-mail, then shop.createOrder.

import { useId, useRef, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatPreset, parseAmount } from '../money.ts';
import { useShopText, type ShopKey } from '../i18n/shop.ts';
import { randomId, type Client } from '../trpc.ts';
import type { ShopConfig } from './ShopPage.tsx';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** parseAmount's messages (English) as catalogue keys. */
const AMOUNT_ERRORS: Record<string, ShopKey> = {
  'Enter an amount': 'amount.empty',
  'Enter an amount like 25 or 25.50': 'amount.format',
  'At most 2 decimals': 'amount.decimals',
  'The amount must be more than 0': 'amount.positive',
};

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
  const { t, money, language } = useShopText();
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

  const range = { min: money(config.minAmount, config.currency), max: money(config.maxAmount, config.currency) };

  function validate(): { amount: number; email: string } | null {
    const errors: FieldErrors = {};
    let amount: number | null = null;
    if (choice.kind === 'preset') {
      amount = choice.amount;
    } else {
      const parsed = parseAmount(custom);
      if (!parsed.ok) errors.amount = t(AMOUNT_ERRORS[parsed.error] ?? 'amount.format');
      else if (parsed.minor < config.minAmount || parsed.minor > config.maxAmount) errors.amount = t('form.outOfRange', range);
      else amount = parsed.minor;
    }
    const address = email.trim();
    if (!address) errors.email = t('form.emailMissing');
    else if (!EMAIL.test(address)) errors.email = t('form.emailInvalid');
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
        // The mails and the PDF come in the language the shopper sees now.
        { amount: input.amount, currency: 'EUR', email: input.email, locale: language },
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
      <h2 id={`${ids}-title`}>{t('form.title')}</h2>

      <fieldset className="amounts" aria-describedby={fieldErrors.amount ? amountErrorId : undefined}>
        <legend>{t('form.amount')}</legend>
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
            <span className="amount-tile__value">{t('form.other')}</span>
            <span className="amount-tile__currency">{t('form.otherAmount')}</span>
          </label>
        </div>
        {choice.kind === 'custom' && (
          <div className="field">
            <label htmlFor={`${ids}-custom`}>{t('form.yourAmount', { currency: config.currency })}</label>
            <div className="input-affix">
              <input
                id={`${ids}-custom`}
                ref={customRef}
                data-testid="custom-amount"
                inputMode="decimal"
                autoComplete="off"
                placeholder={t('form.amountExample')}
                value={custom}
                onChange={(e) => setCustom(e.target.value)}
                aria-invalid={fieldErrors.amount ? true : undefined}
                aria-describedby={fieldErrors.amount ? amountErrorId : `${ids}-range`}
              />
              <span className="input-affix__suffix" aria-hidden="true">{config.currency}</span>
            </div>
            <p id={`${ids}-range`} className="hint">{t('form.range', range)}</p>
          </div>
        )}
        {fieldErrors.amount && <p id={amountErrorId} className="field-error" data-testid="amount-error">{fieldErrors.amount}</p>}
      </fieldset>

      <div className="field">
        <label htmlFor={`${ids}-email`}>{t('form.email')}</label>
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
          : <p id={`${ids}-email-hint`} className="hint">{t('form.emailHint')}</p>}
      </div>

      {error && <ErrorBox error={error} />}

      <button type="submit" className="btn btn--primary btn--large" data-testid="buy" disabled={busy}>
        {busy ? t('form.creating') : t('form.buy')}
      </button>
    </form>
  );
}
