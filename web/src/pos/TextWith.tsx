import type { ReactNode } from 'react';

/** A translated text with markup in its {slot}: t(key) leaves an unfilled placeholder as it is. */
export function TextWith({ text, slot, children }: { text: string; slot: string; children: ReactNode }) {
  const [before, after = ''] = text.split(`{${slot}}`);
  return <>{before}{children}{after}</>;
}
