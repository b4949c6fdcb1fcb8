// One till call at a time: which call is running, and the last error (the API's, or the page's
// own check of what was typed), kept with the panel whose action caused it.

import { useState } from 'react';
import { toApiError, type ApiError } from '../errors.ts';
import type { PosKey } from '../i18n/pos.ts';
import { parseAmount } from '../money.ts';

export type Busy = null | 'lookup' | 'authorize' | 'capture' | 'void' | 'activate';
export type PosError = { where: 'voucher' | 'redeem'; error: ApiError };

/** parseAmount's messages (English) as catalogue keys. */
const AMOUNT_ERRORS: Record<string, PosKey> = {
  'Enter an amount': 'amount.empty',
  'Enter an amount like 25 or 25.50': 'amount.format',
  'At most 2 decimals': 'amount.decimals',
  'The amount must be more than 0': 'amount.positive',
};

export function usePosRequest(t: (key: PosKey) => string) {
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<PosError | null>(null);

  async function run<T>(what: NonNullable<Busy>, call: () => Promise<T>): Promise<T | null> {
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

  function localError(where: PosError['where'], appCode: string, key: PosKey) {
    setError({ where, error: { appCode, message: t(key), fields: {}, requestId: null } });
  }

  /** The typed amount in minor units, or null with the reason shown under `where`. */
  function amountOf(text: string, where: PosError['where']): number | null {
    const parsed = parseAmount(text);
    if (parsed.ok) return parsed.minor;
    localError(where, 'validation_error', AMOUNT_ERRORS[parsed.error] ?? 'amount.format');
    return null;
  }

  return { busy, error, setError, run, localError, amountOf };
}
