// The back-office portal at /portal: sign-in (password, then a TOTP code when set up or required),
// then the pages the user's role may see. The session lives in an httpOnly cookie; the CSRF token
// from the sign-in answer goes with every change.

import { createContext, useContext, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ErrorBox } from '../ErrorBox.tsx';
import { toApiError, type ApiError } from '../errors.ts';
import { createClient, type Client, type RouterOutputs } from '../trpc.ts';
import { ClearingPage } from './ClearingPage.tsx';
import { UsersPage } from './UsersPage.tsx';
import { CardPage, TransactionsPage } from './TransactionsPage.tsx';
import { SupportPage } from './SupportPage.tsx';
import { CardBatchesPage } from './CardBatchesPage.tsx';
import { DashboardPage } from './DashboardPage.tsx';
import { AdminPage } from './AdminPage.tsx';
import { WebhooksPage } from './WebhooksPage.tsx';
import { ImportsPage } from './ImportsPage.tsx';
import { initialLanguage, LANGUAGES, rememberLanguage, translate, type Language, type TextKey } from './i18n.ts';

type Session = NonNullable<RouterOutputs['auth']['me']>;

interface Portal {
  client: Client;
  session: Session;
  t: (key: TextKey | string, vars?: Record<string, string | number>) => string;
  language: Language;
}

const PortalContext = createContext<Portal | null>(null);

export function usePortal(): Portal {
  const portal = useContext(PortalContext);
  if (!portal) throw new Error('usePortal outside the portal');
  return portal;
}

type Page = 'dashboard' | 'transactions' | 'support' | 'clearing' | 'batches' | 'imports' | 'users' | 'admin' | 'webhooks' | 'card';
const PAGES: { page: Page; label: TextKey; roles: string[] }[] = [
  { page: 'dashboard', label: 'nav.dashboard', roles: ['admin', 'finance', 'support', 'store_staff'] },
  { page: 'transactions', label: 'nav.transactions', roles: ['admin', 'finance', 'support', 'store_staff'] },
  { page: 'support', label: 'nav.support', roles: ['admin', 'support'] },
  { page: 'clearing', label: 'nav.clearing', roles: ['admin', 'finance'] },
  { page: 'batches', label: 'nav.batches', roles: ['admin', 'finance', 'support'] },
  { page: 'imports', label: 'nav.imports', roles: ['admin', 'finance'] },
  { page: 'users', label: 'nav.users', roles: ['admin'] },
  { page: 'admin', label: 'nav.admin', roles: ['admin'] },
  { page: 'webhooks', label: 'nav.webhooks', roles: ['admin'] },
];

function pageFromPath(): { page: Page; cardId: string | null } {
  const [, , section, id] = window.location.pathname.split('/');
  if (section === 'cards' && id) return { page: 'card', cardId: id };
  const page = PAGES.find((p) => p.page === section)?.page ?? 'dashboard';
  return { page, cardId: null };
}

export function PortalApp() {
  const [language, setLanguage] = useState<Language>(initialLanguage);
  const t = useMemo(() => (key: string, vars?: Record<string, string | number>) => translate(language, key, vars), [language]);
  const csrf = useRef<string | null>(null);
  const client = useMemo(() => createClient({ csrfToken: () => csrf.current }), []);
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [{ page, cardId }, setLocation] = useState(pageFromPath);

  const adopt = (next: Session | null) => {
    csrf.current = next?.csrfToken ?? null;
    setSession(next);
  };

  useEffect(() => {
    client.auth.me.query().then(adopt, () => adopt(null));
  }, [client]);
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = `${t('app.title')} · Centre Gift Voucher`;
  }, [language, t]);

  const languagePicker = (
    <label className="portal-language">
      <span className="visually-hidden">{t('nav.language')}</span>
      <select value={language} data-testid="language" onChange={(e) => {
        const next = e.target.value as Language;
        rememberLanguage(next);
        setLanguage(next);
      }}>
        {LANGUAGES.map((l) => <option key={l} value={l}>{l.toUpperCase()}</option>)}
      </select>
    </label>
  );

  if (session === undefined) return <p className="muted">{t('common.loading')}</p>;
  if (!session || session.pendingSecondFactor) {
    return (
      <div className="portal-auth">
        {languagePicker}
        {!session
          ? <SignIn client={client} t={t} onSignedIn={adopt} />
          : <SecondFactor client={client} t={t} session={session} onDone={adopt} />}
      </div>
    );
  }

  const allowed = PAGES.filter((p) => p.roles.includes(session.user.role));
  const go = (next: Page, card: string | null = null) => {
    window.history.pushState(null, '', card ? `/portal/cards/${card}` : `/portal/${next}`);
    setLocation({ page: next, cardId: card });
  };
  const visible = page === 'card' && cardId ? 'card' : allowed.some((p) => p.page === page) ? page : allowed[0]?.page;

  return (
    <PortalContext.Provider value={{ client, session, t, language }}>
      <div className="portal-bar">
        <nav aria-label="Portal">
          <ul className="portal-nav">
            {allowed.map((p) => (
              <li key={p.page}>
                <a href={`/portal/${p.page}`} aria-current={visible === p.page ? 'page' : undefined}
                  onClick={(e) => { e.preventDefault(); go(p.page); }}>{t(p.label)}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="portal-user">
          <span data-testid="signed-in-as">{session.user.displayName} · {t(`role.${session.user.role}`)}</span>
          {languagePicker}
          <button type="button" className="btn btn--link" onClick={async () => {
            await client.auth.signOut.mutate({}).catch(() => undefined);
            adopt(null);
          }}>{t('nav.signOut')}</button>
        </div>
      </div>
      {visible === 'dashboard' && <DashboardPage />}
      {visible === 'transactions' && <TransactionsPage onOpenCard={(id) => go('card', id)} />}
      {visible === 'card' && cardId && <CardPage key={cardId} cardId={cardId} />}
      {visible === 'support' && <SupportPage />}
      {visible === 'clearing' && <ClearingPage />}
      {visible === 'batches' && <CardBatchesPage />}
      {visible === 'imports' && <ImportsPage />}
      {visible === 'users' && <UsersPage />}
      {visible === 'admin' && <AdminPage />}
      {visible === 'webhooks' && <WebhooksPage />}
      {!visible && <p className="alert alert--warning">{t('common.forbidden')}</p>}
    </PortalContext.Provider>
  );
}

interface AuthStepProps {
  client: Client;
  t: (key: string, vars?: Record<string, string | number>) => string;
}

function Form({ title, error, onSubmit, children, testId }: { title: string; error: ApiError | null; onSubmit: () => Promise<void>; children: ReactNode; testId?: string }) {
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onSubmit();
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card portal-auth__card" onSubmit={submit} aria-busy={busy} data-testid={testId}>
      <h1>{title}</h1>
      {children}
      {error && <ErrorBox error={error} />}
    </form>
  );
}

function SignIn({ client, t, onSignedIn }: AuthStepProps & { onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  return (
    <Form title={t('signIn.title')} error={error} onSubmit={async () => {
      try {
        setError(null);
        onSignedIn(await client.auth.signIn.mutate({ email, password }));
      } catch (err) {
        setError(toApiError(err));
      }
    }}>
      <div className="field">
        <label htmlFor="email">{t('signIn.email')}</label>
        <input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="password">{t('signIn.password')}</label>
        <input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </div>
      <button type="submit" className="btn btn--primary btn--block">{t('signIn.submit')}</button>
    </Form>
  );
}

function SecondFactor({ client, t, session, onDone }: AuthStepProps & { session: Session; onDone: (s: Session) => void }) {
  const [enrolment, setEnrolment] = useState<{ uri: string; secret: string; recoveryCodes: string[] } | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const mustEnrol = session.secondFactor === 'enrol' && !enrolment;
  return (
    <Form title={t('totp.title')} error={error} testId="second-factor" onSubmit={async () => {
      try {
        setError(null);
        if (mustEnrol) setEnrolment(await client.auth.enrolTotp.mutate({}));
        else onDone(await client.auth.verifyTotp.mutate(recovery ? { recoveryCode: code } : { code }));
      } catch (err) {
        setError(toApiError(err));
      }
    }}>
      {session.secondFactor === 'enrol' && <p>{t('totp.enrolIntro')}</p>}
      {enrolment && <p>{t('totp.secret')}: <code data-testid="totp-secret">{enrolment.secret}</code></p>}
      {enrolment && (
        <div className="alert alert--warning" data-testid="recovery-codes">
          <p className="alert__title">{t('totp.recoveryTitle')}</p>
          <p>{t('totp.recoveryOnce')}</p>
          <ul className="mono">{enrolment.recoveryCodes.map((c) => <li key={c}>{c}</li>)}</ul>
        </div>
      )}
      {mustEnrol ? (
        <button type="submit" className="btn btn--primary btn--block">{t('totp.start')}</button>
      ) : (
        <>
          <div className="field">
            <label htmlFor="code">{recovery ? t('totp.recoveryCode') : t('totp.code')}</label>
            {recovery
              ? <input id="code" autoComplete="off" required minLength={16} maxLength={40} value={code} onChange={(e) => setCode(e.target.value)} />
              : <input id="code" inputMode="numeric" autoComplete="one-time-code" pattern="\d{6}" required value={code} onChange={(e) => setCode(e.target.value)} />}
          </div>
          <button type="submit" className="btn btn--primary btn--block">{t('totp.submit')}</button>
          {session.secondFactor === 'verify' && (
            <button type="button" className="btn btn--link" onClick={() => { setRecovery(!recovery); setCode(''); }}>
              {recovery ? t('totp.useCode') : t('totp.useRecovery')}
            </button>
          )}
        </>
      )}
    </Form>
  );
}
