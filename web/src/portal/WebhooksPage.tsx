// Webhooks (admins): register endpoints (the signing secret is shown once), enable and disable
// them, rotate a secret with an overlap, and see each endpoint's deliveries: status, attempts, last
// response and the next attempt, with "send again" for one event.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { formatTime } from './i18n.ts';
import { useIntendedAction } from './useIntendedAction.ts';

type Endpoint = RouterOutputs['webhooks']['list']['endpoints'][number];
type Delivery = RouterOutputs['webhooks']['deliveries']['deliveries'][number];

export function WebhooksPage() {
  const { client, t, language } = usePortal();
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const [types, setTypes] = useState<{ type: string; description: string }[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [form, setForm] = useState({ url: '', description: '', eventTypes: [] as string[] });
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [overlap, setOverlap] = useState('24');
  const [notice, setNotice] = useState<string | null>(null);
  // Creating, rotating and redelivering are keyed: a retry after a lost answer gets the first result.
  const action = useIntendedAction();

  const load = useCallback(async () => {
    const [list, eventTypes] = await Promise.all([client.webhooks.list.query(), client.webhooks.eventTypes.query()]);
    setEndpoints(list.endpoints);
    setTypes(eventTypes.types);
  }, [client]);
  const loadDeliveries = useCallback(async (endpointId: string) => {
    setDeliveries((await client.webhooks.deliveries.query({ endpointId, limit: '50' })).deliveries);
  }, [client]);
  useEffect(() => {
    load().catch((err) => setError(toApiError(err)));
  }, [load]);
  useEffect(() => {
    if (!open) return;
    loadDeliveries(open).catch((err) => setError(toApiError(err)));
  }, [open, loadDeliveries]);

  async function act(call: () => Promise<unknown>) {
    setError(null);
    setNotice(null);
    try {
      await call();
      await load();
      if (open) await loadDeliveries(open);
    } catch (err) {
      setError(toApiError(err));
    }
  }

  const create = (e: FormEvent) => {
    e.preventDefault();
    const input = { url: form.url, description: form.description, eventTypes: form.eventTypes.length ? form.eventTypes : ['*'] };
    void act(async () => {
      const created = await action.run(`create|${JSON.stringify(input)}`, (idempotencyKey) => client.webhooks.create.mutate(input, { context: { idempotencyKey } }));
      if (created) {
        setSecret({ url: created.endpoint.url, secret: created.secret });
        setForm({ url: '', description: '', eventTypes: [] });
      }
    });
  };
  const time = (iso: string | null) => (iso ? formatTime(language, iso) : '–');

  return (
    <section className="portal-page" aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">{t('webhooks.title')}</h1>
      <p className="muted">{t('webhooks.intro')}</p>
      {error && <ErrorBox error={error} />}
      {notice && <p className="alert" role="status">{notice}</p>}
      {secret && (
        <div className="alert alert--warning" data-testid="webhook-secret">
          <p className="alert__title">{t('webhooks.secretOnce', { url: secret.url })}</p>
          <p><code>{secret.secret}</code></p>
          <button type="button" className="btn btn--link" onClick={() => setSecret(null)}>{t('webhooks.secretStored')}</button>
        </div>
      )}
      <div className="card">
        {endpoints.length === 0 ? <p className="muted">{t('webhooks.none')}</p> : (
          <table className="table" data-testid="webhook-endpoints">
            <thead><tr><th>{t('webhooks.url')}</th><th>{t('webhooks.events')}</th><th>{t('webhooks.status')}</th><th /></tr></thead>
            <tbody>
              {endpoints.map((ep) => (
                <tr key={ep.id}>
                  <td><code>{ep.url}</code>{ep.description && <div className="muted">{ep.description}</div>}<div className="muted">…{ep.secretLast4}</div></td>
                  <td>{ep.eventTypes.includes('*') ? t('webhooks.allEvents') : ep.eventTypes.join(', ')}</td>
                  <td>{ep.enabled ? t('webhooks.enabled') : ep.disabledReason === 'failing' ? t('webhooks.disabledFailing', { since: time(ep.failingSince) }) : t('webhooks.disabled')}</td>
                  <td>
                    <button type="button" className="btn btn--link" onClick={() => void act(() => client.webhooks.update.mutate({ endpointId: ep.id, enabled: !ep.enabled }))}>
                      {ep.enabled ? t('webhooks.disable') : t('webhooks.enable')}
                    </button>
                    <button type="button" className="btn btn--link" disabled={action.busy} onClick={() => void act(async () => {
                      const rotated = await action.run(`rotate|${ep.id}|${overlap}`, (idempotencyKey) => client.webhooks.rotateSecret.mutate({ endpointId: ep.id, overlapHours: Number(overlap) }, { context: { idempotencyKey } }));
                      if (rotated) setSecret({ url: rotated.endpoint.url, secret: rotated.secret });
                    })}>{t('webhooks.rotate')}</button>
                    <button type="button" className="btn btn--link" onClick={() => setOpen(open === ep.id ? null : ep.id)}>{t('webhooks.show')}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="field">
          <label htmlFor="wh-overlap">{t('webhooks.overlap')}</label>
          <input id="wh-overlap" type="number" min={0} max={168} value={overlap} onChange={(e) => setOverlap(e.target.value)} />
        </div>
      </div>

      {open && (
        <div className="card" data-testid="webhook-deliveries">
          <h2>{t('webhooks.deliveries')}</h2>
          {deliveries.length === 0 ? <p className="muted">{t('webhooks.noDeliveries')}</p> : (
            <table className="table">
              <thead><tr><th>{t('webhooks.event')}</th><th>{t('webhooks.status')}</th><th>{t('webhooks.attempts')}</th><th>{t('webhooks.lastResponse')}</th><th>{t('webhooks.nextAttempt')}</th><th /></tr></thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr key={d.id}>
                    <td><code>{d.eventType}</code><div className="muted">{d.eventId}</div></td>
                    <td>{t(`webhooks.status.${d.status}`)}</td>
                    <td>{d.attempts}</td>
                    <td>{d.lastStatusCode ?? d.lastError ?? '–'}<div className="muted">{time(d.lastAttemptAt)}</div></td>
                    <td>{time(d.nextAttemptAt)}</td>
                    <td>
                      <button type="button" className="btn btn--link" disabled={action.busy} onClick={() => void act(async () => {
                        const r = await action.run(`redeliver|${open}|${d.eventId}`, (idempotencyKey) => client.webhooks.redeliver.mutate({ endpointId: open, eventId: d.eventId }, { context: { idempotencyKey } }));
                        if (r) setNotice(t('webhooks.redelivered', { id: r.deliveryId }));
                      })}>{t('webhooks.redeliver')}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}

      <form className="card" onSubmit={create}>
        <h2>{t('webhooks.add')}</h2>
        <div className="field"><label htmlFor="wh-url">{t('webhooks.url')}</label>
          <input id="wh-url" type="url" required placeholder="https://" value={form.url} onChange={(e) => setForm({ ...form, url: e.target.value })} /></div>
        <div className="field"><label htmlFor="wh-desc">{t('webhooks.description')}</label>
          <input id="wh-desc" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} /></div>
        <fieldset className="field">
          <legend>{t('webhooks.events')}</legend>
          <p className="muted">{t('webhooks.noneMeansAll')}</p>
          {types.map((ty) => (
            <label key={ty.type} className="checkbox" title={ty.description}>
              <input type="checkbox" checked={form.eventTypes.includes(ty.type)} onChange={(e) => setForm({
                ...form, eventTypes: e.target.checked ? [...form.eventTypes, ty.type] : form.eventTypes.filter((x) => x !== ty.type),
              })} /> <code>{ty.type}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" className="btn btn--primary" disabled={action.busy}>{t('webhooks.add')}</button>
      </form>
    </section>
  );
}
