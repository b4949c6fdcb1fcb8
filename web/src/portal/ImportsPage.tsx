// Finance's legacy import page: upload the three files (streamed to the server's import
// directory), start an import or a dry run, follow its progress, read the rejection report, and
// accept exactly that report (or give up) when the import waits for a decision.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';

type Detail = RouterOutputs['imports']['get'];
type Listed = RouterOutputs['imports']['list']['imports'][number];
const FILES = ['vouchers', 'history', 'stores'] as const;
const FINAL = ['completed', 'rejected', 'dry_run_completed', 'failed'];

export function ImportsPage() {
  const { client, session, t } = usePortal();
  const [imports, setImports] = useState<Listed[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => setImports((await client.imports.list.query({ limit: 20 })).imports), [client]);
  useEffect(() => { load().catch((err) => setError(toApiError(err))); }, [load]);

  useEffect(() => {
    if (!selected) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const next = await client.imports.get.query({ importId: selected });
        if (stopped) return;
        setDetail(next);
        if (!FINAL.includes(next.status) && next.status !== 'awaiting_acceptance') timer = setTimeout(poll, 1_000);
        else void load();
      } catch (err) {
        if (!stopped) setError(toApiError(err));
      }
    };
    void poll();
    return () => { stopped = true; clearTimeout(timer); };
  }, [client, selected, load]);

  const upload = async (file: File): Promise<string> => {
    const res = await fetch('/v1/imports/uploads', {
      method: 'POST', body: file, credentials: 'same-origin',
      headers: { 'content-type': 'text/csv', 'x-csrf-token': session.csrfToken ?? '' },
    });
    const body = await res.json();
    if (!res.ok) throw Object.assign(new Error(body.error?.message ?? 'upload failed'), { data: { appCode: body.error?.code } });
    return body.upload as string;
  };

  const start = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const names = await Promise.all(FILES.map((f) => upload(form.get(f) as File)));
      const started = await client.imports.start.mutate({
        vouchers: names[0]!, history: names[1]!, stores: names[2]!,
        encoding: form.get('encoding') === 'latin1' ? 'latin1' : 'utf8',
        codeFormat: (form.get('codeFormat') as 'plain' | 'digits' | 'crockford') ?? 'plain',
        dryRun: form.get('dryRun') === 'on',
      });
      setSelected(started.importId);
      await load();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const decide = async (accept: boolean) => {
    if (!detail) return;
    setBusy(true);
    try {
      if (accept) await client.imports.accept.mutate({ importId: detail.id, reportSha256: detail.summary!.reportSha256 });
      else await client.imports.cancel.mutate({ importId: detail.id });
      setSelected(null);
      setSelected(detail.id);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="imports-title">
      <h1 id="imports-title">{t('imports.title')}</h1>
      {error && <ErrorBox error={error} />}
      <form onSubmit={start} className="card">
        {FILES.map((f) => (
          <label key={f}>{t(`imports.file.${f}`)} <input type="file" name={f} accept=".csv,text/csv" required /></label>
        ))}
        <label>{t('imports.encoding')} <select name="encoding"><option value="utf8">UTF-8</option><option value="latin1">Latin-1</option></select></label>
        <label>{t('imports.codeFormat')} <select name="codeFormat"><option>plain</option><option>digits</option><option>crockford</option></select></label>
        <label><input type="checkbox" name="dryRun" /> {t('imports.dryRun')}</label>
        <button type="submit" disabled={busy}>{t('imports.start')}</button>
      </form>
      {detail && (
        <div className="card" data-testid="import-detail">
          <h2>{t('imports.import')} {detail.id.slice(0, 8)} · {detail.status}</h2>
          <progress max={100} value={detail.progress?.percent ?? (FINAL.includes(detail.status) ? 100 : 0)} />
          {detail.summary && (
            <p>{t('imports.summary', { vouchers: detail.summary.vouchers, history: detail.summary.history, rejections: detail.summary.rejections })}</p>
          )}
          {detail.reconciled !== null && <p>{t('imports.reconciled')}: {String(detail.reconciled)}</p>}
          <p>
            <a href={detail.reportUrl}>{t('imports.report')}</a>
            {detail.reconciliationUrl && <> · <a href={detail.reconciliationUrl}>{t('imports.reconciliation')}</a></>}
          </p>
          {detail.status === 'awaiting_acceptance' && (
            <p>
              <button type="button" disabled={busy} onClick={() => void decide(true)}>{t('imports.accept', { n: detail.summary?.rejections ?? 0 })}</button>{' '}
              <button type="button" disabled={busy} onClick={() => void decide(false)}>{t('imports.cancel')}</button>
            </p>
          )}
          {detail.rejections.length > 0 && (
            <table>
              <thead><tr><th scope="col">file</th><th scope="col">line</th><th scope="col">reason</th><th scope="col">detail</th></tr></thead>
              <tbody>{detail.rejections.map((r) => (
                <tr key={`${r.file}-${r.line}-${r.reason}`}><td>{r.file}</td><td>{r.line}</td><td>{r.reason}</td><td>{r.detail}</td></tr>
              ))}</tbody>
            </table>
          )}
        </div>
      )}
      <table>
        <thead><tr><th scope="col">{t('imports.import')}</th><th scope="col">status</th><th scope="col">{t('imports.requestedBy')}</th></tr></thead>
        <tbody>{imports.map((i) => (
          <tr key={i.id}>
            <td><a href="#" onClick={(e) => { e.preventDefault(); setSelected(i.id); }}>{i.id.slice(0, 8)}{i.dryRun ? ' (dry run)' : ''}</a></td>
            <td>{i.status}</td><td>{i.requestedBy}</td>
          </tr>
        ))}</tbody>
      </table>
    </section>
  );
}
