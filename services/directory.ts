// Billing parties, stores and terminals: the scheme's participants.

import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { apiKeyLast4, BACKOFFICE_KEY_PREFIX, generateApiKey, hashApiKey } from '../domain/api-key.ts';

/** The client, or a transaction of it (so a change and its audit entry commit together). */
type Db = PrismaClient | Prisma.TransactionClient;

/** The contact address is stored sealed; readers open it with the same cipher. */
export async function createBillingParty(prisma: Db, pii: PiiCipher, p: { name: string; contactEmail: string; id?: string; locale?: string }) {
  return prisma.billingParty.create({ data: { ...p, contactEmail: pii.seal(p.contactEmail) } });
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
