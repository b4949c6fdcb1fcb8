// The redemption benchmarks' shop floor: one billing party, a store per TERMINALS_PER_STORE
// tills, and cards sold through the REST API (the same path a till uses, so the cards are exactly
// what production would hold).

import { performance } from 'node:perf_hooks';
import { PiiCipher } from '../../domain/pii-crypto.ts';
import { loadConfig } from '../../infra/config.ts';
import { connectDatabase } from '../../infra/db.ts';
import { createBillingParty, createStore, createTerminal } from '../../services/directory.ts';
import { JsonClient } from './http.ts';

const TERMINALS_PER_STORE = 4;

export interface Till {
  terminalId: string;
  apiKey: string;
  http: JsonClient;
  /** Card codes this till sells and mostly redeems; index = card number (see cardPicker). */
  cards: string[];
  seq: number;
}

export interface TillsOptions {
  databaseUrl: string;
  apiUrl: string;
  count: number;
  cardsPerTerminal: number;
  /** Minor units per card. */
  cardBalance: number;
  currency: string;
  log: (line: string) => void;
  /** Sockets per till (default 1, as a real till holds one connection). */
  maxSockets?: number;
}

/** Every till's `cards` lists all cards, in global order, so cardPicker indexes work for any till. */
export async function createTills(o: TillsOptions): Promise<Till[]> {
  const db = connectDatabase(o.databaseUrl, { max: 4 });
  const terminals: { id: string; apiKey: string }[] = [];
  try {
    const party = await createBillingParty(db.prisma, new PiiCipher(loadConfig().privacy.piiKeys), { name: 'Bench party', contactEmail: 'bench@example.test' });
    const stores = [];
    for (let s = 0; s < Math.ceil(o.count / TERMINALS_PER_STORE); s++) {
      stores.push(await createStore(db.prisma, { billingPartyId: party.id, name: `Bench store ${s + 1}` }));
    }
    for (let t = 0; t < o.count; t++) {
      const store = stores[Math.floor(t / TERMINALS_PER_STORE)]!;
      terminals.push(await createTerminal(db.prisma, { storeId: store.id, name: `Bench till ${t + 1}` }));
    }
  } finally {
    await db.close();
  }

  const started = performance.now();
  const https = terminals.map((t) => new JsonClient(o.apiUrl, { authorization: `Bearer ${t.apiKey}` }, { maxSockets: o.maxSockets ?? 1 }));
  const own = await Promise.all(https.map(async (http, t) => {
    const codes: string[] = [];
    for (let c = 0; c < o.cardsPerTerminal; c++) {
      const res = await http.request('POST', '/v1/cards', { amount: o.cardBalance, currency: o.currency },
        { 'idempotency-key': `bench-issue-${t}-${c}` });
      if (res.status !== 200) throw new Error(`issuing a card failed: ${res.status} ${JSON.stringify(res.body)}`);
      codes.push(res.body.code);
    }
    return codes;
  }));
  const all = own.flat();
  o.log(`fixtures: ${o.count} terminals in ${Math.ceil(o.count / TERMINALS_PER_STORE)} stores, ${all.length} cards `
    + `(issued over REST in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return https.map((http, i) => ({ terminalId: terminals[i]!.id, apiKey: terminals[i]!.apiKey, http, cards: all, seq: 0 }));
}
