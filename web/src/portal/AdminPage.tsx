// Admin: the scheme's billing parties, stores and terminals (a new terminal's API key is shown
// once), back-office API keys (created with an optional expiry, rotated, revoked; each new key shown
// once), and the audit log, searchable.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { formatTime } from './i18n.ts';
import { useIntendedAction } from './useIntendedAction.ts';
import { FraudLimitsPanel } from './FraudLimitsPanel.tsx';

type Directory = RouterOutputs['admin']['directory'];
type AuditEntry = RouterOutputs['admin']['auditLog']['entries'][number];
type ApiClient = RouterOutputs['admin']['apiClients']['clients'][number];
const CLIENT_ROLES = ['finance', 'admin', 'billing_party'] as const;

export function AdminPage() {
  const { client, t, language } = usePortal();
  const [dir, setDir] = useState<Directory | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const [party, setParty] = useState({ name: '', contactEmail: '' });
  const [store, setStore] = useState({ billingPartyId: '', name: '' });
  const [terminal, setTerminal] = useState({ storeId: '', name: '' });
  const [search, setSearch] = useState('');
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [apiClients, setApiClients] = useState<ApiClient[]>([]);
  const [newClient, setNewClient] = useState({ name: '', role: 'finance' as (typeof CLIENT_ROLES)[number], billingPartyId: '', validDays: '' });
  const [issued, setIssued] = useState<{ name: string; apiKey: string } | null>(null);
  // Creating and rotating mint a key: a retry after a lost answer must get the same one.
  const keyAction = useIntendedAction();

  const load = useCallback(async () => {
    const [d, log, clients] = await Promise.all([
      client.admin.directory.query(), client.admin.auditLog.query({ text: search || undefined, limit: 50 }), client.admin.apiClients.query(),
    ]);
    setDir(d);
    setEntries(log.entries);
    setApiClients(clients.clients);
  }, [client, search]);
  useEffect(() => {
    load().catch((err) => setError(toApiError(err)));
  }, [load]);

  async function act(call: () => Promise<unknown>) {
    setError(null);
    try {
      await call();
      await load();
    } catch (err) {
      setError(toApiError(err));
    }
  }
  const submit = (call: () => Promise<unknown>) => (e: FormEvent) => {
    e.preventDefault();
    void act(call);
  };
  const partyName = (id: string) => dir?.parties.find((p) => p.id === id)?.name ?? id;
  const storeName = (id: string) => dir?.stores.find((s) => s.id === id)?.name ?? id;

  return (
    <section className="portal-page" aria-labelledby="admin-title">
      <h1 id="admin-title">{t('admin.title')}</h1>
      {error && <ErrorBox error={error} />}
      {newKey && (
        <div className="alert alert--warning" data-testid="new-terminal-key">
          <p className="alert__title">{t('admin.keyOnce')}</p>
          <p><code>{newKey}</code></p>
          <button type="button" className="btn btn--link" onClick={() => setNewKey(null)}>{t('admin.keyStored')}</button>
        </div>
      )}
      <div className="portal-columns portal-columns--even">
        <form className="card" onSubmit={submit(() => client.admin.createParty.mutate(party).then(() => setParty({ name: '', contactEmail: '' })))}>
          <h2>{t('admin.parties')}</h2>
          <ul className="portal-list">{dir?.parties.map((p) => <li key={p.id}>{p.name} <span className="muted">{p.contactEmail}</span></li>)}</ul>
          <div className="field"><label htmlFor="p-name">{t('users.name')}</label><input id="p-name" required value={party.name} onChange={(e) => setParty({ ...party, name: e.target.value })} /></div>
          <div className="field"><label htmlFor="p-mail">{t('users.email')}</label><input id="p-mail" type="email" required value={party.contactEmail} onChange={(e) => setParty({ ...party, contactEmail: e.target.value })} /></div>
          <button type="submit" className="btn btn--primary">{t('admin.addParty')}</button>
        </form>
        <form className="card" onSubmit={submit(() => client.admin.createStore.mutate(store).then(() => setStore({ ...store, name: '' })))}>
          <h2>{t('admin.stores')}</h2>
          <ul className="portal-list">{dir?.stores.map((s) => <li key={s.id}>{s.name} <span className="muted">{partyName(s.billingPartyId)}</span></li>)}</ul>
          <div className="field"><label htmlFor="s-party">{t('clearing.party')}</label>
            <select id="s-party" required value={store.billingPartyId} onChange={(e) => setStore({ ...store, billingPartyId: e.target.value })}>
              <option value="" />{dir?.parties.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select></div>
          <div className="field"><label htmlFor="s-name">{t('users.name')}</label><input id="s-name" required value={store.name} onChange={(e) => setStore({ ...store, name: e.target.value })} /></div>
          <button type="submit" className="btn btn--primary">{t('admin.addStore')}</button>
        </form>
      </div>
      <form className="card portal-table-wrap" onSubmit={submit(async () => {
        const created = await client.admin.createTerminal.mutate(terminal);
        setNewKey(created.apiKey);
        setTerminal({ ...terminal, name: '' });
      })}>
        <h2>{t('admin.terminals')}</h2>
        <table className="portal-table" data-testid="terminals">
          <thead><tr><th scope="col">{t('users.name')}</th><th scope="col">{t('tx.store')}</th><th scope="col">{t('admin.key')}</th><th /></tr></thead>
          <tbody>{dir?.terminals.map((x) => (
            <tr key={x.id}><th scope="row">{x.name}</th><td>{storeName(x.storeId)}</td><td className="mono">…{x.apiKeyLast4}</td>
              <td>{x.revokedAt ? t('admin.revoked') : (
                <button type="button" className="btn btn--link" onClick={() => void act(() => client.admin.revokeTerminal.mutate({ terminalId: x.id }))}>{t('admin.revoke')}</button>
              )}</td></tr>
          ))}</tbody>
        </table>
        <div className="portal-inline">
          <label htmlFor="t-store">{t('tx.store')}</label>
          <select id="t-store" required value={terminal.storeId} onChange={(e) => setTerminal({ ...terminal, storeId: e.target.value })}>
            <option value="" />{dir?.stores.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
          <label htmlFor="t-name">{t('users.name')}</label>
          <input id="t-name" required value={terminal.name} onChange={(e) => setTerminal({ ...terminal, name: e.target.value })} />
          <button type="submit" className="btn btn--primary">{t('admin.addTerminal')}</button>
        </div>
      </form>
      <form className="card portal-table-wrap" data-testid="api-clients-card" onSubmit={submit(async () => {
        const input = {
          name: newClient.name, role: newClient.role, billingPartyId: newClient.role === 'billing_party' ? newClient.billingPartyId : null,
          validDays: newClient.validDays ? Number(newClient.validDays) : null,
        };
        const result = await keyAction.run(`create|${JSON.stringify(input)}`, (idempotencyKey) => client.admin.createApiClient.mutate(input, { context: { idempotencyKey } }));
        if (!result) return;
        setIssued({ name: result.client.name, apiKey: result.apiKey });
        setNewClient({ ...newClient, name: '', validDays: '' });
      })}>
        <h2>{t('admin.apiClients')}</h2>
        {issued && (
          <div className="alert alert--warning" data-testid="new-client-key">
            <p className="alert__title">{t('admin.clientKeyOnce', { name: issued.name })}</p>
            <p><code>{issued.apiKey}</code></p>
            <button type="button" className="btn btn--link" onClick={() => setIssued(null)}>{t('admin.keyStored')}</button>
          </div>
        )}
        <table className="portal-table" data-testid="api-clients">
          <thead><tr><th scope="col">{t('users.name')}</th><th scope="col">{t('users.role')}</th><th scope="col">{t('admin.key')}</th>
            <th scope="col">{t('admin.expires')}</th><th scope="col">{t('admin.status')}</th><th /></tr></thead>
          <tbody>{apiClients.map((c) => (
            <tr key={c.id}><th scope="row">{c.name}</th>
              <td>{t(`role.${c.role}`)}{c.billingPartyId ? ` (${partyName(c.billingPartyId)})` : ''}</td>
              <td className="mono">…{c.apiKeyLast4}</td><td>{c.expiresAt ? formatTime(language, c.expiresAt) : t('admin.never')}</td>
              <td>{t(`admin.status.${c.status}`)}</td>
              <td className="actions">{c.status === 'active' && (
                <>
                  <button type="button" className="btn btn--link" disabled={keyAction.busy} onClick={() => void act(async () => {
                    const result = await keyAction.run(`rotate|${c.id}`, (idempotencyKey) => client.admin.rotateApiClient.mutate({ clientId: c.id }, { context: { idempotencyKey } }));
                    if (result) setIssued({ name: result.client.name, apiKey: result.apiKey });
                  })}>{t('admin.rotate')}</button>
                  <button type="button" className="btn btn--link" onClick={() => void act(() => client.admin.revokeApiClient.mutate({ clientId: c.id }))}>{t('admin.revoke')}</button>
                </>
              )}</td></tr>
          ))}</tbody>
        </table>
        <div className="portal-inline">
          <label htmlFor="c-name">{t('users.name')}</label>
          <input id="c-name" required maxLength={120} value={newClient.name} onChange={(e) => setNewClient({ ...newClient, name: e.target.value })} />
          <label htmlFor="c-role">{t('users.role')}</label>
          <select id="c-role" value={newClient.role} onChange={(e) => setNewClient({ ...newClient, role: e.target.value as (typeof CLIENT_ROLES)[number] })}>
            {CLIENT_ROLES.map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
          </select>
          {newClient.role === 'billing_party' && (
            <select aria-label={t('clearing.party')} required value={newClient.billingPartyId} onChange={(e) => setNewClient({ ...newClient, billingPartyId: e.target.value })}>
              <option value="" />{dir?.parties.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          )}
          <label htmlFor="c-days">{t('admin.validDays')}</label>
          <input id="c-days" type="number" min={1} max={3650} value={newClient.validDays} onChange={(e) => setNewClient({ ...newClient, validDays: e.target.value })} />
          <button type="submit" className="btn btn--primary" disabled={keyAction.busy}>{t('admin.addClient')}</button>
        </div>
      </form>
      <FraudLimitsPanel storeName={storeName} />
      <div className="card portal-table-wrap">
        <h2>{t('admin.audit')}</h2>
        <label className="portal-inline">{t('admin.search')}<input value={search} onChange={(e) => setSearch(e.target.value)} data-testid="audit-search" /></label>
        <table className="portal-table" data-testid="audit">
          <thead><tr><th scope="col">{t('tx.time')}</th><th scope="col">{t('admin.actor')}</th><th scope="col">{t('admin.action')}</th><th scope="col">{t('admin.subject')}</th></tr></thead>
          <tbody>{entries.map((e) => (
            <tr key={e.id}><th scope="row">{formatTime(language, e.at)}</th><td>{e.actor}</td><td>{e.action}</td><td className="mono">{e.subject}</td></tr>
          ))}</tbody>
        </table>
      </div>
    </section>
  );
}
