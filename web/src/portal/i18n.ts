// The portal's texts in English and German. Both dictionaries must have the same keys (a unit test
// checks); a key missing at run time shows as ⟦key⟧, which the browser tests look for.

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  'app.title': 'Back office',
  'nav.clearing': 'Clearing',
  'nav.users': 'Users',
  'nav.signOut': 'Sign out',
  'nav.language': 'Language',
  'signIn.title': 'Sign in to the back office',
  'signIn.email': 'E-mail',
  'signIn.password': 'Password',
  'signIn.submit': 'Sign in',
  'totp.title': 'Second factor',
  'totp.enrolIntro': 'Your administrator requires a second factor. Add this key to an authenticator app, then enter the code it shows.',
  'totp.start': 'Set up the second factor',
  'totp.secret': 'Key',
  'totp.code': 'Six-digit code',
  'totp.submit': 'Confirm',
  'clearing.title': 'Monthly clearing',
  'clearing.periods': 'Periods',
  'clearing.start': 'Start clearing',
  'clearing.period': 'Period (YYYY-MM)',
  'clearing.none': 'No period has been cleared yet.',
  'clearing.status.running': 'Running',
  'clearing.status.awaiting_approval': 'Awaiting approval',
  'clearing.status.closed': 'Closed',
  'clearing.step': 'Step: {step}, statements {done} of {total}',
  'clearing.positions': 'Positions',
  'clearing.party': 'Billing party',
  'clearing.sales': 'Sold',
  'clearing.redemptions': 'Redeemed',
  'clearing.refunds': 'Refunded',
  'clearing.breakage': 'Breakage',
  'clearing.liability': 'Liability change',
  'clearing.net': 'Net (owed to party)',
  'clearing.total': 'Total (always zero)',
  'clearing.statements': 'Statements',
  'clearing.pdf': 'PDF',
  'clearing.csv': 'CSV',
  'clearing.emailed': 'e-mailed {when}',
  'clearing.notEmailed': 'not e-mailed yet',
  'clearing.approve': 'Approve and close',
  'clearing.approveConfirm': 'Close {period}? Its statements become final and cannot change.',
  'clearing.rerun': 'Compute again',
  'clearing.temporal': 'Open the workflow in the Temporal UI',
  'clearing.closedBy': 'Closed {when} by {who}',
  'users.title': 'Users',
  'users.email': 'E-mail',
  'users.name': 'Name',
  'users.role': 'Role',
  'users.totp': 'Second factor',
  'users.totpRequired': 'required',
  'users.totpOptional': 'optional',
  'users.require': 'Require',
  'users.unrequire': 'Make optional',
  'users.create': 'Add user',
  'users.password': 'Initial password (12+ characters)',
  'users.store': 'Store id (store staff only)',
  'role.admin': 'Admin',
  'role.finance': 'Finance',
  'role.support': 'Support',
  'role.store_staff': 'Store staff',
  'common.loading': 'Loading…',
  'common.forbidden': 'Your role cannot see this page.',
} as const;

export type TextKey = keyof typeof en;

const de: Record<TextKey, string> = {
  'app.title': 'Backoffice',
  'nav.clearing': 'Abrechnung',
  'nav.users': 'Benutzer',
  'nav.signOut': 'Abmelden',
  'nav.language': 'Sprache',
  'signIn.title': 'Anmeldung im Backoffice',
  'signIn.email': 'E-Mail',
  'signIn.password': 'Passwort',
  'signIn.submit': 'Anmelden',
  'totp.title': 'Zweiter Faktor',
  'totp.enrolIntro': 'Ihr Administrator verlangt einen zweiten Faktor. Fügen Sie diesen Schlüssel einer Authenticator-App hinzu und geben Sie den angezeigten Code ein.',
  'totp.start': 'Zweiten Faktor einrichten',
  'totp.secret': 'Schlüssel',
  'totp.code': 'Sechsstelliger Code',
  'totp.submit': 'Bestätigen',
  'clearing.title': 'Monatsabrechnung',
  'clearing.periods': 'Zeiträume',
  'clearing.start': 'Abrechnung starten',
  'clearing.period': 'Zeitraum (JJJJ-MM)',
  'clearing.none': 'Noch kein Zeitraum abgerechnet.',
  'clearing.status.running': 'Läuft',
  'clearing.status.awaiting_approval': 'Wartet auf Freigabe',
  'clearing.status.closed': 'Abgeschlossen',
  'clearing.step': 'Schritt: {step}, Abrechnungen {done} von {total}',
  'clearing.positions': 'Salden',
  'clearing.party': 'Abrechnungspartei',
  'clearing.sales': 'Verkauft',
  'clearing.redemptions': 'Eingelöst',
  'clearing.refunds': 'Erstattet',
  'clearing.breakage': 'Verfall',
  'clearing.liability': 'Änderung der Verbindlichkeit',
  'clearing.net': 'Saldo (zugunsten der Partei)',
  'clearing.total': 'Summe (immer null)',
  'clearing.statements': 'Abrechnungen',
  'clearing.pdf': 'PDF',
  'clearing.csv': 'CSV',
  'clearing.emailed': 'per E-Mail versandt {when}',
  'clearing.notEmailed': 'noch nicht versandt',
  'clearing.approve': 'Freigeben und abschließen',
  'clearing.approveConfirm': '{period} abschließen? Die Abrechnungen werden endgültig und können sich nicht mehr ändern.',
  'clearing.rerun': 'Neu berechnen',
  'clearing.temporal': 'Workflow in der Temporal-Oberfläche öffnen',
  'clearing.closedBy': 'Abgeschlossen {when} von {who}',
  'users.title': 'Benutzer',
  'users.email': 'E-Mail',
  'users.name': 'Name',
  'users.role': 'Rolle',
  'users.totp': 'Zweiter Faktor',
  'users.totpRequired': 'verpflichtend',
  'users.totpOptional': 'optional',
  'users.require': 'Verlangen',
  'users.unrequire': 'Optional machen',
  'users.create': 'Benutzer anlegen',
  'users.password': 'Erstes Passwort (mindestens 12 Zeichen)',
  'users.store': 'Filial-ID (nur Filialpersonal)',
  'role.admin': 'Administrator',
  'role.finance': 'Finanzen',
  'role.support': 'Support',
  'role.store_staff': 'Filialpersonal',
  'common.loading': 'Wird geladen…',
  'common.forbidden': 'Ihre Rolle darf diese Seite nicht sehen.',
};

export const DICTIONARIES: Record<Language, Record<TextKey, string>> = { en, de };

export function translate(language: Language, key: string, vars: Record<string, string | number> = {}): string {
  const text = (DICTIONARIES[language] as Record<string, string>)[key];
  if (text === undefined) return `⟦${key}⟧`;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

export function initialLanguage(): Language {
  try {
    const stored = localStorage.getItem('voucher-portal.language');
    if (stored === 'en' || stored === 'de') return stored;
  } catch {
    // no storage
  }
  return navigator.language.toLowerCase().startsWith('de') ? 'de' : 'en';
}

export function rememberLanguage(language: Language): void {
  try {
    localStorage.setItem('voucher-portal.language', language);
  } catch {
    // no storage
  }
}
