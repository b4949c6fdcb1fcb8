// Admin: parties, stores and terminals (the key shown once works at the till until revoked),
// back-office API clients (created, rotated, expired, revoked; keys shown once), revocation that
// reaches every API replica within a second, and the audit log, searchable.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { call, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';

let h: Harness;
let admin: PortalAuth;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const user = await h.deps.users.create({ email: `admin-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'Root', role: 'admin', password: 'admin test password' });
  admin = await signIn(h, user.email, 'admin test password');
});
afterAll(async () => {
  await h?.close();
});

describe('admin', () => {
  it('creates a party, a store and a terminal whose key works until it is revoked, all in the audit log', async () => {
    const party = await trpc(h, 'mutation', 'admin.createParty', { name: 'Nordmall Retail', contactEmail: 'fin@nordmall.test' }, admin);
    const store = await trpc(h, 'mutation', 'admin.createStore', { billingPartyId: party.data.id, name: 'Nordmall Books', holdTtlSeconds: 600 }, admin);
    const terminal = await trpc(h, 'mutation', 'admin.createTerminal', { storeId: store.data.id, name: 'Till 1' }, admin);
    expect(terminal.data.apiKey).toMatch(/^vk_[\w-]{32}$/);
    const lookup = () => call(h, 'POST', '/v1/cards/lookup', { key: terminal.data.apiKey, body: { code: '0000-0000-0000-0000' } });
    expect((await lookup()).status).not.toBe(401);

    const directory = await trpc(h, 'query', 'admin.directory', undefined, admin);
    expect(directory.data.terminals.find((t: any) => t.id === terminal.data.id)).toMatchObject({
      storeId: store.data.id, apiKeyLast4: terminal.data.apiKey.slice(-4), revokedAt: null,
    });
    expect(JSON.stringify(directory.data)).not.toContain(terminal.data.apiKey); // shown once, never again

    expect((await trpc(h, 'mutation', 'admin.revokeTerminal', { terminalId: terminal.data.id }, admin)).data.revoked).toBe(true);
    expect((await lookup()).status).toBe(401);

    const log = await trpc(h, 'query', 'admin.auditLog', { text: 'Nordmall' }, admin);
    expect(log.data.entries.map((e: any) => e.action)).toEqual(['store_created', 'party_created']);
    const revoked = await trpc(h, 'query', 'admin.auditLog', { text: terminal.data.id }, admin);
    expect(revoked.data.entries.map((e: any) => e.action)).toEqual(['terminal_revoked', 'terminal_created']);
    const page = await trpc(h, 'query', 'admin.auditLog', { limit: 1 }, admin);
    const next = await trpc(h, 'query', 'admin.auditLog', { limit: 1, before: page.data.nextBefore }, admin);
    expect(Number(next.data.entries[0].id)).toBeLessThan(Number(page.data.entries[0].id));
  });

  it('refuses unknown references and bad input with 4xx', async () => {
    expect((await trpc(h, 'mutation', 'admin.createStore', { billingPartyId: randomUUID(), name: 'X' }, admin)).code).toBe('not_found');
    expect((await trpc(h, 'mutation', 'admin.createTerminal', { storeId: randomUUID(), name: 'X' }, admin)).code).toBe('not_found');
    expect((await trpc(h, 'mutation', 'admin.revokeTerminal', { terminalId: randomUUID() }, admin)).code).toBe('not_found');
    for (const bad of [{ name: '', contactEmail: 'a@b.c' }, { name: 'X', contactEmail: 'nope' }, { name: 'X', contactEmail: 'a@b.c', extra: 1 }]) {
      expect((await trpc(h, 'mutation', 'admin.createParty', bad, admin)).code).toBe('validation_error');
    }
    expect((await trpc(h, 'query', 'admin.auditLog', { text: '%_\\' }, admin)).status).toBe(200);
  });

  it('creates, lists, rotates, expires and revokes back-office API keys, each shown once and each change audited', async () => {
    const key = randomUUID();
    expect((await trpc(h, 'mutation', 'admin.createApiClient', { name: 'ERP export', role: 'finance' }, admin)).code).toBe('idempotency_key_required');
    const create = (body: unknown, idempotencyKey: string) => trpc(h, 'mutation', 'admin.createApiClient', body, { ...admin, idempotencyKey });
    const first = await create({ name: 'ERP export', role: 'finance', validDays: 90 }, key);
    expect(first.status).toBe(200);
    const { client, apiKey } = first.data;
    expect(apiKey).toMatch(/^vb_[\w-]{32}$/);
    expect(client).toMatchObject({ name: 'ERP export', role: 'finance', status: 'active', apiKeyLast4: apiKey.slice(-4) });
    expect(Date.parse(client.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    // A retried create answers with the same client and key; the same Idempotency-Key for another client is refused.
    expect((await create({ name: 'ERP export', role: 'finance', validDays: 90 }, key)).data).toMatchObject({ apiKey, client: { id: client.id } });
    expect((await create({ name: 'Other', role: 'admin' }, key)).code).toBe('idempotency_key_reused');
    expect((await create({ name: 'Party', role: 'billing_party' }, randomUUID())).code).toBe('validation_error');

    const periods = (k: string) => call(h, 'GET', '/v1/clearing/periods', { key: k });
    expect((await periods(apiKey)).status).toBe(200);
    const listed = await trpc(h, 'query', 'admin.apiClients', undefined, admin);
    expect(listed.data.clients.find((c: any) => c.id === client.id)).toMatchObject({ status: 'active' });
    expect(JSON.stringify(listed.data)).not.toContain(apiKey);

    const rotate = (idempotencyKey: string) => trpc(h, 'mutation', 'admin.rotateApiClient', { clientId: client.id }, { ...admin, idempotencyKey });
    const rotationKey = randomUUID();
    const rotated = (await rotate(rotationKey)).data;
    expect(rotated.apiKey).not.toBe(apiKey);
    expect((await periods(apiKey)).status).toBe(401);
    expect((await periods(rotated.apiKey)).status).toBe(200);
    expect((await rotate(rotationKey)).data.apiKey).toBe(rotated.apiKey); // a retry, not a second rotation
    const again = (await rotate(randomUUID())).data;
    expect((await rotate(rotationKey)).code).toBe('idempotency_key_reused'); // an old rotation cannot bring its key back
    expect((await create({ name: 'ERP export', role: 'finance', validDays: 90 }, key)).code).toBe('idempotency_key_reused');
    expect((await periods(rotated.apiKey)).status).toBe(401);
    expect((await periods(again.apiKey)).status).toBe(200);

    // Expired: refused like a revoked key.
    await h.deps.db.pool.query(`UPDATE api_clients SET expires_at = now() - interval '1 second' WHERE id = $1`, [client.id]);
    await waitFor(async () => (await periods(again.apiKey)).status === 401, 1_000, 20); // by the change notice, as on any replica
    expect((await trpc(h, 'query', 'admin.apiClients', undefined, admin)).data.clients.find((c: any) => c.id === client.id).status).toBe('expired');
    const renewed = await trpc(h, 'mutation', 'admin.setApiClientExpiry', { clientId: client.id, validDays: null }, admin);
    expect(renewed.data).toMatchObject({ status: 'active', expiresAt: null });
    expect((await periods(again.apiKey)).status).toBe(200);

    const revoked = await trpc(h, 'mutation', 'admin.revokeApiClient', { clientId: client.id }, admin);
    expect(revoked.data.status).toBe('revoked');
    expect((await periods(again.apiKey)).status).toBe(401);
    expect((await trpc(h, 'mutation', 'admin.revokeApiClient', { clientId: client.id }, admin)).data.status).toBe('revoked');
    expect((await trpc(h, 'mutation', 'admin.revokeApiClient', { clientId: randomUUID() }, admin)).code).toBe('not_found');
    expect((await rotate(randomUUID())).code).toBe('not_found');

    const log = await trpc(h, 'query', 'admin.auditLog', { text: client.id }, admin);
    expect(log.data.entries.map((e: any) => e.action)).toEqual([
      'api_client_revoked', 'api_client_revoked', 'api_client_expiry_set', 'api_client_rotated', 'api_client_rotated', 'api_client_rotated', 'api_client_created', 'api_client_created',
    ]);
  });

  it('revocation reaches a second API server on the same database within a second, without Redis', async () => {
    const other = await startHarness({ worker: false, redisUrl: null });
    try {
      const terminal = await trpc(h, 'mutation', 'admin.createTerminal', { storeId: h.storeA, name: 'Till on two replicas' }, admin);
      const { createApiClient } = await import('../../services/directory.ts');
      const { apiKey: clientKey, id: clientId } = await createApiClient(h.deps.db.prisma, { name: 'Replica test', role: 'finance' });
      const till = () => call(other, 'POST', '/v1/cards/lookup', { key: terminal.data.apiKey, body: { code: '0000-0000-0000-0000' } });
      const finance = () => call(other, 'GET', '/v1/clearing/periods', { key: clientKey });
      // Both keys are in the other server's cache, and its listener is live.
      await waitFor(async () => (other.deps.terminals as any).changes.live);
      for (let i = 0; i < 3; i++) {
        expect((await till()).status).not.toBe(401);
        expect((await finance()).status).toBe(200);
      }
      const revokedAt = Date.now();
      await trpc(h, 'mutation', 'admin.revokeTerminal', { terminalId: terminal.data.id }, admin);
      await trpc(h, 'mutation', 'admin.revokeApiClient', { clientId }, admin);
      await waitFor(async () => (await till()).status === 401 && (await finance()).status === 401, 1_000, 20);
      expect(Date.now() - revokedAt).toBeLessThan(1_000);
    } finally {
      await other.close();
    }
  });

  it('still refuses a revoked key within a second when the other server\'s listening connection was cut and the notice lost', async () => {
    const other = await startHarness({ worker: false, redisUrl: null });
    try {
      const terminal = await trpc(h, 'mutation', 'admin.createTerminal', { storeId: h.storeA, name: 'Till, listener cut' }, admin);
      const till = () => call(other, 'POST', '/v1/cards/lookup', { key: terminal.data.apiKey, body: { code: '0000-0000-0000-0000' } });
      await waitFor(async () => (other.deps.terminals as any).changes.live);
      expect((await till()).status).not.toBe(401);
      // Cut every listening connection (this file's servers both), then revoke straight away.
      const { LISTENER_APPLICATION_NAME } = await import('../../infra/key-changes.ts');
      await h.deps.db.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [LISTENER_APPLICATION_NAME]);
      const revokedAt = Date.now();
      await trpc(h, 'mutation', 'admin.revokeTerminal', { terminalId: terminal.data.id }, admin);
      await waitFor(async () => (await till()).status === 401, 1_000, 20);
      expect(Date.now() - revokedAt).toBeLessThan(1_000);
      // It listens again by itself.
      await waitFor(async () => (other.deps.terminals as any).changes.live, 5_000);
    } finally {
      await other.close();
    }
  });
});
