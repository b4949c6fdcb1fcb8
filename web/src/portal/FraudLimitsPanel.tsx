// Admin: the till's fraud limits. Velocity limits per store (blank = the scheme's default, shown
// beside it) and the terminals and client addresses locked for guessing card codes, with a button
// to lift each lock. Amounts are entered in major units and sent in minor units.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { formatTime } from './i18n.ts';

type Limits = RouterOutputs['admin']['limits'];
type LimitName = keyof Limits['defaults'];
type Lock = RouterOutputs['admin']['codeGuessLocks']['locks'][number];

const NAMES: { key: LimitName; amount: boolean }[] = [
  { key: 'cardRedemptionsPerHour', amount: false }, { key: 'cardAmountPerHour', amount: true },
  { key: 'cardRedemptionsPerDay', amount: false }, { key: 'cardAmountPerDay', amount: true },
  { key: 'terminalSoldPerDay', amount: true }, { key: 'storeSoldPerDay', amount: true }, { key: 'storeRedeemedPerDay', amount: true },
];

const show = (value: number | null, amount: boolean) => (value === null ? '–' : amount ? (value / 100).toFixed(2) : String(value));

/** A typed limit: blank = default (null); amounts in major units with at most two decimals. */
function parseLimit(text: string, amount: boolean): number | null | undefined {
  const t = text.trim().replace(',', '.');
  if (t === '') return null;
  if (!(amount ? /^\d{1,13}(\.\d{1,2})?$/ : /^\d{1,9}$/).test(t)) return undefined;
  return amount ? Math.round(Number(t) * 100) : Number(t);
}

export function FraudLimitsPanel({ storeName }: { storeName: (id: string) => string }) {
  const { client, t, language } = usePortal();
  const [limits, setLimits] = useState<Limits | null>(null);
  const [locks, setLocks] = useState<Lock[]>([]);
  const [storeId, setStoreId] = useState('');
  const [form, setForm] = useState<Record<LimitName, string>>({} as Record<LimitName, string>);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    const [l, g] = await Promise.all([client.admin.limits.query(), client.admin.codeGuessLocks.query()]);
    setLimits(l);
    setLocks(g.locks);
  }, [client]);
  useEffect(() => {
    load().catch((err) => setError(toApiError(err)));
  }, [load]);

  const pick = (id: string) => {
    setStoreId(id);
    const own = limits?.stores.find((s) => s.storeId === id)?.overrides;
    setForm(Object.fromEntries(NAMES.map(({ key, amount }) => [key, own && own[key] !== null ? show(own[key], amount) : ''])) as Record<LimitName, string>);
  };

  async function act(call: () => Promise<unknown>) {
    setError(null);
    setBusy(true);
    try {
      await call();
      await load();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  }

  const save = (e: FormEvent) => {
    e.preventDefault();
    const values = Object.fromEntries(NAMES.map(({ key, amount }) => [key, parseLimit(form[key] ?? '', amount)])) as Record<LimitName, number | null | undefined>;
    const bad = NAMES.find(({ key }) => values[key] === undefined);
    if (bad) {
      setError({ appCode: 'validation_error', message: `${t(`limits.${bad.key}`)}: ${t('limits.invalid')}`, fields: {}, requestId: null });
      return;
    }
    void act(() => client.admin.setStoreLimits.mutate({ storeId, ...(values as Record<LimitName, number | null>) }));
  };

  return (
    <div className="card portal-table-wrap" data-testid="fraud-limits">
      <h2>{t('limits.title')}</h2>
      {error && <ErrorBox error={error} />}
      <table className="portal-table" data-testid="store-limits">
        <thead><tr><th scope="col">{t('tx.store')}</th>{NAMES.map(({ key }) => <th key={key} scope="col">{t(`limits.${key}`)}</th>)}</tr></thead>
        <tbody>
          <tr><th scope="row">{t('limits.defaults')}</th>{NAMES.map(({ key, amount }) => <td key={key}>{show(limits?.defaults[key] ?? null, amount)}</td>)}</tr>
          {limits?.stores.map((s) => (
            <tr key={s.storeId}><th scope="row">{storeName(s.storeId)}{' '}
              <button type="button" className="btn btn--link" onClick={() => pick(s.storeId)}>{t('limits.edit')}</button></th>
              {NAMES.map(({ key, amount }) => <td key={key} className={s.overrides[key] !== null ? 'strong' : 'muted'}>{show(s.effective[key], amount)}</td>)}</tr>
          ))}
        </tbody>
      </table>
      {storeId && (
        <form onSubmit={save} data-testid="store-limits-form">
          <h3>{storeName(storeId)}</h3>
          <p className="muted">{t('limits.hint')}</p>
          <div className="portal-inline">
            {NAMES.map(({ key, amount }) => (
              <label key={key}>{t(`limits.${key}`)}
                <input inputMode={amount ? 'decimal' : 'numeric'} value={form[key] ?? ''} placeholder={show(limits?.defaults[key] ?? null, amount)}
                  onChange={(e) => setForm({ ...form, [key]: e.target.value })} data-testid={`limit-${key}`} /></label>
            ))}
          </div>
          <button type="submit" className="btn btn--primary" disabled={busy}>{t('limits.save')}</button>
        </form>
      )}
      <h3>{t('limits.locks')}</h3>
      {locks.length === 0 ? <p className="muted">{t('limits.noLocks')}</p> : (
        <table className="portal-table" data-testid="code-guess-locks">
          <thead><tr><th scope="col">{t('admin.subject')}</th><th scope="col">{t('limits.failures')}</th><th scope="col">{t('limits.until')}</th><th /></tr></thead>
          <tbody>{locks.map((l) => (
            <tr key={l.subject}><th scope="row" className="mono">{l.subject}</th><td>{l.failures}</td><td>{formatTime(language, l.lockedUntil)}</td>
              <td><button type="button" className="btn btn--link" disabled={busy} onClick={() => void act(() => client.admin.liftCodeGuessLock.mutate({ subject: l.subject }))}>{t('limits.lift')}</button></td></tr>
          ))}</tbody>
        </table>
      )}
    </div>
  );
}
