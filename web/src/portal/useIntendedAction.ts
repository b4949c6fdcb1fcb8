// One Idempotency-Key per intended action. A click that fails without an answer (a dropped
// connection, a timeout) may still have moved money on the server, so the retry must carry the same
// key to be answered with the first result instead of acting twice. The key is replaced only when
// the user asks for something else (another hold, another amount) or after the action succeeded.
// While a call runs, the action is busy: its buttons are disabled and further clicks are ignored
// (a ref, not state, guards it, because a fast double click fires before React re-renders).

import { useCallback, useRef, useState } from 'react';
import { randomId } from '../trpc.ts';

export interface IntendedAction {
  /** True while a call runs: render the buttons disabled. */
  busy: boolean;
  /**
   * Runs `call` with the key of the intent named by `fingerprint` (e.g. `refund|<hold>|<amount>`);
   * resolves to undefined, without calling, when another call is still running.
   */
  run<T>(fingerprint: string, call: (idempotencyKey: string) => Promise<T>): Promise<T | undefined>;
}

export function useIntendedAction(): IntendedAction {
  const inFlight = useRef(false);
  const intent = useRef<{ fingerprint: string; key: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const run = useCallback(async <T,>(fingerprint: string, call: (idempotencyKey: string) => Promise<T>): Promise<T | undefined> => {
    if (inFlight.current) return undefined;
    inFlight.current = true;
    setBusy(true);
    if (intent.current?.fingerprint !== fingerprint) intent.current = { fingerprint, key: `portal-${randomId()}` };
    try {
      const result = await call(intent.current.key);
      intent.current = null;
      return result;
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }, []);

  return { busy, run };
}
