// The till's API key: kept in this browser's storage, sent with every request of the page's client.

import { useMemo, useRef, useState } from 'react';
import { createClient } from '../trpc.ts';

const KEY_STORAGE = 'voucher-pos.api-key';

function loadKey(): string {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

function saveKey(key: string): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Private mode without storage: the key lasts as long as the page.
  }
}

/** The key, a setter that also stores it, and one API client that always sends the current key. */
export function useTerminalClient() {
  const [apiKey, setApiKey] = useState(loadKey);
  const keyRef = useRef(apiKey);
  keyRef.current = apiKey;
  const client = useMemo(() => createClient({ apiKey: () => keyRef.current || null }), []);
  const changeKey = (key: string) => { saveKey(key); setApiKey(key); };
  return { apiKey, changeKey, client };
}

export type PosClient = ReturnType<typeof useTerminalClient>['client'];
