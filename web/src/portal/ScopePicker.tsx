// Billing party and store pickers for the portal's filters, by name. The store list narrows to the
// chosen party; store staff see only their own store, so the pickers show just that.

import { useEffect, useState } from 'react';
import type { RouterOutputs } from '../trpc.ts';
import { usePortal } from './PortalApp.tsx';

type Scopes = RouterOutputs['dashboard']['scopes'];
export interface Scope { billingPartyId: string; storeId: string }

export function ScopePicker({ value, onChange, idPrefix }: { value: Scope; onChange: (next: Scope) => void; idPrefix: string }) {
  const { client, t } = usePortal();
  const [scopes, setScopes] = useState<Scopes>({ parties: [], stores: [] });

  useEffect(() => {
    // Without the lists the filters still work (no scope); the page shows its own errors.
    client.dashboard.scopes.query().then(setScopes, () => {});
  }, [client]);

  const stores = value.billingPartyId ? scopes.stores.filter((s) => s.billingPartyId === value.billingPartyId) : scopes.stores;
  return (
    <>
      {scopes.parties.length > 0 && (
        <label htmlFor={`${idPrefix}-party`}>{t('scope.party')}
          <select id={`${idPrefix}-party`} value={value.billingPartyId}
            onChange={(e) => onChange({ billingPartyId: e.target.value, storeId: '' })}>
            <option value="">{t('scope.all')}</option>
            {scopes.parties.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          </select>
        </label>
      )}
      <label htmlFor={`${idPrefix}-store`}>{t('scope.store')}
        <select id={`${idPrefix}-store`} value={value.storeId} onChange={(e) => onChange({ ...value, storeId: e.target.value })}>
          <option value="">{t('scope.all')}</option>
          {stores.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
      </label>
    </>
  );
}
