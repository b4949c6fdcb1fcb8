// Admin: parties, stores and terminals (the key shown once works at the till until revoked), and
// the audit log, searchable.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { call, startHarness, type Harness } from '../helpers/harness.ts';
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
});
