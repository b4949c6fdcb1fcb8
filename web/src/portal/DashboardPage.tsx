// Dashboard: sales, redemptions and refunds per day and the outstanding liability over time, for a
// period, a store or a billing party; and the counter figures (payments by channel and by hour).
// Charts are plain SVG: a few bars and a line need no chart library. Every figure is per currency:
// each currency gets its own totals and charts, and amounts in different currencies are never added.

import { useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { formatMoney } from '../money.ts';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';
import { ScopePicker } from './ScopePicker.tsx';

type Day = RouterOutputs['dashboard']['daily']['days'][number];
type Counter = RouterOutputs['dashboard']['counter'];

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function defaultRange(): { from: string; to: string } {
  const now = new Date();
  return { from: isoDay(new Date(now.getTime() - 29 * 86_400_000)), to: isoDay(now) };
}

const SERIES = [
  { key: 'sales', color: '#0f4c5c' },
  { key: 'redemptions', color: '#e36414' },
  { key: 'refunds', color: '#b3261e' },
] as const;

function BarChart({ days, label }: { days: Day[]; label: string }) {
  const width = 720;
  const height = 220;
  const max = Math.max(1, ...days.flatMap((d) => SERIES.map((s) => d[s.key])));
  const group = width / Math.max(1, days.length);
  const bar = Math.max(1, (group - 4) / SERIES.length);
  return (
    <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={label} className="chart" data-testid="chart-daily">
      {days.map((d, i) => SERIES.map((s, j) => {
        const h = (d[s.key] / max) * height;
        return <rect key={`${d.day}-${s.key}`} x={i * group + 2 + j * bar} y={height - h} width={bar} height={h} fill={s.color}>
          <title>{`${d.day} ${s.key}: ${formatMoney(d[s.key], d.currency)}`}</title>
        </rect>;
      }))}
      <line x1="0" y1={height} x2={width} y2={height} stroke="#999" />
      {days.length > 0 && <text x="0" y={height + 15} fontSize="11">{days[0]!.day}</text>}
      {days.length > 1 && <text x={width} y={height + 15} fontSize="11" textAnchor="end">{days[days.length - 1]!.day}</text>}
    </svg>
  );
}

function LineChart({ days, label }: { days: Day[]; label: string }) {
  const width = 720;
  const height = 160;
  const values = days.map((d) => d.outstandingAtEnd);
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, days.length - 1);
  const points = values.map((v, i) => `${i * step},${height - (v / max) * height}`).join(' ');
  return (
    <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={label} className="chart" data-testid="chart-liability">
      <polyline points={points} fill="none" stroke="#0f4c5c" strokeWidth="2" />
      <line x1="0" y1={height} x2={width} y2={height} stroke="#999" />
      {days.length > 0 && <text x={width} y="12" fontSize="11" textAnchor="end">{formatMoney(values[values.length - 1]!, days[0]!.currency)}</text>}
    </svg>
  );
}

export function DashboardPage() {
  const { client, t } = usePortal();
  const [range, setRange] = useState(defaultRange);
  const [form, setForm] = useState({ ...defaultRange(), storeId: '', billingPartyId: '' });
  const [scope, setScope] = useState<{ storeId?: string; billingPartyId?: string }>({});
  const [days, setDays] = useState<Day[] | null>(null);
  const [counter, setCounter] = useState<Counter | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    const input = { ...range, ...scope };
    setError(null);
    Promise.all([client.dashboard.daily.query(input), client.dashboard.counter.query(input)])
      .then(([daily, c]) => { setDays(daily.days); setCounter(c); }, (err) => setError(toApiError(err)));
  }, [client, range, scope]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setRange({ from: form.from, to: form.to });
    setScope({ storeId: form.storeId || undefined, billingPartyId: form.billingPartyId || undefined });
  };
  const currencies = [...new Set((days ?? []).map((d) => d.currency))];
  const daysIn = (currency: string) => (days ?? []).filter((d) => d.currency === currency);
  const total = (currency: string, k: 'sales' | 'redemptions' | 'refunds') => daysIn(currency).reduce((n, d) => n + d[k], 0);

  return (
    <section className="portal-page" aria-labelledby="dash-title">
      <h1 id="dash-title">{t('dash.title')}</h1>
      <form className="card portal-filters" onSubmit={apply}>
        <label>{t('tx.from')}<input type="date" required value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} /></label>
        <label>{t('tx.to')}<input type="date" required value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} /></label>
        <ScopePicker idPrefix="dash" value={form} onChange={(scope) => setForm({ ...form, ...scope })} />
        <button type="submit" className="btn btn--primary">{t('tx.apply')}</button>
      </form>
      {error && <ErrorBox error={error} />}
      {days && currencies.map((currency) => (
        <div key={currency} data-testid={`figures-${currency}`}>
          {currencies.length > 1 && <h2>{currency}</h2>}
          <div className="amounts__grid portal-kpis" data-testid="kpis">
            {(['sales', 'redemptions', 'refunds'] as const).map((k) => (
              <div key={k} className="card"><p className="eyebrow">{t(`dash.${k}`)}</p><p className="big-amount" data-testid={`kpi-${k}`}>{formatMoney(total(currency, k), currency)}</p></div>
            ))}
          </div>
          <div className="card">
            <h2>{t('dash.perDay')}</h2>
            <p className="chart-legend">{SERIES.map((s) => <span key={s.key}><i style={{ background: s.color }} />{t(`dash.${s.key}`)}</span>)}</p>
            <BarChart days={daysIn(currency)} label={`${t('dash.perDay')} (${currency})`} />
          </div>
          <div className="card">
            <h2>{t('dash.liability')}</h2>
            <LineChart days={daysIn(currency)} label={`${t('dash.liability')} (${currency})`} />
          </div>
        </div>
      ))}
      {counter && (
        <div className="portal-columns portal-columns--even">
          <div className="card portal-table-wrap">
            <h2>{t('counter.byChannel')}</h2>
            <table className="portal-table" data-testid="counter-channel">
              <thead><tr><th scope="col">{t('counter.channel')}</th><th scope="col">{t('counter.count')}</th><th scope="col">{t('counter.sum')}</th><th scope="col">{t('counter.average')}</th></tr></thead>
              <tbody>{counter.byChannel.map((c) => (
                <tr key={`${c.currency}-${c.channel}`}><th scope="row">{c.channel === 'till' ? t('counter.till') : t('counter.online', { provider: c.channel.split(':')[1] ?? '' })}</th>
                  <td>{c.count}</td><td>{formatMoney(c.sum, c.currency)}</td><td>{formatMoney(c.average, c.currency)}</td></tr>
              ))}</tbody>
            </table>
          </div>
          <div className="card portal-table-wrap">
            <h2>{t('counter.byHour')}</h2>
            <table className="portal-table" data-testid="counter-hour">
              <thead><tr><th scope="col">{t('counter.hour')}</th><th scope="col">{t('counter.sales')}</th><th scope="col">{t('counter.redemptions')}</th><th scope="col">{t('counter.redeemed')}</th></tr></thead>
              <tbody>{counter.byHour.filter((x) => x.sales + x.redemptions > 0).map((x) => (
                <tr key={`${x.currency}-${x.hour}`}><th scope="row">{String(x.hour).padStart(2, '0')}:00</th><td>{x.sales}</td><td>{x.redemptions}</td><td>{formatMoney(x.redeemed, x.currency)}</td></tr>
              ))}</tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}
