// SEPA payment initiation files: credit transfers (pain.001.001.09) and direct debits
// (pain.008.001.08), or the 2009 versions many banks still take (pain.001.001.03 and
// pain.008.001.02), written with xmlbuilder2 (element order as the schema defines it; values
// escaped by the builder). One payment information block per file: one execution date, the
// centre's account. The caller validates the result against the official schema before offering it.

import { create } from 'xmlbuilder2';
import { sepaText, xmlAmount } from '../../domain/sepa.ts';
import type { SchemaName } from './schemas.ts';

/** SEPA_PAIN_VERSION: `09` (pain.001.001.09 / pain.008.001.08) or `03` (pain.001.001.03 / pain.008.001.02). */
export type PainVersion = '09' | '03';

export const PAIN_SCHEMAS = {
  '09': { creditTransfers: 'pain.001.001.09', directDebits: 'pain.008.001.08' },
  '03': { creditTransfers: 'pain.001.001.03', directDebits: 'pain.008.001.02' },
} as const satisfies Record<PainVersion, { creditTransfers: SchemaName; directDebits: SchemaName }>;


export interface Account {
  name: string;
  iban: string;
  bic: string;
}

export interface CreditTransfer {
  endToEndId: string;
  amount: bigint;
  creditor: Account;
  remittance: string;
}

export interface DirectDebit {
  endToEndId: string;
  amount: bigint;
  debtor: Account;
  mandateId: string;
  /** YYYY-MM-DD */
  mandateSignedOn: string;
  remittance: string;
}

interface FileHeader {
  msgId: string;
  createdAt: Date;
  /** YYYY-MM-DD: when the bank should execute (transfers) or collect (debits). */
  date: string;
  /** The centre's account. */
  centre: Account;
  /** Default 09. */
  version?: PainVersion;
}

/** xs:dateTime to the second, in UTC. */
function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sum(amounts: bigint[]): bigint {
  return amounts.reduce((a, b) => a + b, 0n);
}

// The 2009 schemas name the BIC element BIC, the 2019 ones BICFI.
function agent(bic: string, version: PainVersion) {
  return { FinInstnId: version === '03' ? { BIC: bic } : { BICFI: bic } };
}

function account(iban: string) {
  return { Id: { IBAN: iban } };
}

function render(namespace: string, root: string, body: object): string {
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele({ Document: { '@xmlns': `urn:iso:std:iso:20022:tech:xsd:${namespace}`, [root]: body } })
    .end({ prettyPrint: true, indent: '  ', newline: '\n' }) + '\n';
}

export function creditTransferFile(h: FileHeader, transfers: CreditTransfer[]): string {
  const version = h.version ?? '09';
  const count = String(transfers.length);
  const total = xmlAmount(sum(transfers.map((t) => t.amount)));
  return render(PAIN_SCHEMAS[version].creditTransfers, 'CstmrCdtTrfInitn', {
    GrpHdr: { MsgId: h.msgId, CreDtTm: isoSeconds(h.createdAt), NbOfTxs: count, CtrlSum: total, InitgPty: { Nm: sepaText(h.centre.name, 70) } },
    PmtInf: {
      PmtInfId: h.msgId, PmtMtd: 'TRF', BtchBookg: 'false', NbOfTxs: count, CtrlSum: total,
      PmtTpInf: { SvcLvl: { Cd: 'SEPA' } },
      // A plain date in 2009; a choice of date or date-time since.
      ReqdExctnDt: version === '03' ? h.date : { Dt: h.date },
      Dbtr: { Nm: sepaText(h.centre.name, 70) }, DbtrAcct: account(h.centre.iban), DbtrAgt: agent(h.centre.bic, version),
      ChrgBr: 'SLEV',
      CdtTrfTxInf: transfers.map((t) => ({
        PmtId: { EndToEndId: t.endToEndId },
        Amt: { InstdAmt: { '@Ccy': 'EUR', '#': xmlAmount(t.amount) } },
        CdtrAgt: agent(t.creditor.bic, version),
        Cdtr: { Nm: sepaText(t.creditor.name, 70) },
        CdtrAcct: account(t.creditor.iban),
        RmtInf: { Ustrd: sepaText(t.remittance, 140) },
      })),
    },
  });
}

export function directDebitFile(h: FileHeader & { creditorId: string; scheme: 'CORE' | 'B2B' }, debits: DirectDebit[]): string {
  const version = h.version ?? '09';
  const count = String(debits.length);
  const total = xmlAmount(sum(debits.map((d) => d.amount)));
  return render(PAIN_SCHEMAS[version].directDebits, 'CstmrDrctDbtInitn', {
    GrpHdr: { MsgId: h.msgId, CreDtTm: isoSeconds(h.createdAt), NbOfTxs: count, CtrlSum: total, InitgPty: { Nm: sepaText(h.centre.name, 70) } },
    PmtInf: {
      PmtInfId: h.msgId, PmtMtd: 'DD', BtchBookg: 'false', NbOfTxs: count, CtrlSum: total,
      // Recurrent: a party is collected from month after month under one mandate; since the 2016
      // rulebook a first collection may be sent as RCUR too.
      PmtTpInf: { SvcLvl: { Cd: 'SEPA' }, LclInstrm: { Cd: h.scheme }, SeqTp: 'RCUR' },
      ReqdColltnDt: h.date,
      Cdtr: { Nm: sepaText(h.centre.name, 70) }, CdtrAcct: account(h.centre.iban), CdtrAgt: agent(h.centre.bic, version),
      ChrgBr: 'SLEV',
      CdtrSchmeId: { Id: { PrvtId: { Othr: { Id: h.creditorId, SchmeNm: { Prtry: 'SEPA' } } } } },
      DrctDbtTxInf: debits.map((d) => ({
        PmtId: { EndToEndId: d.endToEndId },
        InstdAmt: { '@Ccy': 'EUR', '#': xmlAmount(d.amount) },
        DrctDbtTx: { MndtRltdInf: { MndtId: d.mandateId, DtOfSgntr: d.mandateSignedOn } },
        DbtrAgt: agent(d.debtor.bic, version),
        Dbtr: { Nm: sepaText(d.debtor.name, 70) },
        DbtrAcct: account(d.debtor.iban),
        RmtInf: { Ustrd: sepaText(d.remittance, 140) },
      })),
    },
  });
}
