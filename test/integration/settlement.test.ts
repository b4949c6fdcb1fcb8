// Settling a closed period end to end: bank details with four-eyes approval, the
// settlement-<yyyy-mm> workflow started when finance closes the clearing, the exact pain.001 and
// pain.008 files of a hand-computed month (checked against the official ISO 20022 schemas with
// libxml2), reruns that add no payment, camt.053 reconciliation with its differences and metric,
// the DATEV export, and refusals of bad input and wrong roles.

import { randomUUID } from 'node:crypto';
import prom from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { businessDaysAfter, dayIn } from '../../domain/sepa.ts';
import { registerBacklogGauges } from '../../infra/metrics.ts';
import { DATEV_COLUMNS } from '../../services/datev.ts';
import { createApiClient } from '../../services/directory.ts';
import { validateAgainstSchema } from '../../services/iso20022/schemas.ts';
import { buildDataset, moveIntoPeriod, type Dataset } from '../helpers/clearing-dataset.ts';
import { call, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

// After the months the clearing tests report on: a month with outstanding vouchers before theirs
// would change their opening liability.
const PERIOD = '2025-11';
const CENTRE_IBAN = 'DE89370400440532013000';
const P1_IBAN = 'DE02500105170137075030';
const P2_IBAN = 'DE12500105170648489890';
const P3_IBAN = 'DE02120300000000202051';

let h: Harness;
let mailbox: Mailbox;
let financeA: string;
let financeB: string;
let partyKey: string;
let d: Dataset;
const schemaDir = () => inject('iso20022SchemaDir');

beforeAll(async () => {
  mailbox = await startMailbox();
  h = await startHarness({ config: { mail: { smtpUrl: mailbox.url, from: 'Centre <finance@centre.test>' } } });
  financeA = (await createApiClient(h.deps.db.prisma, { name: 'Finance A', role: 'finance' })).apiKey;
  financeB = (await createApiClient(h.deps.db.prisma, { name: 'Finance B', role: 'finance' })).apiKey;
  d = await buildDataset(h, 'sepa');
  await moveIntoPeriod(inject('databaseUrl'), d.cardIds, PERIOD);
  partyKey = (await createApiClient(h.deps.db.prisma, { name: 'P1 accounting', role: 'billing_party', billingPartyId: d.parties[0]!.id })).apiKey;
});

afterAll(async () => {
  await h?.close();
  await mailbox?.close();
});

const propose = (key: string, partyIndex: number, body: Record<string, unknown>) =>
  call(h, 'POST', `/v1/settlement/bank-details/${d.parties[partyIndex]!.id}`, { key, body, idempotencyKey: randomUUID() });
const decide = (key: string, partyIndex: number, approve = true) =>
  call(h, 'POST', `/v1/settlement/bank-details/${d.parties[partyIndex]!.id}/decision`, { key, body: { approve }, idempotencyKey: randomUUID() });

async function download(path: string, key: string | null): Promise<{ status: number; bytes: Buffer; type: string | null }> {
  const res = await fetch(h.baseUrl + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

async function upload(xml: string, key: string | null = financeA, contentType = 'application/xml') {
  const res = await fetch(`${h.baseUrl}/v1/settlement/periods/${PERIOD}/bank-statements`, {
    method: 'POST', headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': contentType }, body: xml,
  });
  return { status: res.status, body: await res.json() as any };
}

async function tableSums(): Promise<string> {
  const { rows } = await h.deps.db.pool.query(`SELECT
    (SELECT count(*) FROM party_bank_details) AS details, (SELECT count(*) FROM settlement_payments) AS payments,
    (SELECT count(*) FROM settlement_files) AS files, (SELECT count(*) FROM bank_statement_imports) AS imports,
    (SELECT coalesce(string_agg(status || ':' || coalesce(return_reason, ''), ',' ORDER BY id), '') FROM settlement_payments) AS states`);
  return JSON.stringify(rows[0]);
}

const e2e = (i: number) => `VE-${PERIOD}-${d.parties[i]!.id.replace(/-/g, '').slice(0, 24).toUpperCase()}`;

/** A camt.053.001.08 statement of an account with the given entries. */
function camt053(iban: string, entries: { amount: string; credit: boolean; e2e: string | null; returnReason?: string }[], id = randomUUID().slice(0, 8)): string {
  const ntry = entries.map((e) => `
    <Ntry>
      <Amt Ccy="EUR">${e.amount}</Amt>
      <CdtDbtInd>${e.credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>
      <Sts><Cd>BOOK</Cd></Sts>
      <BookgDt><Dt>2023-05-05</Dt></BookgDt>
      <BkTxCd/>
      <NtryDtls><TxDtls>
        ${e.e2e ? `<Refs><EndToEndId>${e.e2e}</EndToEndId></Refs>` : ''}
        <Amt Ccy="EUR">${e.amount}</Amt>
        <CdtDbtInd>${e.credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>
        ${e.returnReason ? `<RtrInf><Rsn><Cd>${e.returnReason}</Cd></Rsn></RtrInf>` : ''}
      </TxDtls></NtryDtls>
    </Ntry>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-${id}</MsgId><CreDtTm>2023-05-10T08:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S-${id}</Id>
      <Acct><Id><IBAN>${iban}</IBAN></Id></Acct>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2023-05-10</Dt></Dt></Bal>${ntry}
    </Stmt>
  </BkToCstmrStmt>
</Document>
`;
}

describe('settlement', () => {
  it('takes bank details only with a second approver, validated, sealed at rest, shown masked; the party is told', async () => {
    // P3 is owed 30.00 (a credit transfer); P1 owes 15.00 and has signed a mandate; P2 owes 30.00 without one.
    const p3 = await propose(financeA, 2, { iban: 'DE02 1203 0000 0000 2020 51', bic: 'byladem1001', accountHolder: 'Party Drei GmbH', mandate: null });
    expect(p3.status, JSON.stringify(p3.body)).toBe(200);
    expect(p3.body).toMatchObject({ status: 'pending', ibanMasked: 'DE•• •••• •••• 2051', bic: 'BYLADEM1001', proposedBy: 'Finance A' });
    // The same proposal again (a retry) is the same pending change; another one waits for it.
    expect((await propose(financeA, 2, { iban: P3_IBAN, bic: 'BYLADEM1001', accountHolder: 'Party Drei GmbH', mandate: null })).body.id).toBe(p3.body.id);
    const other = await propose(financeB, 2, { iban: P1_IBAN, bic: 'BYLADEM1001', accountHolder: 'Someone else', mandate: null });
    expect([other.status, other.body.error.code]).toEqual([409, 'bank_details_change_pending']);

    // The proposer cannot approve their own change.
    const self = await decide(financeA, 2);
    expect([self.status, self.body.error.code]).toEqual([409, 'second_approver_required']);
    const listed = await call(h, 'GET', `/v1/settlement/bank-details?billingPartyId=${d.parties[2]!.id}`, { key: financeA });
    expect(listed.body.bankDetails.map((b: any) => b.status)).toEqual(['pending']);

    const approved = await decide(financeB, 2);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: 'active', decidedBy: 'Finance B', proposedBy: 'Finance A' });
    const mail = await waitFor(async () => mailbox.messages.find((m) => JSON.stringify(m.to).includes(d.parties[2]!.email)));
    expect(mail.subject).toContain('your bank details were changed');
    expect(mail.text).toContain('DE•• •••• •••• 2051');
    expect(mail.text).not.toContain(P3_IBAN);

    // At rest: sealed, no IBAN or holder in clear.
    const { rows: [stored] } = await h.deps.db.pool.query('SELECT iban, account_holder FROM party_bank_details WHERE id = $1', [p3.body.id]);
    expect(stored.iban).toMatch(/^pii:/);
    expect(stored.account_holder).toMatch(/^pii:/);
    const { rows: log } = await h.deps.db.pool.query(
      `SELECT actor, action, details::text AS details FROM audit_entries WHERE subject = $1 ORDER BY id`, [`party:${d.parties[2]!.id}`]);
    expect(log.map((r) => [r.actor, r.action])).toEqual([['Finance A', 'bank_details_proposed'], ['Finance B', 'bank_details_approved']]);
    expect(log.map((r) => r.details).join()).not.toContain(P3_IBAN);

    // P1 with a mandate, P2 without; approved by the other user.
    expect((await propose(financeA, 0, { iban: P1_IBAN, bic: 'INGDDEFFXXX', accountHolder: 'Partei Eins AG', mandate: { reference: 'VE-MANDATE-P1', signedOn: '2022-05-01' } })).status).toBe(200);
    expect((await decide(financeB, 0)).status).toBe(200);
    expect((await propose(financeB, 1, { iban: P2_IBAN, bic: 'INGDDEFFXXX', accountHolder: 'Partei Zwei KG', mandate: null })).status).toBe(200);
    expect((await decide(financeA, 1)).status).toBe(200);
  }, 60_000);

  it('refuses bad bank details and the wrong role with 4xx, changing nothing', async () => {
    const before = await tableSums();
    const ok = { iban: P2_IBAN, bic: 'INGDDEFFXXX', accountHolder: 'Partei Zwei KG', mandate: null };
    const cases: [string, Record<string, unknown>, number, string][] = [
      [financeA, { ...ok, iban: 'DE12500105170648489891' }, 400, 'invalid_iban'],
      [financeA, { ...ok, iban: 'US12500105170648489890' }, 400, 'invalid_iban'],
      [financeA, { ...ok, bic: 'INGD-DE' }, 400, 'invalid_bic'],
      [financeA, { ...ok, mandate: { reference: 'M 1' , signedOn: '2022-01-01' } }, 400, 'invalid_mandate'],
      [financeA, { ...ok, mandate: { reference: 'M-1', signedOn: '2999-01-01' } }, 400, 'invalid_mandate'],
      [financeA, { ...ok, mandate: { reference: 'M-1' } }, 400, 'validation_error'],
      [financeA, { ...ok, mandate: { reference: 'M-1', signedOn: '' } }, 400, 'validation_error'],
      [partyKey, ok, 403, 'forbidden'],
      [h.terminalA.apiKey, ok, 401, 'unauthenticated'],
    ];
    for (const [key, body, status, code] of cases) {
      const res = await propose(key, 1, body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await decide(partyKey, 1)).status).toBe(403);
    const none = await decide(financeB, 1);
    expect([none.status, none.body.error.code]).toEqual([409, 'no_pending_bank_details']);
    expect(await tableSums()).toBe(before);
  }, 30_000);

  it('refuses to settle an open period, then settles it when finance closes the clearing: the exact, schema-valid files', async () => {
    expect((await call(h, 'POST', `/v1/settlement/periods/${PERIOD}/start`, { key: financeA })).body.error.code).toBe('period_not_found');
    expect((await call(h, 'POST', `/v1/clearing/periods/${PERIOD}/start`, { key: financeA })).status).toBe(200);
    await waitFor(async () => (await call(h, 'GET', `/v1/clearing/periods/${PERIOD}`, { key: financeA })).body.progress?.step === 'awaiting_approval', 60_000, 200);
    const open = await call(h, 'POST', `/v1/settlement/periods/${PERIOD}/start`, { key: financeA });
    expect([open.status, open.body.error.code]).toEqual([409, 'period_not_closed']);
    expect((await call(h, 'POST', `/v1/settlement/periods/${PERIOD}/start`, { key: partyKey })).status).toBe(403);

    // Closing the period starts its settlement.
    expect((await call(h, 'POST', `/v1/clearing/periods/${PERIOD}/approve`, { key: financeA, idempotencyKey: randomUUID() })).status).toBe(200);
    const handle = h.client.workflow.getHandle(`settlement-${PERIOD}`);
    const summary = await waitFor(async () => handle.result().catch(() => null), 60_000, 200);
    expect(summary).toMatchObject({ runs: 1, payments: 3 });
    const described = await handle.describe();
    expect(described.searchAttributes).toMatchObject({ VoucherPeriod: [PERIOD], VoucherStatus: ['files_ready'], VoucherAmount: [4_500] });
    // Each party's payment is a workflow of its own, found by period, party and status.
    const listed = async (query: string) => {
      const ids: string[] = [];
      for await (const w of h.client.workflow.list({ query })) ids.push(w.workflowId);
      return ids.sort();
    };
    const inFile = [0, 2].map((i) => `settlement-${PERIOD}-${d.parties[i]!.id}`).sort();
    await waitFor(async () => (await listed(`VoucherPeriod = '${PERIOD}' AND VoucherStatus = 'in_file' AND WorkflowType = 'settlementPartyWorkflow'`)).length === 2, 30_000, 300);
    expect(await listed(`VoucherPeriod = '${PERIOD}' AND VoucherStatus = 'in_file' AND WorkflowType = 'settlementPartyWorkflow'`)).toEqual(inFile);
    expect(await listed(`VoucherBillingPartyId = '${d.parties[1]!.id}' AND VoucherStatus = 'to_invoice' AND WorkflowType = 'settlementPartyWorkflow'`))
      .toEqual([`settlement-${PERIOD}-${d.parties[1]!.id}`]);
    const p2 = await h.client.workflow.getHandle(`settlement-${PERIOD}-${d.parties[2]!.id}`).describe();
    expect(p2.searchAttributes).toMatchObject({ VoucherPeriod: [PERIOD], VoucherBillingPartyId: [d.parties[2]!.id], VoucherStatus: ['in_file'], VoucherAmount: [3_000], VoucherCurrency: ['EUR'] });

    const s = await call(h, 'GET', `/v1/settlement/periods/${PERIOD}`, { key: financeA });
    expect(s.status).toBe(200);
    const byParty = (i: number) => s.body.payments.find((p: any) => p.billingPartyId === d.parties[i]!.id);
    expect(byParty(2)).toMatchObject({ direction: 'payout', amount: 3_000, method: 'credit_transfer', status: 'in_file', endToEndId: e2e(2) });
    expect(byParty(0)).toMatchObject({ direction: 'collection', amount: 1_500, method: 'direct_debit', status: 'in_file', endToEndId: e2e(0) });
    expect(byParty(1)).toMatchObject({ direction: 'collection', amount: 3_000, method: 'invoice', status: 'to_invoice', fileId: null });
    // To the cent: payouts minus collections (filed or invoiced) plus the centre's own line is zero.
    const clearing = await call(h, 'GET', `/v1/clearing/periods/${PERIOD}`, { key: financeA });
    const scheme = clearing.body.positions.find((p: any) => p.partyKey === 'scheme').net;
    expect(s.body.payments.reduce((n: number, p: any) => n + (p.direction === 'payout' ? p.amount : -p.amount), 0) + scheme).toBe(0);
    for (const p of clearing.body.positions.filter((x: any) => x.partyKey !== 'scheme')) {
      const pay = s.body.payments.find((x: any) => x.billingPartyId === p.partyKey);
      expect(pay.direction === 'payout' ? pay.amount : -pay.amount).toBe(p.net);
    }

    expect(s.body.files.map((f: any) => [f.kind, f.msgId, f.schema, f.payments, f.controlSum])).toEqual([
      ['credit_transfers', `VE-${PERIOD}-SCT-1`, 'pain.001.001.09', 1, 3_000],
      ['direct_debits', `VE-${PERIOD}-SDD-1`, 'pain.008.001.08', 1, 1_500],
    ]);
    const [sct, sdd] = s.body.files;
    const created = new Date(sct.createdAt);
    const stamp = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const date = businessDaysAfter(dayIn(created, 'Europe/Berlin'), 2);

    const pain001 = await download(sct.downloadPath, financeA);
    expect(pain001.status).toBe(200);
    expect(pain001.type).toContain('application/xml');
    expect(pain001.bytes.toString('utf8')).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>VE-${PERIOD}-SCT-1</MsgId>
      <CreDtTm>${stamp}</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>30.00</CtrlSum>
      <InitgPty>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>VE-${PERIOD}-SCT-1</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <BtchBookg>false</BtchBookg>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>30.00</CtrlSum>
      <PmtTpInf>
        <SvcLvl>
          <Cd>SEPA</Cd>
        </SvcLvl>
      </PmtTpInf>
      <ReqdExctnDt>
        <Dt>${date}</Dt>
      </ReqdExctnDt>
      <Dbtr>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id>
          <IBAN>${CENTRE_IBAN}</IBAN>
        </Id>
      </DbtrAcct>
      <DbtrAgt>
        <FinInstnId>
          <BICFI>COBADEFFXXX</BICFI>
        </FinInstnId>
      </DbtrAgt>
      <ChrgBr>SLEV</ChrgBr>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>${e2e(2)}</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="EUR">30.00</InstdAmt>
        </Amt>
        <CdtrAgt>
          <FinInstnId>
            <BICFI>BYLADEM1001</BICFI>
          </FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>Party Drei GmbH</Nm>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <IBAN>${P3_IBAN}</IBAN>
          </Id>
        </CdtrAcct>
        <RmtInf>
          <Ustrd>Voucher clearing ${PERIOD} ${d.parties[2]!.name}</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
`);
    expect(await validateAgainstSchema(schemaDir(), 'pain.001.001.09', pain001.bytes.toString('utf8'))).toEqual({ valid: true, errors: [] });

    const pain008 = await download(sdd.downloadPath, financeB);
    expect(pain008.bytes.toString('utf8')).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08">
  <CstmrDrctDbtInitn>
    <GrpHdr>
      <MsgId>VE-${PERIOD}-SDD-1</MsgId>
      <CreDtTm>${stamp}</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>15.00</CtrlSum>
      <InitgPty>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>VE-${PERIOD}-SDD-1</PmtInfId>
      <PmtMtd>DD</PmtMtd>
      <BtchBookg>false</BtchBookg>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>15.00</CtrlSum>
      <PmtTpInf>
        <SvcLvl>
          <Cd>SEPA</Cd>
        </SvcLvl>
        <LclInstrm>
          <Cd>CORE</Cd>
        </LclInstrm>
        <SeqTp>RCUR</SeqTp>
      </PmtTpInf>
      <ReqdColltnDt>${date}</ReqdColltnDt>
      <Cdtr>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </Cdtr>
      <CdtrAcct>
        <Id>
          <IBAN>${CENTRE_IBAN}</IBAN>
        </Id>
      </CdtrAcct>
      <CdtrAgt>
        <FinInstnId>
          <BICFI>COBADEFFXXX</BICFI>
        </FinInstnId>
      </CdtrAgt>
      <ChrgBr>SLEV</ChrgBr>
      <CdtrSchmeId>
        <Id>
          <PrvtId>
            <Othr>
              <Id>DE98ZZZ09999999999</Id>
              <SchmeNm>
                <Prtry>SEPA</Prtry>
              </SchmeNm>
            </Othr>
          </PrvtId>
        </Id>
      </CdtrSchmeId>
      <DrctDbtTxInf>
        <PmtId>
          <EndToEndId>${e2e(0)}</EndToEndId>
        </PmtId>
        <InstdAmt Ccy="EUR">15.00</InstdAmt>
        <DrctDbtTx>
          <MndtRltdInf>
            <MndtId>VE-MANDATE-P1</MndtId>
            <DtOfSgntr>2022-05-01</DtOfSgntr>
          </MndtRltdInf>
        </DrctDbtTx>
        <DbtrAgt>
          <FinInstnId>
            <BICFI>INGDDEFFXXX</BICFI>
          </FinInstnId>
        </DbtrAgt>
        <Dbtr>
          <Nm>Partei Eins AG</Nm>
        </Dbtr>
        <DbtrAcct>
          <Id>
            <IBAN>${P1_IBAN}</IBAN>
          </Id>
        </DbtrAcct>
        <RmtInf>
          <Ustrd>Voucher clearing ${PERIOD} ${d.parties[0]!.name}</Ustrd>
        </RmtInf>
      </DrctDbtTxInf>
    </PmtInf>
  </CstmrDrctDbtInitn>
</Document>
`);
    expect(await validateAgainstSchema(schemaDir(), 'pain.008.001.08', pain008.bytes.toString('utf8'))).toEqual({ valid: true, errors: [] });
    // A broken file fails the same check: the validator is real.
    const broken = await validateAgainstSchema(schemaDir(), 'pain.008.001.08', pain008.bytes.toString('utf8').replace('<SeqTp>RCUR</SeqTp>', '<SeqTp>EVERY</SeqTp>'));
    expect(broken.valid).toBe(false);

    // Downloads: finance and admin only, audited.
    expect((await download(sct.downloadPath, partyKey)).status).toBe(403);
    expect((await download(sct.downloadPath, null)).status).toBe(401);
    expect((await download(`/v1/settlement/periods/${PERIOD}/files/${randomUUID()}.xml`, financeA)).status).toBe(404);
    const { rows: downloads } = await h.deps.db.pool.query(
      `SELECT actor FROM audit_entries WHERE action = 'settlement_file_downloaded' AND subject = $1 ORDER BY id`, [`settlement:${PERIOD}`]);
    expect(downloads.map((r) => r.actor)).toEqual(['Finance A', 'Finance B']);
    // A billing party sees its own payment, no files.
    const own = await call(h, 'GET', `/v1/settlement/periods/${PERIOD}`, { key: partyKey });
    expect(own.body.payments.map((p: any) => p.billingPartyId)).toEqual([d.parties[0]!.id]);
    expect(own.body.files).toEqual([]);
  }, 120_000);

  it('reruns without a new payment or file; a mandate approved since gets a file of its own', async () => {
    const before = await tableSums();
    const rerun = await call(h, 'POST', `/v1/settlement/periods/${PERIOD}/start`, { key: financeA });
    expect(rerun.status, JSON.stringify(rerun.body)).toBe(200);
    await waitFor(async () => (await h.deps.db.pool.query('SELECT runs FROM settlement_runs WHERE period = $1', [PERIOD])).rows[0].runs === 2, 30_000);
    await h.client.workflow.getHandle(`settlement-${PERIOD}`).result();
    expect(await tableSums()).toBe(before);

    // P2 signs a mandate: after approval, the next run collects from it in a second file, alone.
    expect((await propose(financeA, 1, { iban: P2_IBAN, bic: 'INGDDEFFXXX', accountHolder: 'Partei Zwei KG', mandate: { reference: 'VE-MANDATE-P2', signedOn: '2023-05-02' } })).status).toBe(200);
    expect((await decide(financeB, 1)).status).toBe(200);
    expect((await call(h, 'POST', `/v1/settlement/periods/${PERIOD}/start`, { key: financeB })).status).toBe(200);
    await waitFor(async () => (await h.deps.db.pool.query('SELECT runs FROM settlement_runs WHERE period = $1', [PERIOD])).rows[0].runs === 3, 30_000);
    await h.client.workflow.getHandle(`settlement-${PERIOD}`).result();
    const s = await call(h, 'GET', `/v1/settlement/periods/${PERIOD}`, { key: financeA });
    expect(s.body.files.map((f: any) => [f.msgId, f.payments, f.controlSum])).toEqual([
      [`VE-${PERIOD}-SCT-1`, 1, 3_000], [`VE-${PERIOD}-SDD-1`, 1, 1_500], [`VE-${PERIOD}-SDD-2`, 1, 3_000],
    ]);
    const second = await download(s.body.files[2].downloadPath, financeA);
    const xml = second.bytes.toString('utf8');
    expect(xml).toContain(e2e(1));
    expect(xml).not.toContain(e2e(0));
    expect(await validateAgainstSchema(schemaDir(), 'pain.008.001.08', xml)).toEqual({ valid: true, errors: [] });
    expect(s.body.payments.filter((p: any) => p.fileId).length).toBe(3);
    // Each payment in exactly one file: no end-to-end id twice across the files.
    const ids = (await h.deps.db.pool.query('SELECT xml FROM settlement_files WHERE period = $1', [PERIOD])).rows
      .flatMap((r) => [...r.xml.matchAll(/<EndToEndId>([^<]+)<\/EndToEndId>/g)].map((m: RegExpMatchArray) => m[1]));
    expect(ids.sort()).toEqual([e2e(0), e2e(1), e2e(2)].sort());
  }, 90_000);

  it('reconciles a camt.053: paid, returned with its reason, missing, unknown; differences listed and alerted', async () => {
    const statement = camt053(CENTRE_IBAN, [
      { amount: '30.00', credit: false, e2e: e2e(2) },                      // P3 paid out
      { amount: '15.00', credit: true, e2e: e2e(0) },                       // P1 collected …
      { amount: '15.00', credit: false, e2e: e2e(0), returnReason: 'MD06' }, // … and returned by its bank
      { amount: '12.34', credit: true, e2e: 'SOMETHING-ELSE-1' },           // nobody's
    ]);
    const res = await upload(statement);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const state = Object.fromEntries(res.body.payments.map((p: any) => [p.endToEndId, [p.status, p.returnReason]]));
    expect(state).toEqual({ [e2e(2)]: ['paid', null], [e2e(0)]: ['returned', 'MD06'], [e2e(1)]: ['missing', null] });
    expect(res.body.differences.map((x: any) => [x.kind, x.endToEndId, x.reasonCode, x.actualAmount]).sort()).toEqual([
      ['missing', e2e(1), null, null], ['returned', e2e(0), 'MD06', 1_500], ['unknown_payment', 'SOMETHING-ELSE-1', null, 1_234],
    ].sort());

    const registry = new prom.Registry();
    registerBacklogGauges(h.deps.db.pool, registry);
    const metrics = await registry.metrics();
    for (const [kind, n] of [['returned', 1], ['missing', 1], ['unknown_payment', 1], ['wrong_amount', 0]] as const) {
      expect(metrics).toContain(`voucher_settlement_differences{kind="${kind}"} ${n}`);
    }
    // The same file again changes nothing.
    const before = await tableSums();
    const again = await upload(statement);
    expect([again.status, again.body.replayed]).toEqual([200, true]);
    expect(await tableSums()).toBe(before);

    // A later statement: P2's collection arrives for the wrong amount; the earlier states stand.
    const later = await upload(camt053(CENTRE_IBAN, [{ amount: '29.00', credit: true, e2e: e2e(1) }]));
    const laterState = Object.fromEntries(later.body.payments.map((p: any) => [p.endToEndId, p.status]));
    expect(laterState).toEqual({ [e2e(2)]: 'paid', [e2e(0)]: 'returned', [e2e(1)]: 'wrong_amount' });
    expect(later.body.differences.map((x: any) => [x.kind, x.expectedAmount, x.actualAmount])).toEqual([['wrong_amount', 3_000, 2_900]]);
    const portal = await call(h, 'GET', `/v1/settlement/periods/${PERIOD}`, { key: financeA });
    expect(portal.body.differences).toHaveLength(1);
  }, 60_000);

  it('refuses statements that are not camt.053, of another account, or from the wrong role, changing nothing', async () => {
    const before = await tableSums();
    const pain001 = (await h.deps.db.pool.query(`SELECT xml FROM settlement_files WHERE period = $1 AND kind = 'credit_transfers'`, [PERIOD])).rows[0].xml;
    const cases: [string, string | null, string, number, string][] = [
      [pain001, financeA, 'application/xml', 400, 'invalid_bank_statement'],
      ['<not xml', financeA, 'application/xml', 400, 'invalid_bank_statement'],
      ['', financeA, 'application/xml', 400, 'invalid_bank_statement'],
      [camt053(CENTRE_IBAN, [{ amount: '30.00', credit: false, e2e: e2e(2) }]).replace('<CdtDbtInd>DBIT</CdtDbtInd>', '<CdtDbtInd>MAYBE</CdtDbtInd>'), financeA, 'application/xml', 400, 'invalid_bank_statement'],
      [camt053(P3_IBAN, [{ amount: '30.00', credit: false, e2e: e2e(2) }]), financeA, 'application/xml', 422, 'bank_statement_wrong_account'],
      [camt053(CENTRE_IBAN, []), partyKey, 'application/xml', 403, 'forbidden'],
      [camt053(CENTRE_IBAN, []), null, 'application/xml', 401, 'unauthenticated'],
      [camt053(CENTRE_IBAN, []), financeA, 'text/plain', 415, 'unsupported_media_type'],
    ];
    for (const [body, key, type, status, code] of cases) {
      const res = await upload(body, key, type);
      expect([res.status, res.body.error?.code], `${code} ${body.slice(0, 60)}`).toEqual([status, code]);
    }
    expect(await tableSums()).toBe(before);
  }, 60_000);

  it('exports a party statement as a DATEV booking batch with the format\'s header and columns', async () => {
    const res = await download(`/v1/settlement/periods/${PERIOD}/datev/${d.parties[0]!.id}.csv`, financeA);
    expect(res.status).toBe(200);
    const lines = res.bytes.toString('latin1').split('\r\n');
    expect(lines.at(-1)).toBe('');
    const header = lines[0]!.split(';');
    expect(header.slice(0, 6)).toEqual(['"EXTF"', '700', '21', '"Buchungsstapel"', '13', expect.stringMatching(/^\d{17}$/)]);
    // Consultant, client, fiscal year start, account length, period from and to.
    expect(header.slice(10, 16)).toEqual(['1001', '1', '20250101', '4', '20251101', '20251130']);
    expect(header).toHaveLength(31);
    expect(lines[1]!.split(';').map((c) => c.replace(/^"|"$/g, ''))).toEqual([...DATEV_COLUMNS]);
    const rows = lines.slice(2, -1).map((l) => l.split(';'));
    // P1: sold 120.00 at its tills (debit), accepted 105.00 (credit), no refunds: net -15.00.
    expect(rows.map((r) => [r[0], r[1], r[2], r[6], r[7], r[9], r[10], r[13]])).toEqual([
      ['120,00', '"S"', '"EUR"', '1600', '1590', '3011', '"VE202511"', `"Gutscheinverkäufe ${PERIOD}"`],
      ['105,00', '"H"', '"EUR"', '1600', '1590', '3011', '"VE202511"', `"Gutscheineinlösungen ${PERIOD}"`],
    ]);
    const cents = (r: string[]) => Number(r[0]!.replace(',', '')) * (r[1] === '"H"' ? 1 : -1);
    expect(rows.reduce((n, r) => n + cents(r), 0)).toBe(d.expected.parties[0]!.net);
    // A party's own key gets its own export only.
    expect((await download(`/v1/settlement/periods/${PERIOD}/datev/${d.parties[0]!.id}.csv`, partyKey)).status).toBe(200);
    expect((await download(`/v1/settlement/periods/${PERIOD}/datev/${d.parties[1]!.id}.csv`, partyKey)).status).toBe(404);
    expect((await download(`/v1/settlement/periods/2025-10/datev/${d.parties[0]!.id}.csv`, financeA)).status).toBe(404);
  }, 30_000);

  it('exports the centre\'s journal of the period as a DATEV booking batch that balances account by account', async () => {
    const res = await download(`/v1/settlement/periods/${PERIOD}/datev-journal.csv`, financeA);
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/csv');
    const lines = res.bytes.toString('latin1').split('\r\n');
    expect(lines.at(-1)).toBe('');
    const header = lines[0]!.split(';');
    expect(header.slice(0, 5)).toEqual(['"EXTF"', '700', '21', '"Buchungsstapel"', '13']);
    expect(header.slice(10, 17)).toEqual(['1001', '1', '20250101', '4', '20251101', '20251130', `"Gutscheine Journal ${PERIOD}"`]);
    expect(header).toHaveLength(31);
    expect(lines[1]!.split(';').map((c) => c.replace(/^"|"$/g, ''))).toEqual([...DATEV_COLUMNS]);
    const rows = lines.slice(2, -1).map((l) => l.split(';'));
    expect(rows.length).toBeGreaterThan(0);
    const cents = (r: string[]) => Number(r[0]!.replace(',', ''));
    for (const r of rows) {
      expect(r).toHaveLength(DATEV_COLUMNS.length);
      expect([r[1], r[2], r[10]]).toEqual(['"S"', '"EUR"', '"VE202511"']);
      expect(r[6]).not.toBe(r[7]);
      expect(cents(r)).toBeGreaterThan(0);
      expect(r[9]).toMatch(/^(0[1-9]|[12]\d|30)11$/);
    }
    // Credits minus debits per account: the parties' accounts (default 1600) hold minus what the
    // parties owe together, the provider's clearing account the online sale, breakage its income,
    // the voucher clearing account the month's change in liability; together zero.
    const net = new Map<string, number>();
    for (const r of rows) {
      net.set(r[6]!, (net.get(r[6]!) ?? 0) - cents(r));
      net.set(r[7]!, (net.get(r[7]!) ?? 0) + cents(r));
    }
    const partiesNet = d.expected.parties.reduce((n, p) => n + p.net, 0);
    expect(Object.fromEntries(net)).toEqual({
      1600: partiesNet, 1360: -d.expected.scheme.onlineSales, 2700: d.expected.scheme.breakage, 1590: d.expected.scheme.liabilityChange,
    });
    expect(partiesNet - d.expected.scheme.onlineSales + d.expected.scheme.breakage + d.expected.scheme.liabilityChange).toBe(0);
    // Each party's sales and redemptions are named with it.
    const texts = rows.map((r) => r[13]!);
    for (const party of d.parties) expect(texts.some((t) => t.includes('Gutscheineinl') && t.includes(party.name))).toBe(true);
    expect(texts.some((t) => t.startsWith('"Verfall'))).toBe(true);

    const audited = await h.deps.db.pool.query(`SELECT actor FROM audit_entries WHERE action = 'datev_exported' AND subject = $1`, [`journal:${PERIOD}`]);
    expect(audited.rows.map((r) => r.actor)).toEqual(['Finance A']);
    expect((await download(`/v1/settlement/periods/${PERIOD}/datev-journal.csv`, partyKey)).status).toBe(403);
    expect((await download(`/v1/settlement/periods/${PERIOD}/datev-journal.csv`, null)).status).toBe(401);
    expect((await download('/v1/settlement/periods/2025-10/datev-journal.csv', financeA)).status).toBe(404);
    expect((await download('/v1/settlement/periods/2025-13/datev-journal.csv', financeA)).status).toBe(400);
  }, 30_000);
});
