// The till's API key: shown as saved (last four characters) or as a form to enter or change it.

import { useState } from 'react';
import { usePosText } from '../i18n/pos.ts';
import { TextWith } from './TextWith.tsx';

export function TerminalKey({ apiKey, onChange }: { apiKey: string; onChange: (key: string) => void }) {
  const { t } = usePosText();
  const [editing, setEditing] = useState(!apiKey);
  const [draft, setDraft] = useState(apiKey);

  if (!editing && apiKey) {
    return (
      <div className="card terminal-key terminal-key--set" data-testid="api-key-set">
        <p>
          <span className="dot dot--ok" aria-hidden="true" />{' '}
          <TextWith text={t('key.saved')} slot="last4"><span className="mono">{apiKey.slice(-4)}</span></TextWith>
        </p>
        <button type="button" className="btn btn--link" onClick={() => { setDraft(''); setEditing(true); }}>{t('key.change')}</button>
      </div>
    );
  }
  return (
    <form
      className="card terminal-key"
      onSubmit={(e) => { e.preventDefault(); onChange(draft.trim()); setEditing(!draft.trim()); }}
    >
      <div className="field">
        <label htmlFor="pos-api-key">{t('key.label')}</label>
        <input
          id="pos-api-key"
          data-testid="api-key"
          type="password"
          autoComplete="off"
          placeholder="vk_…"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <p className="hint"><TextWith text={t('key.hint')} slot="header"><code>Authorization: Bearer …</code></TextWith></p>
      </div>
      <div className="actions">
        <button type="submit" className="btn btn--primary" data-testid="save-api-key">{t('key.save')}</button>
        {apiKey && <button type="button" className="btn btn--secondary" onClick={() => setEditing(false)}>{t('key.cancel')}</button>}
      </div>
    </form>
  );
}
