// Every procedure, every role: only the roles a procedure is for get past its door. Enumerates the
// router, so a new procedure without an entry here fails the first test.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { appRouter } from '../../api/router.ts';
import { restProcedures } from '../../api/rest.ts';
import { createApiClient } from '../../services/directory.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';
import { periodIn } from '../../domain/period.ts';

type Role = 'admin' | 'finance' | 'support' | 'store_staff' | 'billing_party';

/** Who each back-office procedure is for. */
const EXPECTED: Record<string, Role[]> = {
  'clearing.list': ['admin', 'finance', 'billing_party'],
  'clearing.get': ['admin', 'finance', 'billing_party'],
  'clearing.start': ['admin', 'finance'],
  'clearing.rerun': ['admin', 'finance'],
  'clearing.approve': ['admin', 'finance'],
  'reports.period': ['admin', 'finance', 'billing_party'],
  'users.list': ['admin'],
  'users.create': ['admin'],
  'users.setTotpRequired': ['admin'],
  'users.update': ['admin'],
  'users.resetSecondFactor': ['admin'],
  'transactions.list': ['admin', 'finance', 'support', 'store_staff'],
  'transactions.get': ['admin', 'finance', 'support', 'store_staff'],
  'transactions.card': ['admin', 'finance', 'support', 'store_staff'],
  'transactions.capture': ['admin', 'support', 'store_staff'],
  'transactions.void': ['admin', 'support', 'store_staff'],
  'transactions.refund': ['admin', 'support'],
  'transactions.setCardBlocked': ['admin', 'support'],
  'transactions.resendVoucher': ['admin', 'support'],
  'support.stuck': ['admin', 'support'],
  'support.retryNow': ['admin', 'support'],
  'support.cancel': ['admin', 'support'],
  'dashboard.scopes': ['admin', 'finance', 'support', 'store_staff'],
  'dashboard.daily': ['admin', 'finance', 'support', 'store_staff'],
  'dashboard.counter': ['admin', 'finance', 'support', 'store_staff'],
  'admin.directory': ['admin'],
  'admin.createParty': ['admin'],
  'admin.setPartyLocale': ['admin'],
  'admin.createStore': ['admin'],
  'admin.createTerminal': ['admin'],
  'admin.revokeTerminal': ['admin'],
  'admin.apiClients': ['admin'],
  'admin.createApiClient': ['admin'],
  'admin.rotateApiClient': ['admin'],
  'admin.setApiClientExpiry': ['admin'],
  'admin.revokeApiClient': ['admin'],
  'admin.auditLog': ['admin'],
  'admin.limits': ['admin'],
  'admin.setStoreLimits': ['admin'],
  'admin.codeGuessLocks': ['admin'],
  'admin.liftCodeGuessLock': ['admin'],
  'cards.activities': ['admin', 'finance', 'support', 'store_staff'],
  'cards.deactivate': ['admin', 'support'],
  'cards.clearBalance': ['admin', 'support'],
  'cards.adjust': ['admin', 'finance', 'support'],
  'cards.adjustments': ['admin', 'finance', 'support'],
  'cards.decideAdjustment': ['admin', 'finance', 'support'],
  'cards.transfer': ['admin', 'support'],
  'cards.extendExpiry': ['admin', 'support'],
  'cardBatches.create': ['admin', 'finance'],
  'cardBatches.list': ['admin', 'finance', 'support'],
  'cardBatches.get': ['admin', 'finance', 'support'],
  'cardBatches.decide': ['admin'],
  'cardBatches.void': ['admin', 'finance'],
  'cardBatches.serials': ['admin', 'finance', 'support'],
  'cardBatches.findBySerial': ['admin', 'finance', 'support'],
  'webhooks.eventTypes': ['admin'],
  'webhooks.list': ['admin'],
  'webhooks.create': ['admin'],
  'webhooks.update': ['admin'],
  'webhooks.rotateSecret': ['admin'],
  'webhooks.deliveries': ['admin'],
  'webhooks.redeliver': ['admin'],
  'imports.list': ['admin', 'finance'],
  'imports.get': ['admin', 'finance'],
  'imports.start': ['admin', 'finance'],
  'imports.accept': ['admin', 'finance'],
  'imports.cancel': ['admin', 'finance'],
  'settlement.bankDetails': ['admin', 'finance'],
  'settlement.proposeBankDetails': ['admin', 'finance'],
  'settlement.decideBankDetails': ['admin', 'finance'],
  'settlement.start': ['admin', 'finance'],
  'settlement.get': ['admin', 'finance', 'billing_party'],
};
/** Open to anyone (the shop, sign-in) or to tills (their own API key). */
const PUBLIC = /^(shop|auth)\./;
const TERMINAL = /^pos\./;

/** The open period in the centre's time zone (on the last evening of a month in UTC, Berlin is in the next). */
const current = () => periodIn(new Date(), h.config.clearingTimeZone);
const SAMPLE: Record<string, () => unknown> = {
  'clearing.get': () => ({ period: '2024-02' }),
  'clearing.start': () => ({ period: current() }),
  'clearing.rerun': () => ({ period: '2024-02' }),
  'clearing.approve': () => ({ period: '2024-02' }),
  'reports.period': () => ({ period: '2024-02' }),
  'users.create': () => ({ email: `new-${randomUUID().slice(0, 8)}@centre.test`, displayName: 'New', role: 'support', password: 'a long enough password' }),
  'users.setTotpRequired': () => ({ userId: randomUUID(), required: false }),
  'users.update': () => ({ userId: randomUUID(), unlock: true }),
  'users.resetSecondFactor': () => ({ userId: randomUUID() }),
  'admin.setStoreLimits': () => ({ storeId: randomUUID(), cardRedemptionsPerHour: null, cardAmountPerHour: null, cardRedemptionsPerDay: null, cardAmountPerDay: null, terminalSoldPerDay: null, storeSoldPerDay: null, storeRedeemedPerDay: null }),
  'admin.liftCodeGuessLock': () => ({ subject: 'address:192.0.2.1' }),
  'imports.get': () => ({ importId: randomUUID() }),
  'imports.start': () => ({ vouchers: `${randomUUID()}.csv`, history: `${randomUUID()}.csv`, stores: `${randomUUID()}.csv` }),
  'imports.accept': () => ({ importId: randomUUID(), reportSha256: 'a'.repeat(64) }),
  'imports.cancel': () => ({ importId: randomUUID() }),
  'transactions.get': () => ({ entryId: '999999999' }),
  'transactions.card': () => ({ cardId: randomUUID() }),
  'transactions.capture': () => ({ holdId: randomUUID() }),
  'transactions.void': () => ({ holdId: randomUUID() }),
  'transactions.refund': () => ({ holdId: randomUUID() }),
  'transactions.setCardBlocked': () => ({ cardId: randomUUID(), blocked: true }),
  'transactions.resendVoucher': () => ({ cardId: randomUUID() }),
  'support.stuck': () => ({ thresholdMinutes: 60 }),
  'support.retryNow': () => ({ workflowId: `purchase-${randomUUID()}` }),
  'support.cancel': () => ({ workflowId: `redemption-${randomUUID()}-none` }),
  'dashboard.daily': () => ({ from: '2024-02-01', to: '2024-02-29' }),
  'dashboard.counter': () => ({ from: '2024-02-01', to: '2024-02-29' }),
  'admin.createParty': () => ({ name: 'Matrix party', contactEmail: 'matrix@centre.test' }),
  'admin.setPartyLocale': () => ({ billingPartyId: randomUUID(), locale: 'de' }),
  'admin.createStore': () => ({ billingPartyId: randomUUID(), name: 'Matrix store' }),
  'admin.createTerminal': () => ({ storeId: randomUUID(), name: 'Matrix till' }),
  'admin.revokeTerminal': () => ({ terminalId: randomUUID() }),
  'admin.createApiClient': () => ({ name: 'Matrix client', role: 'billing_party' }),
  'admin.rotateApiClient': () => ({ clientId: randomUUID() }),
  'admin.setApiClientExpiry': () => ({ clientId: randomUUID(), validDays: 1 }),
  'admin.revokeApiClient': () => ({ clientId: randomUUID() }),
  'admin.auditLog': () => ({ text: 'sign_in' }),
  'cards.activities': () => ({ cardId: randomUUID() }),
  'cards.deactivate': () => ({ cardId: randomUUID(), reason: 'matrix' }),
  'cards.clearBalance': () => ({ cardId: randomUUID(), reason: 'support_issue' }),
  'cards.adjust': () => ({ cardId: randomUUID(), direction: 'up', amount: 1, reason: 'matrix' }),
  'cards.adjustments': () => ({}),
  'cards.decideAdjustment': () => ({ adjustmentId: randomUUID(), approve: false }),
  'cards.transfer': () => ({ cardId: randomUUID(), toCardId: randomUUID() }),
  'cards.extendExpiry': () => ({ cardId: randomUUID(), expiresAt: '2030-01-01T00:00:00Z', reason: 'matrix' }),
  // An unknown store: refused (404) after the role check, so no batch is ordered.
  'cardBatches.create': () => ({ count: 1, faceValue: 100, currency: 'EUR', validityDays: 30, issuingStoreId: randomUUID() }),
  'cardBatches.get': () => ({ batchId: randomUUID() }),
  'cardBatches.decide': () => ({ batchId: randomUUID(), approve: false }),
  'cardBatches.void': () => ({ batchId: randomUUID(), reason: 'matrix' }),
  'cardBatches.serials': () => ({ batchId: randomUUID() }),
  'cardBatches.findBySerial': () => ({ serial: 'SC00000-000000' }),
  'webhooks.create': () => ({ url: 'https://hooks.example.com/matrix', eventTypes: ['card.created'], enabled: false }),
  'webhooks.update': () => ({ endpointId: randomUUID(), enabled: false }),
  'webhooks.rotateSecret': () => ({ endpointId: randomUUID() }),
  'webhooks.deliveries': () => ({ endpointId: randomUUID() }),
  'webhooks.redeliver': () => ({ endpointId: randomUUID(), eventId: `evt_${'b'.repeat(32)}` }),
  'settlement.bankDetails': () => ({}),
  // A party that does not exist: refused (404) after the role check, changing nothing.
  'settlement.proposeBankDetails': () => ({ billingPartyId: randomUUID(), iban: 'DE02120300000000202051', bic: 'BYLADEM1001', accountHolder: 'Matrix', mandate: null }),
  'settlement.decideBankDetails': () => ({ billingPartyId: randomUUID(), approve: false }),
  'settlement.start': () => ({ period: '2024-02' }),
  'settlement.get': () => ({ period: '2024-02' }),
};

const procedures = Object.entries((appRouter as any)._def.procedures as Record<string, { _def: { type: 'query' | 'mutation'; meta?: { roles?: string[] } } }>)
  .map(([path, p]) => ({ path, type: p._def.type, roles: p._def.meta?.roles ?? null }));

let h: Harness;
const principals: { name: string; role: Role | null; auth: PortalAuth; kind: 'user' | 'api_client' | 'terminal' | 'anonymous' }[] = [];

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const password = 'role matrix password';
  for (const role of ['admin', 'finance', 'support', 'store_staff'] as const) {
    const user = await h.deps.users.create({
      email: `${role}-${randomUUID().slice(0, 6)}@centre.test`, displayName: role, role, password,
      storeId: role === 'store_staff' ? h.storeA : null,
    });
    const { cookie, csrf } = await signIn(h, user.email, password);
    principals.push({ name: `user ${role}`, role, auth: { cookie, csrf }, kind: 'user' });
  }
  for (const role of ['admin', 'finance', 'billing_party'] as const) {
    const { apiKey } = await createApiClient(h.deps.db.prisma, {
      name: `client ${role}`, role, billingPartyId: role === 'billing_party' ? h.billingPartyId : undefined,
    });
    principals.push({ name: `API client ${role}`, role, auth: { key: apiKey }, kind: 'api_client' });
  }
  principals.push({ name: 'terminal', role: null, auth: { key: h.terminalA.apiKey }, kind: 'terminal' });
  principals.push({ name: 'anonymous', role: null, auth: {}, kind: 'anonymous' });
});
afterAll(async () => {
  await h?.close();
});

describe('role matrix', () => {
  it('knows every procedure: each is public, for tills, or for named back-office roles', () => {
    for (const p of procedures) {
      if (PUBLIC.test(p.path) || TERMINAL.test(p.path)) {
        expect(p.roles, p.path).toBeNull();
      } else {
        expect(EXPECTED[p.path], `${p.path} needs an entry in EXPECTED`).toBeDefined();
        expect([...p.roles!].sort(), p.path).toEqual([...EXPECTED[p.path]!].sort());
      }
    }
    expect(Object.keys(EXPECTED).every((path) => procedures.some((p) => p.path === path))).toBe(true);
  });

  it('over tRPC, lets exactly the allowed roles through every back-office procedure', async () => {
    const outcomes: string[] = [];
    for (const p of procedures.filter((x) => EXPECTED[x.path])) {
      for (const who of principals) {
        const res = await trpc(h, p.type, p.path, SAMPLE[p.path]?.(), who.auth);
        const allowed = who.role !== null && EXPECTED[p.path]!.includes(who.role);
        const expected = allowed ? 'through' : who.kind === 'anonymous' || who.kind === 'terminal' ? 'unauthenticated' : 'forbidden';
        const got = res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : 'through';
        if (got !== expected) outcomes.push(`${p.path} as ${who.name}: expected ${expected}, got ${res.status} ${res.code}`);
        expect(res.status, `${p.path} as ${who.name}`).toBeLessThan(500);
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('over REST, lets exactly the allowed API clients through every back-office endpoint', async () => {
    const outcomes: string[] = [];
    const rest = restProcedures(appRouter).filter((r) => EXPECTED[r.path]);
    expect(rest.length).toBeGreaterThan(0);
    for (const route of rest) {
      for (const who of principals.filter((x) => x.kind !== 'user')) {
        // A month that has not ended: start is refused (422) after the role check, and starts nothing.
        const url = route.url.replace(':period', route.url.endsWith('/start') ? current() : '2024-02');
        const res = await call(h, route.method, url, { key: who.auth.key ?? null, idempotencyKey: randomUUID() });
        const allowed = who.role !== null && EXPECTED[route.path]!.includes(who.role);
        const expected = allowed ? 'through' : who.kind === 'api_client' ? 'forbidden' : 'unauthenticated';
        const got = res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : 'through';
        if (got !== expected) outcomes.push(`${route.method} ${url} as ${who.name}: expected ${expected}, got ${res.status}`);
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('keeps tills and shoppers out of the back office and portal users off the tills', async () => {
    for (const who of principals.filter((x) => x.kind === 'user' || x.kind === 'api_client')) {
      const res = await call(h, 'POST', '/v1/cards/lookup', { key: who.auth.key ?? null, body: { code: 'ABCD' }, headers: who.auth.cookie ? { cookie: who.auth.cookie } : {} });
      expect(res.status, who.name).toBe(401);
    }
  });
});
