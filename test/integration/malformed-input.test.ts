// Property tests of the API's boundary: every tRPC procedure and every REST route, fed malformed
// input generated from its own input schema, answers a 4xx with the error shape and changes
// nothing; queries fed any well-formed input never answer a 500. The procedure list comes from the
// router and the REST list from the OpenAPI document, so a new one cannot be left out.

import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../../api/router.ts';
import { restProcedures } from '../../api/rest.ts';
import { ERROR_STATUS } from '../../domain/errors.ts';
import { createApiClient } from '../../services/directory.ts';
import { issueCard, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn } from '../helpers/portal.ts';

type Json = Record<string, any>;

interface Procedure {
  path: string;
  type: 'query' | 'mutation';
  roles: readonly string[] | null;
  schema: z.ZodType;
  json: Json;
}

const procedures: Procedure[] = Object.entries((appRouter as any)._def.procedures as Record<string, any>).map(([path, p]) => {
  const schema = p._def.inputs[0] as z.ZodType;
  return { path, type: p._def.type, roles: p._def.meta?.roles ?? null, schema, json: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json };
});

const uuid = () => randomUUID();

/** A well-formed input of every procedure: what the generators corrupt. */
const SAMPLE: Record<string, () => Json> = {
  'pos.lookupCard': () => ({ code: 'ABCD-EFGH-JKMN-PQRS' }),
  'pos.issueCard': () => ({ amount: 1_000, currency: 'EUR' }),
  'pos.loadCard': () => ({ code: 'ABCD-EFGH-JKMN-PQRS', amount: 500, currency: 'EUR' }),
  'pos.activateCard': () => ({ code: 'ABCD-EFGH-JKMN-PQRS', currency: 'EUR', amount: 2_500 }),
  'pos.authorize': () => ({ code: 'ABCD-EFGH-JKMN-PQRS', amount: 100, currency: 'EUR', posReference: 'till-42' }),
  'pos.getRedemption': () => ({ holdId: uuid() }),
  'pos.capture': () => ({ holdId: uuid(), amount: 100 }),
  'pos.void': () => ({ holdId: uuid() }),
  'pos.refund': () => ({ holdId: uuid(), amount: 100 }),
  'shop.config': () => ({}),
  'shop.createOrder': () => ({ amount: 2_500, currency: 'EUR', email: 'shopper@example.test' }),
  'shop.getOrder': () => ({ orderId: uuid() }),
  'shop.payment': () => ({ orderId: uuid() }),
  'shop.devConfirmPayment': () => ({ orderId: uuid() }),
  'clearing.list': () => ({}),
  'clearing.get': () => ({ period: '2024-02' }),
  'clearing.start': () => ({ period: '2024-02' }),
  'clearing.rerun': () => ({ period: '2024-02' }),
  'clearing.approve': () => ({ period: '2024-02' }),
  'reports.period': () => ({ period: '2024-02', billingPartyId: uuid() }),
  'auth.signIn': () => ({ email: 'nobody@centre.test', password: 'a password' }),
  'auth.me': () => ({}),
  'auth.enrolTotp': () => ({}),
  'auth.verifyTotp': () => ({ code: '123456' }),
  'auth.signOut': () => ({}),
  'users.list': () => ({}),
  'users.create': () => ({ email: 'new@centre.test', displayName: 'New', role: 'support', storeId: null, password: 'a long enough password' }),
  'users.update': () => ({ userId: uuid(), role: 'support', disabled: false }),
  'users.setTotpRequired': () => ({ userId: uuid(), required: true }),
  'transactions.list': () => ({ from: '2024-02-01T00:00:00Z', to: '2024-03-01T00:00:00+01:00', storeId: uuid(), types: ['sale'], minAmount: 1, maxAmount: 9, cardLast4: 'AB12', sort: 'amount', ascending: true, limit: 10 }),
  'transactions.get': () => ({ entryId: '1' }),
  'transactions.card': () => ({ cardId: uuid() }),
  'transactions.capture': () => ({ holdId: uuid(), amount: 100 }),
  'transactions.void': () => ({ holdId: uuid() }),
  'transactions.refund': () => ({ holdId: uuid(), amount: 100 }),
  'transactions.resendVoucher': () => ({ cardId: uuid() }),
  'transactions.setCardBlocked': () => ({ cardId: uuid(), blocked: true }),
  'support.stuck': () => ({ thresholdMinutes: 10 }),
  'support.retryNow': () => ({ workflowId: `purchase-${uuid()}` }),
  'support.cancel': () => ({ workflowId: `redemption-${uuid()}-x`, reason: 'stuck' }),
  'dashboard.scopes': () => ({}),
  'dashboard.daily': () => ({ from: '2024-02-01', to: '2024-02-29' }),
  'dashboard.counter': () => ({ from: '2024-02-01', to: '2024-02-29' }),
  'admin.directory': () => ({}),
  'admin.createParty': () => ({ name: 'Party', contactEmail: 'party@example.test' }),
  'admin.setPartyLocale': () => ({ billingPartyId: randomUUID(), locale: 'de' }),
  'admin.createStore': () => ({ billingPartyId: uuid(), name: 'Store', holdTtlSeconds: 600 }),
  'admin.createTerminal': () => ({ storeId: uuid(), name: 'Till' }),
  'admin.revokeTerminal': () => ({ terminalId: uuid() }),
  'admin.auditLog': () => ({ text: 'sign_in', before: '100', limit: 10 }),
  'users.resetSecondFactor': () => ({ userId: uuid() }),
  'admin.apiClients': () => ({}),
  'admin.createApiClient': () => ({ name: 'Accounting', role: 'billing_party', billingPartyId: uuid(), validDays: 30 }),
  'admin.rotateApiClient': () => ({ clientId: uuid() }),
  'admin.setApiClientExpiry': () => ({ clientId: uuid(), validDays: 7 }),
  'admin.revokeApiClient': () => ({ clientId: uuid() }),
  'admin.limits': () => ({}),
  'admin.setStoreLimits': () => ({
    storeId: uuid(), cardRedemptionsPerHour: 10, cardAmountPerHour: 25_000, cardRedemptionsPerDay: null, cardAmountPerDay: null,
    terminalSoldPerDay: 500_000, storeSoldPerDay: null, storeRedeemedPerDay: null,
  }),
  'admin.codeGuessLocks': () => ({}),
  'admin.liftCodeGuessLock': () => ({ subject: 'address:192.0.2.1' }),
  'cards.activities': () => ({ cardId: uuid(), before: '100', limit: '20' }),
  'cards.deactivate': () => ({ cardId: uuid(), reason: 'lost' }),
  'cards.clearBalance': () => ({ cardId: uuid(), reason: 'card_reused' }),
  'cards.adjust': () => ({ cardId: uuid(), direction: 'down', amount: 100, reason: 'correction' }),
  'cards.adjustments': () => ({ status: 'pending', cardId: uuid() }),
  'cards.decideAdjustment': () => ({ adjustmentId: uuid(), approve: true }),
  'cards.transfer': () => ({ cardId: uuid(), toCardId: uuid(), amount: 100, reason: 'merge' }),
  'cards.extendExpiry': () => ({ cardId: uuid(), expiresAt: '2031-01-01T00:00:00Z', reason: 'goodwill' }),
  'cardBatches.create': () => ({ count: 10, faceValue: 2_500, currency: 'EUR', validityDays: 365, issuingStoreId: uuid(), issuingPartyId: null }),
  'cardBatches.list': () => ({}),
  'cardBatches.get': () => ({ batchId: uuid() }),
  'cardBatches.decide': () => ({ batchId: uuid(), approve: true }),
  'cardBatches.void': () => ({ batchId: uuid(), reason: 'misprint' }),
  'cardBatches.serials': () => ({ batchId: uuid(), after: '10', limit: '50' }),
  'cardBatches.findBySerial': () => ({ serial: 'SC00001-000001' }),
  'webhooks.eventTypes': () => ({}),
  'webhooks.list': () => ({}),
  'webhooks.create': () => ({ url: 'https://hooks.example.com/voucher-events', description: 'Accounting', eventTypes: ['card.created', 'card.loaded'], enabled: true }),
  'webhooks.update': () => ({ endpointId: uuid(), url: 'https://hooks.example.com/v2', description: 'Loyalty app', eventTypes: ['*'], enabled: false }),
  'webhooks.rotateSecret': () => ({ endpointId: uuid(), overlapHours: 24 }),
  'webhooks.deliveries': () => ({ endpointId: uuid(), status: 'failed', before: '1000', limit: '20' }),
  'webhooks.redeliver': () => ({ endpointId: uuid(), eventId: `evt_${'a'.repeat(32)}` }),
  'imports.list': () => ({ limit: 10 }),
  'imports.get': () => ({ importId: uuid() }),
  'imports.start': () => ({ vouchers: `${uuid()}.csv`, history: `${uuid()}.csv`, stores: `${uuid()}.csv`, encoding: 'latin1', codeFormat: 'digits', dryRun: true }),
  'imports.accept': () => ({ importId: uuid(), reportSha256: 'a'.repeat(64) }),
  'imports.cancel': () => ({ importId: uuid() }),
  'settlement.bankDetails': () => ({ billingPartyId: uuid() }),
  'settlement.proposeBankDetails': () => ({ billingPartyId: uuid(), iban: 'DE02 1203 0000 0000 2020 51', bic: 'BYLADEM1001', accountHolder: 'Party GmbH', mandate: { reference: 'MANDATE-1', signedOn: '2024-01-15' } }),
  'settlement.decideBankDetails': () => ({ billingPartyId: uuid(), approve: true }),
  'settlement.start': () => ({ period: '2024-02' }),
  'settlement.get': () => ({ period: '2024-02' }),
};

// ---- values no field accepts -------------------------------------------------------------------

/** Characters no input field takes: C0/C1 controls and unpaired surrogates (PostgreSQL refuses NUL and bad UTF-16). */
const FORBIDDEN_CHARS = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009f', '\ud800', '\udfff'];

const outOfRangeBigint = fc.oneof(
  fc.constantFrom('9223372036854775808', '9999999999999999999', '18446744073709551616'),
  fc.bigInt({ min: 2n ** 63n, max: 10n ** 19n - 1n }).map(String),
);

// Near the samples' February 2024, so that they pass the range checks and reach the query.
const impossibleDays = fc.oneof(
  fc.constantFrom('2024-02-30', '2024-02-31', '2023-02-29', '2023-04-31', '2023-06-31', '2023-09-31', '2023-11-31', '2026-02-31', '2025-02-29', '2100-02-29', '2026-04-31', '2026-06-31', '2026-09-31', '2026-11-31',
    '2026-13-01', '2026-00-10', '2026-01-00', '2026-01-32', '1999-12-31', '0000-01-01', '2026-1-1', '20260101',
    '2026-02-28T00:00:00Z', ' 2026-02-01', '２０２６-01-01'),
  fc.record({ y: fc.integer({ min: 2023, max: 2024 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 29, max: 31 }) })
    .filter(({ y, m, d }) => new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d)
    .map(({ y, m, d }) => `${y}-${String(m).padStart(2, '0')}-${d}`),
);

const impossibleDateTimes = fc.oneof(
  fc.constantFrom('2026-02-31T00:00:00Z', '2025-02-29T12:00:00Z', '2026-04-31T00:00:00+02:00', '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z', '2026-01-01T00:00:00+25:00', '2026-01-01', '2026-01-01T00:00:00', 'yesterday', 'now',
    '1700000000000', '2026-01-01T00:00:00ZZ', '+275760-09-13T00:00:00Z'),
  impossibleDays.map((d) => `${d}T00:00:00Z`),
);

/** Cursors the API never gave out: they decode to garbage, another order, a bad time or an id out of range. */
const badCursors = fc.oneof(
  fc.base64String({ minLength: 4, maxLength: 120 }),
  fc.string({ minLength: 1, maxLength: 120 }).map((s) => Buffer.from(s).toString('base64url')),
  fc.tuple(
    fc.constantFrom('booked_at', 'amount'),
    fc.constantFrom('asc', 'desc'),
    fc.oneof(fc.constantFrom('not-a-time', '2026-02-31T00:00:00.000Z', 'Tue', '0', '1e400', '-1', '99999999999999999999', '2026-01-01T00:00:00.000Z|x', ''),
      outOfRangeBigint, fc.string({ maxLength: 30 })),
    fc.oneof(outOfRangeBigint, fc.constantFrom('-1', 'x', '', '1.5', '1e3'), fc.string({ maxLength: 20 })),
  ).map((parts) => Buffer.from(parts.join('|')).toString('base64url')),
);

/** Field-specific ways to be wrong that a JSON schema cannot say (ranges of ids, calendar days, cursors). */
const SEMANTIC: Record<string, fc.Arbitrary<unknown>> = {
  'transactions.get.entryId': outOfRangeBigint,
  'admin.auditLog.before': outOfRangeBigint,
  'cards.activities.before': outOfRangeBigint,
  'cards.extendExpiry.expiresAt': impossibleDateTimes,
  'transactions.list.cursor': badCursors,
  'transactions.list.from': impossibleDateTimes,
  'transactions.list.to': impossibleDateTimes,
  'dashboard.daily.from': impossibleDays,
  'dashboard.daily.to': impossibleDays,
  'dashboard.counter.from': impossibleDays,
  'dashboard.counter.to': impossibleDays,
  'clearing.get.period': fc.constantFrom('2024-13', '1999-12', '2024-00', '2024-2', '202402', '0000-01', '2024-02-01'),
  'reports.period.period': fc.constantFrom('2024-13', '1999-12', '2024-00', '2024-2', '202402', '0000-01'),
  'settlement.proposeBankDetails.iban': fc.constantFrom('DE02120300000000202052', 'XX02120300000000202051', 'US12500105170648489890', 'DE0212030000', '1234'),
  'settlement.proposeBankDetails.bic': fc.constantFrom('BYLA', 'BYLADEM10', '12345678', 'BYLA-DEM1'),
};

/** JSON nested far deeper than any input. */
const deepNest = fc.integer({ min: 50, max: 400 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)));
const junk = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(),
  fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), deepNest);

function jsonTypes(s: Json): Set<string> {
  if (s.anyOf) return new Set((s.anyOf as Json[]).flatMap((x) => [...jsonTypes(x)]));
  if (s.const !== undefined || s.enum) return new Set(['string']);
  return new Set([s.type as string]);
}

/** The patterns a string field must match (zod lists several under allOf). */
function patternsOf(s: Json): RegExp[] {
  const own = [s, ...((s.allOf as Json[] | undefined) ?? []), ...((s.anyOf as Json[] | undefined) ?? [])];
  return own.filter((x) => x.pattern).map((x) => new RegExp(x.pattern, 'u'));
}

/** JSON values of a type the field does not take. */
function wrongType(s: Json): fc.Arbitrary<unknown> {
  const types = jsonTypes(s);
  const numeric = types.has('number') || types.has('integer');
  const options: fc.Arbitrary<unknown>[] = [];
  if (!types.has('string')) options.push(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('1', 'true', 'null', '')));
  if (!numeric) options.push(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })));
  if (!types.has('boolean')) options.push(fc.boolean());
  if (!types.has('null')) options.push(fc.constant(null));
  if (!types.has('array')) options.push(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), deepNest);
  if (!types.has('object')) options.push(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }));
  return fc.oneof(...options);
}

function rejects(s: Json, v: string): boolean {
  const values: unknown[] | undefined = s.enum ?? (s.const !== undefined ? [s.const] : undefined);
  if (values) return !values.includes(v) && !values.includes(v.trim());
  const patterns = patternsOf(s);
  return patterns.length > 0 && patterns.some((re) => !re.test(v)) && patterns.some((re) => !re.test(v.trim()));
}

/** Strings a string field refuses: forbidden characters, too long, or outside its pattern or enum. */
function badString(s: Json): fc.Arbitrary<string> {
  const max: number = s.maxLength ?? (s.anyOf as Json[] | undefined)?.find((x) => x.maxLength)?.maxLength ?? 64;
  const options: fc.Arbitrary<string>[] = [
    fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom(...FORBIDDEN_CHARS), fc.string({ maxLength: 6 }))
      .map(([a, c, b]) => `x${a}${c}${b}x`),
    fc.tuple(fc.integer({ min: max + 1, max: max + 400 }), fc.constantFrom('x', 'é', '💳', '0', 'A'))
      .map(([n, ch]) => ch.repeat(n)),
  ];
  if (patternsOf(s).length || s.enum || s.const !== undefined) {
    // Mapped, not filtered: a filter that rarely passes (a pattern that only refuses control
    // characters) would spin forever.
    options.push(fc.string({ unit: 'grapheme', maxLength: 40 }).map((v) => (rejects(s, v) ? v : `${v}\u0000`)));
    const odd = ['', ' ', 'null', 'undefined', '../../etc/passwd', "'; DROP TABLE cards; --", '%00', '😀', '\u202e'].filter((v) => rejects(s, v));
    if (odd.length) options.push(fc.constantFrom(...odd));
  }
  return fc.oneof(...options);
}

/** Numbers an integer field refuses: fractions, out of its range, or beyond what JSON numbers hold exactly. */
function badNumber(s: Json): fc.Arbitrary<number> {
  const min: number = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : Number.MIN_SAFE_INTEGER);
  const max: number = s.maximum ?? Number.MAX_SAFE_INTEGER;
  return fc.oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n + 0.5),
    fc.constantFrom(max + 1, min - 1, 1e20, -1e20, 1e308, -1e308, 2 ** 63, 2 ** 53 + 2, 0.1, -0.5),
    fc.double({ min: max + 1, max: 1e300, noNaN: true }),
    fc.double({ min: -1e300, max: min - 1, noNaN: true }),
  );
}

/** A value the field refuses, whatever its kind. */
function badValue(s: Json, semantic?: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const types = jsonTypes(s);
  const options: fc.Arbitrary<unknown>[] = [wrongType(s)];
  if (types.has('string')) options.push(badString(s));
  if (types.has('integer') || types.has('number')) options.push(badNumber(s));
  if (types.has('array')) {
    const item = (s.items ?? {}) as Json;
    options.push(fc.array(fc.constantFrom(...((item.enum as string[] | undefined) ?? ['x'])), { minLength: (s.maxItems ?? 50) + 1, maxLength: (s.maxItems ?? 50) + 20 }));
    options.push(fc.tuple(fc.array(fc.constantFrom(...((item.enum as string[] | undefined) ?? ['x'])), { maxLength: 2 }), badValue(item))
      .map(([ok, bad]) => [...ok, bad]));
  }
  if (semantic) options.push(semantic, semantic);
  return fc.oneof(...options);
}

type Change = (input: Json) => Json | unknown;

/** One way to break a well-formed input of a procedure. */
function corruption(p: Procedure): fc.Arbitrary<Change> {
  const props = (p.json.properties ?? {}) as Record<string, Json>;
  const names = Object.keys(props);
  const required = (p.json.required ?? []) as string[];
  const options: fc.Arbitrary<Change>[] = [
    // An unknown field, possibly holding something huge or deep.
    fc.tuple(fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', '$where')).filter((k) => !names.includes(k)), fc.oneof(junk, deepNest))
      .map(([k, v]) => (input: Json) => {
        // defineProperty, so that even "__proto__" becomes a field of its own, as JSON.parse makes it.
        const out = { ...input };
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        return out;
      }),
  ];
  if (names.length) {
    options.push(fc.constantFrom(...names).chain((k) => badValue(props[k]!, SEMANTIC[`${p.path}.${k}`]).map((v) => (input: Json) => ({ ...input, [k]: v }))));
  }
  if (required.length) {
    options.push(fc.constantFrom(...required).map((k) => (input: Json) => {
      const { [k]: _gone, ...rest } = input;
      return rest;
    }));
  }
  return fc.oneof(...options);
}

/** Malformed input for a procedure: its sample with one to three things broken, or not an object at all. */
function malformed(p: Procedure): fc.Arbitrary<unknown> {
  const sample = SAMPLE[p.path]!;
  return fc.oneof(
    { weight: 5, arbitrary: fc.array(corruption(p), { minLength: 1, maxLength: 3 }).map((changes) => changes.reduce<unknown>((input, change) => (
      input !== null && typeof input === 'object' && !Array.isArray(input) ? change(input as Json) : input), sample())) },
    { weight: 1, arbitrary: junk },
  );
}

/** Any well-formed value of a field (patterns generated, integers in range, enums): for queries, which change nothing. */
function wellFormed(s: Json): fc.Arbitrary<unknown> {
  if (s.anyOf) return fc.oneof(...(s.anyOf as Json[]).map(wellFormed));
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
  if (s.const !== undefined) return fc.constant(s.const);
  switch (s.type) {
    case 'null': return fc.constant(null);
    case 'boolean': return fc.boolean();
    case 'integer': return fc.integer({ min: Math.max(s.minimum ?? (s.exclusiveMinimum ?? -2_147_483_648) + 1, Number.MIN_SAFE_INTEGER), max: Math.min(s.maximum ?? 2_147_483_647, 2_147_483_647) });
    case 'array': return fc.array(wellFormed(s.items ?? {}), { maxLength: s.maxItems ?? 5 });
    case 'string': {
      const [first, ...others] = patternsOf(s);
      if (first) {
        try {
          return fc.stringMatching(first).filter((v) => v.length <= (s.maxLength ?? Infinity) && others.every((re) => re.test(v)));
        } catch { /* a pattern fast-check cannot generate from: fall through */ }
      }
      return fc.string({ unit: 'grapheme', minLength: s.minLength ?? 0, maxLength: s.maxLength ?? 40 });
    }
    default: return fc.jsonValue({ maxDepth: 1 });
  }
}

function anyWellFormed(p: Procedure): fc.Arbitrary<Json> {
  const props = (p.json.properties ?? {}) as Record<string, Json>;
  const required = new Set((p.json.required ?? []) as string[]);
  const fields = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fc.oneof(wellFormed(s), ...(SEMANTIC[`${p.path}.${k}`] ? [SEMANTIC[`${p.path}.${k}`]!] : []))]));
  return fc.record(fields, { requiredKeys: [...required] }) as fc.Arbitrary<Json>;
}

// ---- the running engine ------------------------------------------------------------------------

let h: Harness;
const auth: Record<'terminal' | 'admin' | 'staff', Record<string, string>> = { terminal: {}, admin: {}, staff: {} };

beforeAll(async () => {
  h = await startHarness({ worker: false });
  auth.terminal = { authorization: `Bearer ${h.terminalA.apiKey}` };
  const admin = await createApiClient(h.deps.db.prisma, { name: 'Admin (malformed input)', role: 'admin' });
  auth.admin = { authorization: `Bearer ${admin.apiKey}` };
  const password = 'malformed input password';
  const staff = await h.deps.users.create({ email: `staff-${uuid().slice(0, 6)}@centre.test`, displayName: 'Staff', role: 'store_staff', storeId: h.storeA, password });
  const session = await signIn(h, staff.email, password);
  auth.staff = { cookie: session.cookie!, 'x-csrf-token': session.csrf ?? '' };
  // Something to page, look up and act on, so well-formed ids and cursors meet real rows.
  await issueCard(h, 5_000);
});
afterAll(async () => {
  await h?.close();
});

/** Every mutable table, summed up: equal before and after means nothing changed. */
async function checksum(): Promise<Record<string, string>> {
  const { rows: tables } = await h.deps.db.pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`);
  const sums: Record<string, string> = {};
  for (const { name } of tables) {
    // A session's last-seen time moves when it is used; that is not a change a request makes.
    const { rows } = await h.deps.db.pool.query<{ sum: string }>(
      `SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, ',' ORDER BY r::text)), '') AS sum
         FROM (SELECT to_jsonb(t) - 'last_seen_at' - 'expires_at' AS r FROM "${name}" t) x`);
    sums[name] = rows[0]!.sum;
  }
  return sums;
}

function credentialsFor(p: Procedure): fc.Arbitrary<Record<string, string>> {
  if (p.path.startsWith('pos.')) return fc.constant(auth.terminal);
  if (!p.roles) return fc.constant({});
  return p.roles.includes('store_staff') ? fc.constantFrom(auth.admin, auth.staff) : fc.constant(auth.admin);
}

interface Answer {
  status: number;
  body: any;
  requestId: string | null;
}

async function callTrpc(p: Procedure, input: unknown, headers: Record<string, string>): Promise<Answer> {
  const url = `${h.baseUrl}/trpc/${p.path}`;
  const res = p.type === 'query'
    ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input) ?? '')}`, { headers })
    : await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(input) });
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* asserted below */ }
  return { status: res.status, body, requestId: res.headers.get('request-id') };
}

function describeCall(what: string, input: unknown, res: Answer): string {
  return `${what} ${JSON.stringify(input)?.slice(0, 300)} -> ${res.status} ${JSON.stringify(res.body)?.slice(0, 400)}`;
}

/** tRPC's error shape, carrying the engine's code (consistent with the status) and the request id. */
function expectTrpcRefusal(res: Answer, label: string): void {
  expect(res.status, label).toBeGreaterThanOrEqual(400);
  expect(res.status, label).toBeLessThan(500);
  const data = res.body?.error?.data;
  expect(typeof res.body?.error?.message, label).toBe('string');
  expect(Object.hasOwn(ERROR_STATUS, data?.appCode), label).toBe(true);
  expect(ERROR_STATUS[data.appCode as keyof typeof ERROR_STATUS], label).toBe(res.status);
  expect(data.requestId, label).toBe(res.requestId);
  expect(res.requestId, label).toMatch(/^req_/);
}

/** The REST error shape: {error: {code, message, request_id}}, the code matching the status. */
function expectRestRefusal(res: Answer, label: string): void {
  expect(res.status, label).toBeGreaterThanOrEqual(400);
  expect(res.status, label).toBeLessThan(500);
  const error = res.body?.error;
  expect(typeof error?.message, label).toBe('string');
  expect(Object.hasOwn(ERROR_STATUS, error?.code), label).toBe(true);
  expect(ERROR_STATUS[error.code as keyof typeof ERROR_STATUS], label).toBe(res.status);
  expect(error.request_id, label).toBe(res.requestId);
  expect(res.requestId, label).toMatch(/^req_/);
}

const RUNS = { numRuns: 30, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true };

describe('every tRPC procedure', () => {
  it('has a well-formed sample that its schema accepts, and bounded string and array fields', () => {
    const missing = procedures.filter((p) => !SAMPLE[p.path]).map((p) => p.path);
    expect(missing, 'add a sample for each new procedure').toEqual([]);
    for (const p of procedures) {
      expect(p.schema.safeParse(SAMPLE[p.path]!()).success, p.path).toBe(true);
      expect(p.json.additionalProperties, `${p.path} should refuse unknown fields (.strict())`).toBe(false);
      for (const [name, s] of Object.entries((p.json.properties ?? {}) as Record<string, Json>)) {
        for (const alt of (s.anyOf as Json[] | undefined) ?? [s]) {
          if (alt.type === 'string') expect(alt.maxLength ?? alt.pattern ?? alt.allOf ?? alt.enum ?? alt.const, `${p.path}.${name} has no bound`).toBeDefined();
          if (alt.type === 'array') expect(alt.maxItems, `${p.path}.${name} has no bound`).toBeDefined();
        }
      }
    }
    for (const key of Object.keys(SEMANTIC)) {
      const [router, name, field] = key.split('.');
      expect(procedures.find((p) => p.path === `${router}.${name}`)?.json.properties?.[field!], key).toBeDefined();
    }
  });

  it('refuses ids beyond bigint, cursors with a bad key, impossible days and NUL as input errors (were 500s)', async () => {
    const cursor = (text: string) => Buffer.from(text).toString('base64url');
    const cases: [string, unknown, Record<string, string>][] = [
      ['transactions.get', { entryId: '9223372036854775808' }, auth.admin],
      ['transactions.get', { entryId: '9999999999999999999' }, auth.staff],
      ['admin.auditLog', { before: '9223372036854775808' }, auth.admin],
      ['admin.auditLog', { text: 'sign\u0000in' }, auth.admin],
      ['transactions.list', { cursor: cursor('booked_at|desc|not-a-time|1') }, auth.admin],
      ['transactions.list', { cursor: cursor('booked_at|desc|0000-01-01T00:00:00.000Z|1') }, auth.admin],
      ['transactions.list', { cursor: cursor('booked_at|desc|2026-01-01T00:00:00.000Z|9223372036854775808') }, auth.admin],
      ['transactions.list', { sort: 'amount', cursor: cursor('amount|desc|9223372036854775808|1') }, auth.admin],
      ['transactions.list', { from: '0000-01-01T00:00:00Z' }, auth.admin],
      ['dashboard.daily', { from: '2026-02-01', to: '2026-02-31' }, auth.admin],
      ['dashboard.counter', { from: '2025-02-29', to: '2025-03-31' }, auth.staff],
    ];
    const before = await checksum();
    for (const [path, input, headers] of cases) {
      const res = await callTrpc(procedures.find((p) => p.path === path)!, input, headers);
      expectTrpcRefusal(res, describeCall(path, input, res));
      expect(res.body.error.data.appCode).toBe('validation_error');
    }
    for (const [path, input] of [['admin.createParty', { name: 'Nul\u0000Party', contactEmail: 'p@example.test' }], ['support.cancel', { workflowId: 'redemption-x', reason: 'bad \ud800 surrogate' }], ['users.create', { ...SAMPLE['users.create']!(), displayName: 'A\u0000' }]] as const) {
      const res = await callTrpc(procedures.find((p) => p.path === path)!, input, auth.admin);
      expectTrpcRefusal(res, describeCall(path, input, res));
    }
    expect(await checksum()).toEqual(before);
  });

  for (const p of procedures) {
    it(`${p.path}: malformed input is a 4xx with the error shape and changes nothing`, async () => {
      const before = await checksum();
      await fc.assert(fc.asyncProperty(malformed(p), credentialsFor(p), async (input, headers) => {
        const res = await callTrpc(p, input, headers);
        // A query's input travels in its URL: one too long is refused before tRPC, in the REST shape.
        if (res.status === 414) return expectRestRefusal(res, describeCall(p.path, input, res));
        expectTrpcRefusal(res, describeCall(p.path, input, res));
      }), RUNS);
      expect(await checksum()).toEqual(before);
    });
  }

  for (const p of procedures.filter((x) => x.type === 'query')) {
    it(`${p.path}: any well-formed input is answered without a server error`, async () => {
      const before = await checksum();
      await fc.assert(fc.asyncProperty(anyWellFormed(p), credentialsFor(p), async (input, headers) => {
        const res = await callTrpc(p, input, headers);
        const label = describeCall(p.path, input, res);
        if (res.status >= 400) expectTrpcRefusal(res, label);
        else expect(res.status, label).toBe(200);
      }), { numRuns: 20 });
      expect(await checksum()).toEqual(before);
    });
  }
});

describe('headers and tRPC addressing', () => {
  /** Header values a client can send: any byte string, sometimes huge or nearly well-formed. */
  const headerValue = fc.oneof(
    fc.string({ maxLength: 60 }).map((v) => v.replace(/[^\x20-\x7e\x80-\xff]/g, '')),
    fc.constantFrom('Bearer', 'Bearer ', 'Bearer vk_', 'Bearer vb_x', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 've_session=', 've_session=%E0%A4%A', 'a=b; ve_session=x; ve_session=y'),
    fc.integer({ min: 200, max: 6_000 }).map((n) => `Bearer ${'x'.repeat(n)}`),
  );
  const headerName = fc.constantFrom('authorization', 'idempotency-key', 'x-order-token', 'x-csrf-token', 'cookie', 'x-request-id', 'content-type');

  it('odd credentials and headers on any procedure are a 4xx with the error shape and change nothing', async () => {
    const before = await checksum();
    // Public mutations are left out: their well-formed sample is a real order or sign-in attempt.
    const guarded = procedures.filter((p) => p.roles || p.path.startsWith('pos.') || p.type === 'query');
    await fc.assert(fc.asyncProperty(fc.constantFrom(...guarded), fc.dictionary(headerName, headerValue, { minKeys: 1, maxKeys: 4 }), async (p, headers) => {
      // The sample is well-formed: whatever is refused here is refused for its headers, or later
      // for what the sample names (nothing exists under its random ids).
      const res = await callTrpc(p, SAMPLE[p.path]!(), headers);
      const label = describeCall(`${p.path} with ${JSON.stringify(headers).slice(0, 200)}`, SAMPLE[p.path]!(), res);
      if (res.status < 400) {
        // Only the public queries may pass: no header here is a valid credential.
        expect(['shop.config', 'auth.me'], label).toContain(p.path);
        return;
      }
      // 413, 415 and 431 are refused before any router runs, so they carry the REST shape.
      if (res.status === 415 || res.status === 413 || res.status === 431) return expectRestRefusal(res, label);
      expectTrpcRefusal(res, label);
    }), { numRuns: 60 });
    expect(await checksum()).toEqual(before);
  });

  it('unknown procedures and malformed batches are a 4xx with the error shape', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom('pos', 'pos.', '.lookupCard', 'pos.lookupCard.x', '__proto__', 'constructor.name', 'shop.config,pos.void')),
      fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))), { nil: undefined }),
      fc.boolean(),
      async (path, input, batch) => {
        const url = `${h.baseUrl}/trpc/${encodeURIComponent(path).replace(/%2C/g, ',')}?${batch ? 'batch=1&' : ''}${input !== undefined ? `input=${encodeURIComponent(input)}` : ''}`;
        const res = await fetch(url, { headers: auth.admin });
        const text = await res.text();
        let body: any = text;
        try { body = JSON.parse(text); } catch { /* asserted below */ }
        const answer = { status: res.status, body, requestId: res.headers.get('request-id') };
        const label = describeCall(`GET ${url}`, input, answer);
        // A batch answers with one result per call; the HTTP status is the first error's, or 207 when mixed.
        if (Array.isArray(body)) {
          expect(res.status, label).toBeLessThan(500);
          for (const item of body) if (item.error) expect(Object.hasOwn(ERROR_STATUS, item.error.data?.appCode), label).toBe(true);
          return;
        }
        if (res.status === 200) return; // a known query (e.g. "shop.config") reached with acceptable input
        if (res.status === 414 || res.status === 400 && body?.error?.request_id) return expectRestRefusal(answer, label);
        expectTrpcRefusal(answer, label);
      }), RUNS);
  });
});

// ---- REST ------------------------------------------------------------------------------------

async function callRest(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(h.baseUrl + path, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  let body: unknown = text.slice(0, 500);
  try { body = JSON.parse(text); } catch { /* asserted by the caller */ }
  return { status: res.status, body, requestId: res.headers.get('request-id') };
}

/** A path segment as a client might send it; a value that cannot be encoded goes as a broken escape. */
function segment(value: unknown): string {
  try {
    return encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value) ?? '');
  } catch {
    return '%ED%A0%80';
  }
}

function query(values: Json): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    try {
      params.append(k, typeof v === 'string' ? v : JSON.stringify(v) ?? '');
    } catch { params.append(k, '\ufffd'); }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

describe('every REST route', () => {
  const routes = restProcedures(appRouter);
  const byPath = new Map(procedures.map((p) => [p.path, p]));

  it('is every operation of the OpenAPI document, plus the routes outside the procedures', async () => {
    const doc = await (await fetch(`${h.baseUrl}/openapi.json`)).json() as Json;
    const documented = Object.entries(doc.paths as Record<string, Json>)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const procedureRoutes = routes.map((r) => `${r.method} ${r.url}`);
    expect(documented.filter((op) => !procedureRoutes.includes(op)).sort()).toEqual([
      'GET /v1/clearing/periods/:period/statements/:billingPartyId.:format',
      'GET /v1/settlement/periods/:period/datev-journal.csv',
      'GET /v1/settlement/periods/:period/datev/:billingPartyId.csv',
      'GET /v1/settlement/periods/:period/files/:fileId.xml',
      'GET /v1/settlement/stripe-payouts',
      'POST /v1/settlement/periods/:period/bank-statements',
      'POST /v1/settlement/stripe-payouts',
    ]);
    expect(procedureRoutes.filter((op) => !documented.includes(op))).toEqual([]);
  });

  for (const route of routes) {
    const p = byPath.get(route.path)!;
    const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    it(`${route.method} ${route.url}: malformed input is a 4xx with the error shape and changes nothing`, async () => {
      const before = await checksum();
      const idempotencyKey = fc.oneof(fc.constant(undefined), fc.uuid(), fc.constantFrom('has space', 'x'.repeat(256), 'clé', ''));
      await fc.assert(fc.asyncProperty(malformed(p), credentialsFor(p), idempotencyKey, async (input, credentials, key) => {
        const sample = SAMPLE[p.path]!();
        const fields: Json = input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {};
        // A path parameter left out is an empty segment; junk instead of an object goes with the sample's.
        const path = route.url.replace(/:(\w+)/g, (_m, name: string) => segment(fields === input ? fields[name] ?? '' : sample[name]));
        const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => !params.includes(k)));
        const headers: Record<string, string> = { ...credentials, ...(key !== undefined ? { 'idempotency-key': key } : {}) };
        const res = route.method === 'GET'
          ? await callRest('GET', path + query(rest), { headers })
          : await callRest(route.method, path, {
            headers: { ...headers, 'content-type': 'application/json' },
            body: fields === input ? JSON.stringify(rest) : JSON.stringify(input),
          });
        // Whole-body junk on a GET route leaves only the query: a well-formed call may get through.
        if (route.method === 'GET' && fields !== input && res.status < 400) return;
        expectRestRefusal(res, describeCall(`${route.method} ${path}`, input, res));
      }), RUNS);
      expect(await checksum()).toEqual(before);
    });
  }

  it('settlement files, DATEV exports and bank-statement uploads: bad periods, ids and bodies are refused with the error shape', async () => {
    const before = await checksum();
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.constantFrom('2024-02', '2024-13', '1999-01'), fc.string({ maxLength: 12 })),
      fc.oneof(fc.uuid().map((id) => `${id}.xml`), fc.uuid().map((id) => `${id}.csv`), fc.string({ maxLength: 60 })),
      fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>', '<?xml version="1.0"?><a/>', '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;&a;</x>')),
      fc.constantFrom('application/xml', 'text/xml', 'application/json', 'text/plain'),
      fc.constantFrom<Record<string, string>>({}, auth.admin, auth.staff, { authorization: 'Bearer vb_nonsense' }),
      async (period, file, body, type, headers) => {
        const base = `/v1/settlement/periods/${segment(period)}`;
        for (const res of [
          await callRest('GET', `${base}/files/${segment(file)}`, { headers }),
          await callRest('GET', `${base}/datev/${segment(file)}`, { headers }),
          await callRest('POST', `${base}/bank-statements`, { headers: { ...headers, 'content-type': type }, body }),
        ]) expectRestRefusal(res, describeCall('settlement route', { period, file, body, type }, res));
      }), RUNS);
    expect(await checksum()).toEqual(before);
  });

  it('POST /v1/webhooks/stripe: unsigned or mis-signed bodies are refused with the error shape', async () => {
    const before = await checksum();
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), deepNest.map((v) => JSON.stringify(v))),
      fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('t=1,v1=00', 't=abc,v1=', 't=99999999999999999999,v1=aa')), { nil: undefined }),
      async (body, signature) => {
        const res = await callRest('POST', '/v1/webhooks/stripe', {
          headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'stripe-signature': signature.replace(/[^\x20-\x7e]/g, '') } : {}) }, body,
        });
        expectRestRefusal(res, describeCall('webhook', { body, signature }, res));
      }), RUNS);
    expect(await checksum()).toEqual(before);
  });

  it('GET /v1/orders/:orderId/voucher.pdf: bad ids and links are refused with the error shape', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.uuid(), badString({ type: 'string', maxLength: 36, pattern: '^[0-9a-f-]{36}$' })),
      fc.option(fc.oneof(fc.string({ maxLength: 30 }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String)), { nil: undefined }),
      fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.base64String({ maxLength: 64 })), { nil: undefined }),
      async (orderId, expires, sig) => {
        const res = await callRest('GET', `/v1/orders/${segment(orderId)}/voucher.pdf${query({ ...(expires !== undefined && { expires }), ...(sig !== undefined && { sig }) })}`);
        expectRestRefusal(res, describeCall('voucher.pdf', { orderId, expires, sig }, res));
      }), RUNS);
  });

  it('GET /v1/clearing/periods/:period/statements/:file: bad periods, files and links are refused with the error shape', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.constantFrom('2024-02', '2024-13', '1999-01', '9999-12'), fc.string({ maxLength: 12 })),
      fc.oneof(fc.uuid().map((id) => `${id}.pdf`), fc.uuid().map((id) => `${id}.csv`), fc.uuid().map((id) => `${id}.exe`), fc.string({ maxLength: 60 })),
      fc.option(fc.oneof(fc.string({ maxLength: 30 }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String)), { nil: undefined }),
      fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
      fc.constantFrom<Record<string, string>>({}, auth.admin, { authorization: 'Bearer vb_nonsense' }),
      async (period, file, expires, sig, headers) => {
        const res = await callRest('GET', `/v1/clearing/periods/${segment(period)}/statements/${segment(file)}${query({ ...(expires !== undefined && { expires }), ...(sig !== undefined && { sig }) })}`, { headers });
        expectRestRefusal(res, describeCall('statement', { period, file, expires, sig }, res));
      }), RUNS);
  });

  it('GET /v1/backoffice/transactions.csv: malformed filters are refused with the error shape', async () => {
    const table = procedures.find((p) => p.path === 'transactions.list')!;
    const { limit: _limit, cursor: _cursor, ...properties } = table.json.properties as Record<string, Json>;
    const exported: Procedure = { ...table, path: 'export', json: { ...table.json, properties } };
    SAMPLE.export = () => {
      const { limit: _l, ...rest } = SAMPLE['transactions.list']!();
      return rest;
    };
    SEMANTIC['export.from'] = impossibleDateTimes;
    SEMANTIC['export.to'] = impossibleDateTimes;
    const before = await checksum();
    await fc.assert(fc.asyncProperty(malformed(exported), fc.constantFrom(auth.admin, auth.staff), async (input, headers) => {
      const fields: Json = input !== null && typeof input === 'object' && !Array.isArray(input) ? input : { filter: input };
      const text = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k,
        k === 'types' && Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(',') : typeof v === 'string' ? v : JSON.stringify(v) ?? '']));
      // What the query string means: numbers and flags spelt as text, lists comma-separated. Some
      // malformed JSON becomes well-formed text (the number 5 sent as "5"); those are not refusals.
      const meant = Object.fromEntries(Object.entries(text).map(([k, v]) => [k,
        (k === 'minAmount' || k === 'maxAmount') && /^\d{1,15}$/.test(v) ? Number(v)
          : k === 'ascending' && (v === 'true' || v === 'false') ? v === 'true' : k === 'types' ? v.split(',') : v]));
      fc.pre(!table.schema.safeParse(meant).success);
      const res = await callRest('GET', `/v1/backoffice/transactions.csv${query(text)}`, { headers });
      expectRestRefusal(res, describeCall('export', text, res));
    }), RUNS);
    expect(await checksum()).toEqual(before);
  });
});
