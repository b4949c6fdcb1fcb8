// Admins: the portal's users, adding one, and requiring a second factor.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';

type User = RouterOutputs['users']['list']['users'][number];
const ROLES = ['admin', 'finance', 'support', 'store_staff'] as const;

export function UsersPage() {
  const { client, t } = usePortal();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [form, setForm] = useState({ email: '', displayName: '', role: 'finance' as (typeof ROLES)[number], storeId: '', password: '' });

  const load = useCallback(async () => setUsers((await client.users.list.query()).users), [client]);
  useEffect(() => {
    load().catch((err) => setError(toApiError(err)));
  }, [load]);

  async function act(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      await load();
    } catch (err) {
      setError(toApiError(err));
    }
  }

  const create = (e: FormEvent) => {
    e.preventDefault();
    void act(async () => {
      await client.users.create.mutate({ ...form, storeId: form.role === 'store_staff' ? form.storeId : null });
      setForm({ ...form, email: '', displayName: '', password: '' });
    });
  };

  return (
    <section className="portal-page" aria-labelledby="users-title">
      <h1 id="users-title">{t('users.title')}</h1>
      {error && <ErrorBox error={error} />}
      <div className="card portal-table-wrap">
        <table className="portal-table" data-testid="users">
          <thead>
            <tr><th scope="col">{t('users.email')}</th><th scope="col">{t('users.name')}</th><th scope="col">{t('users.role')}</th><th scope="col">{t('users.totp')}</th><th /></tr>
          </thead>
          <tbody>
            {(users ?? []).map((u) => (
              <tr key={u.userId}>
                <th scope="row">{u.email}{u.disabled && <span className="muted"> ({t('users.disabled')})</span>}</th><td>{u.displayName}</td>
                <td>
                  <select aria-label={t('users.role')} value={u.role} disabled={u.role === 'store_staff'}
                    onChange={(e) => void act(() => client.users.update.mutate({ userId: u.userId, role: e.target.value as (typeof ROLES)[number] }))}>
                    {ROLES.filter((r) => r !== 'store_staff' || u.role === 'store_staff').map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
                  </select>
                </td>
                <td>
                  {u.totpRequiredByRole ? t('users.totpByRole') : u.totpRequired ? t('users.totpRequired') : t('users.totpOptional')}
                  <span className="muted"> · {u.totpEnrolled ? t('users.enrolled') : t('users.notEnrolled')}</span>
                </td>
                <td className="actions">
                  {!u.totpRequiredByRole && (
                    <button type="button" className="btn btn--link" onClick={() => void act(() => client.users.setTotpRequired.mutate({ userId: u.userId, required: !u.totpRequired }))}>
                      {u.totpRequired ? t('users.unrequire') : t('users.require')}
                    </button>
                  )}
                  {u.totpEnrolled && (
                    <button type="button" className="btn btn--link" onClick={() => {
                      if (window.confirm(t('users.resetTotpConfirm', { email: u.email }))) void act(() => client.users.resetSecondFactor.mutate({ userId: u.userId }));
                    }}>{t('users.resetTotp')}</button>
                  )}
                  {u.lockedUntil && (
                    <button type="button" className="btn btn--link" onClick={() => void act(() => client.users.update.mutate({ userId: u.userId, unlock: true }))}>{t('users.unlock')}</button>
                  )}
                  <button type="button" className="btn btn--link" onClick={() => void act(() => client.users.update.mutate({ userId: u.userId, disabled: !u.disabled }))}>
                    {u.disabled ? t('users.enable') : t('users.disable')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="card" onSubmit={create}>
        <h2>{t('users.create')}</h2>
        <div className="field"><label htmlFor="u-email">{t('users.email')}</label>
          <input id="u-email" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} /></div>
        <div className="field"><label htmlFor="u-name">{t('users.name')}</label>
          <input id="u-name" required value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} /></div>
        <div className="field"><label htmlFor="u-role">{t('users.role')}</label>
          <select id="u-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as (typeof ROLES)[number] })}>
            {ROLES.map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
          </select></div>
        {form.role === 'store_staff' && (
          <div className="field"><label htmlFor="u-store">{t('users.store')}</label>
            <input id="u-store" required value={form.storeId} onChange={(e) => setForm({ ...form, storeId: e.target.value })} /></div>
        )}
        <div className="field"><label htmlFor="u-password">{t('users.password')}</label>
          <input id="u-password" type="password" autoComplete="new-password" required minLength={12} value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} /></div>
        <button type="submit" className="btn btn--primary">{t('users.create')}</button>
      </form>
    </section>
  );
}
