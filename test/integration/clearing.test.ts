// Monthly clearing end to end: a hand-computed month through the real API, the clearing workflow
// on Temporal, statements e-mailed to an SMTP server, approval and close; reruns, a worker crash,
// the schedule, authorization and bad input.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createApiClient } from '../../services/directory.ts';
import { CLEARING_SCHEDULE_ID, engineSchedules, ensureSchedules } from '../../infra/schedules.ts';
import { periodIn, previousPeriodIn } from '../../domain/period.ts';
import { buildDataset, moveIntoPeriod, type Dataset } from '../helpers/clearing-dataset.ts';
import { call, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { pdfText } from '../helpers/voucher.ts';

let h: Harness;
let mailbox: Mailbox;
let finance: string;
let admin: string;

beforeAll(async () => {
  mailbox = await startMailbox();
  h = await startHarness({ config: { mail: { smtpUrl: mailbox.url, from: 'Clearing <clearing@centre.test>' } } });
  finance = (await createApiClient(h.deps.db.prisma, { name: 'Finance test', role: 'finance' })).apiKey;
  admin = (await createApiClient(h.deps.db.prisma, { name: 'Admin test', role: 'admin' })).apiKey;
});

afterAll(async () => {
  await h?.client.schedule.getHandle(CLEARING_SCHEDULE_ID).delete().catch(() => {});
  await h?.close();
  await mailbox?.close();
});

const mailsTo = (to: string) => mailbox.messages.filter((m) => m.to && JSON.stringify(m.to).includes(to));

async function download(path: string, key: string | null): Promise<{ status: number; bytes: Buffer; type: string | null }> {
  const res = await fetch(h.baseUrl + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

async function awaitingApproval(period: string) {
  return waitFor(async () => {
    const res = await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: finance });
    return res.status === 200 && res.body.status === 'awaiting_approval' && res.body.progress?.step === 'awaiting_approval' && res.body;
  }, 60_000, 200);
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field); rows.push(row); row = []; field = ''; i++;
    } else field += ch;
  }
  return rows;
}

function expectHandComputed(body: any, d: Dataset) {
  const byParty = new Map(body.positions.map((p: any) => [p.partyKey, p]));
  d.expected.parties.forEach((expected, i) => {
    expect(byParty.get(d.parties[i]!.id), `party ${i + 1}`).toMatchObject({ currency: 'EUR', partyName: d.parties[i]!.name, ...expected });
  });
  expect(byParty.get('scheme')).toMatchObject({
    salesAmount: d.expected.scheme.onlineSales, breakageAmount: d.expected.scheme.breakage,
    liabilityChange: d.expected.scheme.liabilityChange, net: d.expected.scheme.net,
  });
  expect(body.positions).toHaveLength(4);
  expect(body.positions.reduce((n: number, p: any) => n + p.net, 0)).toBe(0);

  const keyOf = (k: string) => (k === 'scheme' ? 'scheme' : String(d.parties.findIndex((p) => p.id === k)));
  d.expected.accepted.forEach((expected, i) => {
    const rows = body.counterparties.filter((c: any) => c.partyKey === d.parties[i]!.id);
    expect(Object.fromEntries(rows.map((c: any) => [keyOf(c.issuerKey), [c.redemptionsCount, c.redemptionsAmount, c.refundsAmount]])))
      .toEqual(expected);
  });
}

describe('monthly clearing', () => {
  let d: Dataset;
  const period = '2025-01';

  it('clears a hand-computed month: exact positions that net to zero, statements e-mailed, then waits for approval', async () => {
    d = await buildDataset(h, 'jan');
    await moveIntoPeriod(inject('databaseUrl'), d.cardIds, period);
    // The third party reads its statements in German.
    await h.deps.db.pool.query(`UPDATE billing_parties SET locale = 'de' WHERE id = $1`, [d.parties[2]!.id]);

    const started = await call(h, 'POST', `/v1/clearing/periods/${period}/start`, { key: finance });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ period, workflowId: `clearing-${period}` });
    // Starting again joins the same run.
    expect((await call(h, 'POST', `/v1/clearing/periods/${period}/start`, { key: finance })).status).toBe(200);

    const body = await awaitingApproval(period);
    expect(body.progress).toMatchObject({ runs: 1, parties: 3, statementsDone: 3 });
    expect(body.startsAt).toBe('2024-12-31T23:00:00.000Z'); // midnight in Berlin
    expect(body.endsAt).toBe('2025-01-31T23:00:00.000Z');
    expectHandComputed(body, d);

    // Search attributes for the Temporal UI: the period, and each party's statement with its net.
    const parent = await h.client.workflow.getHandle(`clearing-${period}`).describe();
    expect(parent.searchAttributes.VoucherPeriod).toEqual([period]);
    expect(parent.searchAttributes.VoucherStatus).toEqual(['awaiting_approval']);
    const child = await h.client.workflow.getHandle(`clearing-${period}-${d.parties[0]!.id}`).describe();
    expect(child.searchAttributes).toMatchObject({
      VoucherPeriod: [period], VoucherBillingPartyId: [d.parties[0]!.id], VoucherAmount: [-1_500], VoucherStatus: ['sent'],
    });
    // One activity renders and e-mails the statement: two workflow tasks per party.
    const childHistory = await h.client.workflow.getHandle(`clearing-${period}-${d.parties[0]!.id}`).fetchHistory();
    const scheduled = childHistory.events!.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(scheduled).toEqual(['deliverStatement']);
    expect(childHistory.events!.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(2);

    // Each party's contact got its statement, once.
    for (const party of d.parties) {
      await waitFor(async () => mailsTo(party.email).length === 1);
    }
    const mail = mailsTo(d.parties[0]!.email)[0]!;
    expect(mail.subject).toContain(`clearing statement ${period}`);
    expect(mail.text).toContain('You pay the centre €15.00.');
    expect(mail.attachments[0]!.contentType).toBe('application/pdf');
    expect(body.statements).toHaveLength(3);

    // The German-speaking party's mail and PDF are German, with German amounts and days.
    const german = mailsTo(d.parties[2]!.email)[0]!;
    expect(german.subject).toBe(`${h.config.shop.schemeName}: Abrechnung ${period} für ${d.parties[2]!.name}`);
    expect(german.text).toMatch(/(Das Center zahlt Ihnen|Sie zahlen dem Center) \d{1,3}(\.\d{3})*,\d{2}\u00a0€\./);
    const germanPdf = pdfText(german.attachments[0]!.content).replace(/\s+/g, ' ');
    for (const expected of [`Zeitraum: ${period} (1. Januar 2025 bis 31. Januar 2025, Europe/Berlin)`, 'Zusammenfassung', 'Positionen',
      'Gegenparteien', 'Unterschriften', `Für ${d.parties[2]!.name}: Name, Datum, Unterschrift`]) expect(germanPdf).toContain(expected);
    expect(germanPdf).toMatch(/Saldo \(positiv: Ihnen geschuldet\) -?\d+,\d{2} €/);
    expect(germanPdf).not.toContain('Signatures');
  }, 120_000);

  it('renders statement PDFs and CSVs with the right contents, for finance and for the party itself only', async () => {
    const [p1, p2] = d.parties;
    const pdf = await download(`/v1/clearing/periods/${period}/statements/${p1!.id}.pdf`, finance);
    expect(pdf.status).toBe(200);
    expect(pdf.type).toBe('application/pdf');
    const text = pdfText(pdf.bytes).replace(/\s+/g, ' ');
    for (const expected of [
      p1!.name, `Period: ${period} (1 January 2025 to 31 January 2025, Europe/Berlin)`, 'You pay the centre €15.00.',
      'Vouchers redeemed at your stores 3 €105.00', 'Vouchers sold and loaded at your tills', '-€120.00',
      'Net position (positive: owed to you) -€15.00', `${d.parties[2]!.name} 1 €30.00 €0.00`, 'Centre (scheme) 1 €50.00 €0.00',
      `${p2!.name} 2 €45.00 €15.00`, 'Signatures', `For ${p1!.name}: name, date, signature`,
    ]) expect(text).toContain(expected);
    // The e-mailed attachment is the stored statement.
    expect(mailsTo(p1!.email)[0]!.attachments[0]!.content.equals(pdf.bytes)).toBe(true);
    // Downloads are in the audit log, and so are the schedule's steps.
    const { rows: logged } = await h.deps.db.pool.query(
      `SELECT action FROM audit_entries WHERE subject IN ($1, $2) ORDER BY id`, [`statement:${period}:${p1!.id}`, `clearing:${period}`]);
    expect(logged.map((r) => r.action)).toEqual(expect.arrayContaining(['clearing_opened', 'clearing_frozen', 'clearing_computed', 'clearing_awaiting_approval', 'statement_downloaded']));

    const csv = await download(`/v1/clearing/periods/${period}/statements/${p2!.id}.csv`, finance);
    expect(csv.status).toBe(200);
    expect(csv.type).toContain('text/csv');
    const [header, ...rows] = parseCsv(csv.bytes.toString('utf8'));
    expect(header).toEqual(['booked_at', 'entry_id', 'type', 'store_id', 'store', 'terminal_id', 'terminal', 'card_last4', 'currency', 'amount_minor', 'amount']);
    const col = (name: string) => header!.indexOf(name);
    // P2: a sale, a load, two redemptions and a refund; the amounts sum to its net.
    expect(rows.map((r) => r[col('type')]).sort()).toEqual(['load', 'redemption', 'redemption', 'refund', 'sale']);
    expect(rows.reduce((n, r) => n + Number(r[col('amount_minor')]), 0)).toBe(-3_000);
    const sale = rows.find((r) => r[col('type')] === 'sale')!;
    expect(sale[col('amount_minor')]).toBe('-5000');
    expect(sale[col('amount')]).toBe('-50.00');
    expect(sale[col('store')]).toBe(d.stores[2]!.name);
    expect(sale[col('terminal_id')]).toBe(d.stores[2]!.terminalId);
    expect(sale[col('card_last4')]).toMatch(/^[0-9A-Z]{4}$/);
    expect(rows.every((r) => r[col('booked_at')]!.startsWith('2025-01-'))).toBe(true);
    const times = rows.map((r) => r[col('booked_at')]!);
    expect([...times].sort()).toEqual(times);

    // A billing party's own key sees its statement and its own positions only.
    const partyKey = (await createApiClient(h.deps.db.prisma, { name: 'P2 accounting', role: 'billing_party', billingPartyId: p2!.id })).apiKey;
    expect((await download(`/v1/clearing/periods/${period}/statements/${p2!.id}.csv`, partyKey)).bytes.equals(csv.bytes)).toBe(true);
    const foreign = await download(`/v1/clearing/periods/${period}/statements/${p1!.id}.pdf`, partyKey);
    expect(foreign.status).toBe(404);
    const seen = await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: partyKey });
    expect(seen.body.positions.map((p: any) => p.partyKey)).toEqual([p2!.id]);
    expect(seen.body.statements.map((s: any) => s.billingPartyId)).toEqual([p2!.id]);
    expect((await call(h, 'POST', `/v1/clearing/periods/${period}/start`, { key: partyKey })).status).toBe(403);
    const partyReport = await call(h, 'GET', `/v1/reports/periods/${period}`, { key: partyKey });
    expect(partyReport.body.totals).toBeNull();
    expect(partyReport.body.parties.map((p: any) => p.partyKey)).toEqual([p2!.id]);
    expect((await call(h, 'GET', `/v1/reports/periods/${period}?billingPartyId=${p1!.id}`, { key: partyKey })).status).toBe(403);

    // Without a key nothing; a terminal's key is not a back-office key; signed links work, altered ones do not.
    expect((await download(`/v1/clearing/periods/${period}/statements/${p2!.id}.csv`, null)).status).toBe(401);
    expect((await download(`/v1/clearing/periods/${period}/statements/${p2!.id}.csv`, h.terminalA.apiKey)).status).toBe(401);
    const signed = new URL(seen.body.statements[0].csvUrl);
    expect((await download(signed.pathname + signed.search, null)).bytes.equals(csv.bytes)).toBe(true);
    const altered = signed.pathname.replace(p2!.id, p1!.id) + signed.search;
    expect((await download(altered, null)).status).toBe(400);
  }, 60_000);

  it('reports the period from the ledger: the same figures as the clearing, and the liability around it', async () => {
    const report = await call(h, 'GET', `/v1/reports/periods/${period}`, { key: admin });
    expect(report.status).toBe(200);
    expect(report.body.open).toBe(false);
    expectHandComputed({ positions: report.body.parties, counterparties: (await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: finance })).body.counterparties }, d);
    expect(report.body.totals).toEqual([{
      currency: 'EUR', sales: 12_000 + 6_000 + 3_000 + 8_000, onlineSales: 8_000, redemptions: 10_500 + 4_500 + 8_000,
      refunds: 3_500, breakage: 1_500, liabilityChange: 8_000, outstandingAtStart: 0, outstandingAtEnd: 8_000,
    }]);
    // The open month is live: a sale now shows at once. (The centre's month: on the last evening
    // of a month in UTC, Berlin is in the next one already.)
    const now = periodIn(new Date(), h.config.clearingTimeZone);
    const before = await call(h, 'GET', `/v1/reports/periods/${now}`, { key: finance });
    expect(before.body.open).toBe(true);
    await call(h, 'POST', '/v1/cards', { body: { amount: 700, currency: 'EUR' }, idempotencyKey: randomUUID() });
    const after = await call(h, 'GET', `/v1/reports/periods/${now}`, { key: finance });
    expect(after.body.totals[0].sales - before.body.totals[0].sales).toBe(700);
    expect(after.body.totals[0].outstandingAtEnd - before.body.totals[0].outstandingAtEnd).toBe(700);
  }, 30_000);

  it('reruns to identical numbers and bytes, then closes on approval; a closed period cannot change', async () => {
    const before = await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: finance });
    const csvBefore = await download(`/v1/clearing/periods/${period}/statements/${d.parties[0]!.id}.csv`, finance);
    const mailsBefore = mailbox.messages.length;

    const rerun = await call(h, 'POST', `/v1/clearing/periods/${period}/rerun`, { key: finance, idempotencyKey: randomUUID() });
    expect(rerun.status).toBe(200);
    const after = await waitFor(async () => {
      const body = await awaitingApproval(period);
      return body.computeCount === 2 && body;
    }, 60_000);
    expect(after.positions).toEqual(before.body.positions);
    expect(after.counterparties).toEqual(before.body.counterparties);
    expect(after.statements.map((s: any) => s.pdfSha256)).toEqual(before.body.statements.map((s: any) => s.pdfSha256));
    expect((await download(`/v1/clearing/periods/${period}/statements/${d.parties[0]!.id}.csv`, finance)).bytes.equals(csvBefore.bytes)).toBe(true);
    expect(mailbox.messages.length).toBe(mailsBefore); // the same statements are not sent twice

    // Nothing can be booked into the frozen period.
    await expect(h.deps.db.pool.query(
      `INSERT INTO journal_entries (kind, currency, card_id, booked_at) VALUES ('load', 'EUR', $1, '2025-01-20T12:00:00Z')`,
      [d.cardIds[0]])).rejects.toMatchObject({ code: 'VE409' });

    const approved = await call(h, 'POST', `/v1/clearing/periods/${period}/approve`, { key: finance, idempotencyKey: randomUUID() });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'closed', approvedBy: expect.stringContaining('Finance test') });
    await expect(h.client.workflow.getHandle(`clearing-${period}`).result()).resolves.toMatchObject({ step: 'closed', runs: 2 });

    for (const [path, extra] of [['approve', {}], ['rerun', {}], ['start', {}]] as const) {
      const res = await call(h, 'POST', `/v1/clearing/periods/${period}/${path}`, { key: finance, idempotencyKey: randomUUID(), ...extra });
      expect(res.status, path).toBe(409);
      expect(res.body.error.code).toBe('period_closed');
    }
    await expect(h.deps.db.pool.query(`UPDATE clearing_positions SET net = 0 WHERE period = $1`, [period]))
      .rejects.toMatchObject({ message: 'period_closed' });
    await expect(h.deps.db.pool.query(`DELETE FROM clearing_statements WHERE period = $1`, [period]))
      .rejects.toMatchObject({ message: 'period_closed' });
    await expect(h.deps.db.pool.query(`UPDATE clearing_periods SET status = 'running' WHERE period = $1`, [period]))
      .rejects.toMatchObject({ message: 'period_closed' });
    const closed = await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: finance });
    expect(closed.body.positions).toEqual(before.body.positions);
    expect(closed.body.status).toBe('closed');
  }, 120_000);

  it('resumes after the worker dies mid-run: the same positions, one statement e-mail per party', async () => {
    const march = '2025-03';
    const dm = await buildDataset(h, 'mar');
    await moveIntoPeriod(inject('databaseUrl'), dm.cardIds, march);
    mailbox.refusing = true;
    const refusedBefore = mailbox.refusedCount;
    await call(h, 'POST', `/v1/clearing/periods/${march}/start`, { key: finance });
    // Statements rendered, their e-mails failing: stop the worker there.
    await waitFor(async () => mailbox.refusedCount > refusedBefore &&
      (await h.deps.db.pool.query('SELECT count(*)::int AS n FROM clearing_statements WHERE period = $1', [march])).rows[0].n === 3, 60_000);
    // The approval gate: nothing to approve while statements are still going out.
    const early = await call(h, 'POST', `/v1/clearing/periods/${march}/approve`, { key: finance, idempotencyKey: randomUUID() });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('clearing_not_awaiting_approval');
    await h.worker!.stop();
    mailbox.refusing = false;
    h.worker = await startWorker(h.deps, h.client);

    const body = await awaitingApproval(march);
    expectHandComputed(body, dm);
    expect(body.computeCount).toBe(1);
    for (const party of dm.parties) await waitFor(async () => mailsTo(party.email).length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    for (const party of dm.parties) expect(mailsTo(party.email)).toHaveLength(1);
  }, 120_000);

  it('refuses bad periods and callers with clear 4xx codes, changing nothing', async () => {
    const current = periodIn(new Date(), h.config.clearingTimeZone);
    const cases: [string, string, string | null, number, string][] = [
      ['POST', '/v1/clearing/periods/2025-13/start', finance, 400, 'validation_error'],
      ['POST', '/v1/clearing/periods/jan-2025/start', finance, 400, 'validation_error'],
      ['POST', '/v1/clearing/periods/0000-01/start', finance, 400, 'validation_error'],
      ['GET', '/v1/reports/periods/0000-01', finance, 400, 'validation_error'],
      ['POST', `/v1/clearing/periods/${current}/start`, finance, 422, 'period_not_ended'],
      ['POST', '/v1/clearing/periods/2099-01/start', finance, 422, 'period_not_ended'],
      ['GET', '/v1/clearing/periods/2024-03', finance, 404, 'period_not_found'],
      ['POST', '/v1/clearing/periods/2024-03/approve', finance, 404, 'period_not_found'],
      ['POST', '/v1/clearing/periods/2024-03/rerun', finance, 404, 'period_not_found'],
      ['GET', '/v1/reports/periods/2099-01', finance, 422, 'period_in_future'],
      ['POST', '/v1/clearing/periods/2024-03/start', null, 401, 'unauthenticated'],
      ['POST', '/v1/clearing/periods/2024-03/start', h.terminalA.apiKey, 401, 'unauthenticated'],
      ['POST', '/v1/clearing/periods/2025-03/approve', finance, 400, 'idempotency_key_required'],
    ];
    const periodsBefore = (await h.deps.db.pool.query('SELECT period, status, compute_count FROM clearing_periods ORDER BY period')).rows;
    for (const [method, path, key, status, code] of cases) {
      const idempotencyKey = /approve|rerun/.test(path) && status !== 400 ? randomUUID() : undefined;
      const res = await call(h, method, path, { key, idempotencyKey });
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.body.error.code, `${method} ${path}`).toBe(code);
    }
    const periodsAfter = (await h.deps.db.pool.query('SELECT period, status FROM clearing_periods ORDER BY period')).rows;
    expect(periodsAfter.map((p) => p.period)).toEqual(periodsBefore.map((p) => p.period));
  }, 60_000);

  it('is scheduled on the 1st at 02:00 Berlin time for the previous month, and the schedule starts that clearing', async () => {
    await ensureSchedules(h.client, engineSchedules(h.config.taskQueue, 72));
    const handle = h.client.schedule.getHandle(CLEARING_SCHEDULE_ID);
    const schedule = await handle.describe();
    expect(schedule.spec.timezone).toBe('Europe/Berlin');
    expect(schedule.spec.calendars?.[0]).toMatchObject({
      dayOfMonth: [{ start: 1, end: 1, step: 1 }], hour: [{ start: 2, end: 2, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }],
    });
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'scheduledClearingWorkflow' });

    await handle.trigger();
    const expected = previousPeriodIn(new Date(), 'Europe/Berlin');
    const started = await waitFor(async () => {
      const res = await call(h, 'GET', `/v1/clearing/periods/${expected}`, { key: finance });
      return res.status === 200 && res.body.progress?.step === 'awaiting_approval' && res.body;
    }, 60_000, 250);
    expect(started.period).toBe(expected);
    await h.client.workflow.getHandle(`clearing-${expected}`).terminate('test over');
  }, 90_000);

  it('does not let one bounced statement hold up the month, and keeps a store\'s party fixed once it has booked', async () => {
    const may = '2025-05';
    const dm = await buildDataset(h, 'may');
    await moveIntoPeriod(inject('databaseUrl'), dm.cardIds, may);
    mailbox.bouncing.add(dm.parties[1]!.email);
    await call(h, 'POST', `/v1/clearing/periods/${may}/start`, { key: finance });
    const body = await awaitingApproval(may);
    const bounced = body.statements.find((s: any) => s.billingPartyId === dm.parties[1]!.id);
    expect(bounced).toMatchObject({ emailedAt: null, emailError: expect.stringContaining('no such mailbox') });
    expect(body.statements.filter((s: any) => s.emailedAt !== null)).toHaveLength(2);
    const child = await h.client.workflow.getHandle(`clearing-${may}-${dm.parties[1]!.id}`).describe();
    expect(child.searchAttributes.VoucherStatus).toEqual(['email_failed']);
    const approved = await call(h, 'POST', `/v1/clearing/periods/${may}/approve`, { key: finance, idempotencyKey: randomUUID() });
    expect(approved.body.status).toBe('closed');

    // Moving a store with history to another party would rewrite who was owed what.
    await expect(h.deps.db.pool.query('UPDATE stores SET billing_party_id = $1 WHERE id = $2', [dm.parties[0]!.id, dm.stores[2]!.id]))
      .rejects.toMatchObject({ message: 'store_has_history' });
    // The closed month's report is the month as it was closed.
    const report = await call(h, 'GET', `/v1/reports/periods/${may}`, { key: finance });
    expect(report.body.parties.find((p: any) => p.partyKey === dm.parties[1]!.id).net).toBe(-3_000);
  }, 120_000);
});
