// Billing parties, stores and terminals: the scheme's participants. Their store: Prisma for the
// back office's reads and writes, pg for the terminal-key lookup on every till call.

import type pg from 'pg';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { apiKeyLast4, BACKOFFICE_KEY_PREFIX, generateApiKey, hashApiKey } from '../domain/api-key.ts';

/** The client, or a transaction of it (so a change and its audit entry commit together). */
type Db = PrismaClient | Prisma.TransactionClient;

/** The contact address is stored sealed; readers open it with the same cipher. */
export async function createBillingParty(prisma: Db, pii: PiiCipher, p: { name: string; contactEmail: string; id?: string; locale?: string }) {
  return prisma.billingParty.create({ data: { ...p, contactEmail: pii.seal(p.contactEmail) } });
}

/** A party's language for its statements (`en`, `de`). */
export async function setBillingPartyLocale(prisma: Db, billingPartyId: string, locale: string) {
  return prisma.billingParty.update({ where: { id: billingPartyId }, data: { locale } });
}

export async function createStore(
  prisma: Db, p: { billingPartyId: string; name: string; holdTtlSeconds?: number; id?: string },
) {
  return prisma.store.create({ data: p });
}

/** Creates a terminal; the API key is returned here once and stored only as its hash. */
export async function createTerminal(
  prisma: Db, p: { storeId: string; name: string; apiKey?: string; id?: string },
): Promise<{ id: string; storeId: string; apiKey: string }> {
  const apiKey = p.apiKey ?? generateApiKey();
  const terminal = await prisma.terminal.create({
    data: { id: p.id, storeId: p.storeId, name: p.name, apiKeyHash: hashApiKey(apiKey), apiKeyLast4: apiKeyLast4(apiKey) },
  });
  return { id: terminal.id, storeId: terminal.storeId, apiKey };
}

export async function revokeTerminal(prisma: Db, terminalId: string): Promise<void> {
  await prisma.terminal.update({ where: { id: terminalId }, data: { revokedAt: new Date() } });
}

/** Creates a back-office API client; its key is returned here once and stored only as its hash. */
export async function createApiClient(
  prisma: PrismaClient,
  p: { name: string; role: 'admin' | 'finance' | 'billing_party'; billingPartyId?: string; apiKey?: string; id?: string },
): Promise<{ id: string; apiKey: string }> {
  const apiKey = p.apiKey ?? generateApiKey(BACKOFFICE_KEY_PREFIX);
  const client = await prisma.apiClient.create({
    data: {
      id: p.id, name: p.name, role: p.role, billingPartyId: p.billingPartyId ?? null,
      apiKeyHash: hashApiKey(apiKey), apiKeyLast4: apiKeyLast4(apiKey),
    },
  });
  return { id: client.id, apiKey };
}

/** Every participant, for the admin console. */
export async function listParticipants(prisma: PrismaClient) {
  const [parties, stores, terminals] = await Promise.all([
    prisma.billingParty.findMany({ orderBy: { name: 'asc' }, take: 1_000 }),
    prisma.store.findMany({ orderBy: { name: 'asc' }, take: 5_000 }),
    prisma.terminal.findMany({ orderBy: { createdAt: 'asc' }, take: 10_000 }),
  ]);
  return { parties, stores, terminals };
}

/** Stores by name: all of them, or only `storeId`. */
export async function storeNames(prisma: PrismaClient, storeId: string | null) {
  return prisma.store.findMany({
    where: storeId !== null ? { id: storeId } : {}, orderBy: { name: 'asc' }, take: 5_000,
    select: { id: true, name: true, billingPartyId: true },
  });
}

export async function billingPartyNames(prisma: PrismaClient) {
  return prisma.billingParty.findMany({ orderBy: { name: 'asc' }, take: 1_000, select: { id: true, name: true } });
}

/** A billing party's name and (sealed) contact address. */
export async function billingPartyContact(pool: pg.Pool, billingPartyId: string): Promise<{ name: string; contact_email: string } | undefined> {
  const { rows: [party] } = await pool.query<{ name: string; contact_email: string }>(
    'SELECT name, contact_email FROM billing_parties WHERE id = $1', [billingPartyId]);
  return party;
}

/** The terminal an unrevoked API key (by its SHA-256) belongs to, with its store: asked on every till call. */
export async function terminalByKeyHash(pool: pg.Pool, keyHash: string) {
  const { rows } = await pool.query<{
    terminal_id: string; store_id: string; billing_party_id: string; hold_ttl_seconds: number;
  }>({
    name: 'terminal_by_key',
    text: `SELECT t.id AS terminal_id, t.store_id, s.billing_party_id, s.hold_ttl_seconds
             FROM terminals t JOIN stores s ON s.id = t.store_id
            WHERE t.api_key_hash = $1 AND t.revoked_at IS NULL`,
    values: [keyHash],
  });
  return rows[0];
}
