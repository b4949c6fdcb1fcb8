// A small demo scheme for `npm start`: a billing party, two stores, a till and a few cards.
// Everything is derived from the configured secret, so re-running finds the same rows, and the
// demo API key and card codes can be printed again at every start without storing them.

import { createHmac } from 'node:crypto';
import { deriveCardCode, formatCardCode, hashCardCode, cardCodeLast4 } from '../domain/card-code.ts';
import type { CardSecrets } from '../domain/card-secrets.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { Config } from '../infra/config.ts';
import type { Database } from '../infra/db.ts';
import type { Ledger } from './ledger.ts';
import type { UserDirectory } from './users.ts';
import { createApiClient, createTerminal } from './directory.ts';

export interface DemoScheme {
  apiKey: string;
  /** Back-office key with the finance role: clearing, statements, reports. */
  financeApiKey: string;
  /** The portal's demo admin (at /portal). */
  admin: { email: string; password: string };
  terminalId: string;
  storeIds: string[];
  cards: { code: string; available: number }[];
}

function demoUuid(secret: Buffer, label: string): string {
  const hex = createHmac('sha256', secret).update(`demo:${label}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** What seeding needs of the process's dependencies (the API's include them). */
export interface DemoSeedDeps {
  config: Config;
  db: Database;
  secrets: CardSecrets;
  pii: PiiCipher;
  users: UserDirectory;
  ledger: Ledger;
}

export async function seedDemo(deps: DemoSeedDeps): Promise<DemoScheme> {
  // Its admin password, keys and card codes are derived from the configured secret and printed:
  // fine on a development machine, a gift to anyone reading the logs anywhere else.
  if (deps.config.mode !== 'development') throw new Error(`the demo scheme is for development mode only (this is ${deps.config.mode})`);
  const { prisma } = deps.db;
  const secret = deps.secrets.deriveKey;
  const partyId = demoUuid(secret, 'party');
  const storeIds = [demoUuid(secret, 'store-1'), demoUuid(secret, 'store-2')];
  const terminalId = demoUuid(secret, 'terminal-1');
  const apiKey = 'vk_' + createHmac('sha256', secret).update('demo:api-key').digest('base64url').slice(0, 32);
  const financeApiKey = 'vb_' + createHmac('sha256', secret).update('demo:finance-api-key').digest('base64url').slice(0, 32);
  const financeClientId = demoUuid(secret, 'finance-client');

  await prisma.billingParty.upsert({
    where: { id: partyId }, update: {},
    create: { id: partyId, name: 'Centre Retail GmbH (demo)', contactEmail: deps.pii.seal('finance@centre.example') },
  });
  const storeNames = ['Bookshop (demo)', 'Café (demo)'];
  for (const [i, id] of storeIds.entries()) {
    await prisma.store.upsert({ where: { id }, update: {}, create: { id, billingPartyId: partyId, name: storeNames[i]! } });
  }
  if (!(await prisma.terminal.findUnique({ where: { id: terminalId } }))) {
    await createTerminal(prisma, { id: terminalId, storeId: storeIds[0]!, name: 'Till 1 (demo)', apiKey });
  }

  if (!(await prisma.apiClient.findUnique({ where: { id: financeClientId } }))) {
    await createApiClient(prisma, { id: financeClientId, name: 'Finance (demo)', role: 'finance', apiKey: financeApiKey });
  }

  const admin = { email: 'admin@centre.example', password: createHmac('sha256', secret).update('demo:admin-password').digest('base64url').slice(0, 16) };
  if (!(await deps.users.findByEmail(admin.email))) {
    await deps.users.create({ email: admin.email, displayName: 'Demo admin', role: 'admin', password: admin.password });
  }

  const cards: DemoScheme['cards'] = [];
  for (const [i, amount] of [5_000, 2_500, 10_000].entries()) {
    const code = deriveCardCode(secret, 'demo-card', String(i));
    const codeHash = hashCardCode(code, deps.secrets.hashKey);
    // Looked up first: the issue's idempotency record is forgotten after the retention window,
    // and issuing again would then collide with the card it made.
    const current = await deps.ledger.findCardByCodeHash(codeHash) ?? await deps.ledger.issueCard({ scope: 'demo-seed', key: `card-${i}` }, {
      codeHash, last4: cardCodeLast4(code), currency: 'EUR',
      amount: BigInt(amount), expiresAt: new Date(Date.now() + deps.config.cardValidityDays * 86_400_000),
      channel: 'pos', storeId: storeIds[0]!, terminalId,
    });
    cards.push({ code: formatCardCode(code), available: Number(current.available) });
  }
  return { apiKey, financeApiKey, admin, terminalId, storeIds, cards };
}
