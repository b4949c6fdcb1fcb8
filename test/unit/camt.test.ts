// Bank statements in both camt.053 versions banks send (001.02 and 001.08), checked against the
// official schemas: entries, end-to-end ids, amounts and return reasons come out the same.

import { describe, expect, inject, it } from 'vitest';
import { DomainError } from '../../domain/errors.ts';
import { parseBankStatement } from '../../services/iso20022/camt.ts';

const V02 = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2023-05-10T08:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S1</Id>
      <CreDtTm>2023-05-10T08:00:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2023-05-10</Dt></Dt></Bal>
      <Ntry>
        <Amt Ccy="EUR">30.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2023-05-05</Dt></BookgDt>
        <BkTxCd><Prtry><Cd>NTRF</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>VE-2023-04-A</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy="EUR">30.00</Amt></TxAmt></AmtDtls></TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">15.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts>BOOK</Sts>
        <BkTxCd><Prtry><Cd>NRTI</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>VE-2023-04-B</EndToEndId></Refs><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">9.99</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>PDNG</Sts><BkTxCd/>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
`;

describe('camt.053', () => {
  it('reads version 001.02: account, booked and pending entries, end-to-end ids, amounts, returns', async () => {
    const s = await parseBankStatement(inject('iso20022SchemaDir'), V02);
    expect(s).toMatchObject({ schema: 'camt.053.001.02', statementId: 'S1', iban: 'DE89370400440532013000' });
    expect(s.entries).toEqual([
      { credit: false, reversal: false, booked: true, bookingDate: '2023-05-05', amount: 3000n, currency: 'EUR',
        transactions: [{ endToEndId: 'VE-2023-04-A', amount: 3000n, currency: 'EUR', returnReason: null }] },
      { credit: false, reversal: true, booked: true, bookingDate: null, amount: 1500n, currency: 'EUR',
        transactions: [{ endToEndId: 'VE-2023-04-B', amount: 1500n, currency: 'EUR', returnReason: 'AC04' }] },
      { credit: true, reversal: false, booked: false, bookingDate: null, amount: 999n, currency: 'EUR', transactions: [] },
    ]);
  });

  it('refuses a file that does not match its schema, or is no statement at all', async () => {
    const refused = async (xml: string) => parseBankStatement(inject('iso20022SchemaDir'), xml).then(() => 'accepted', (e) => (e instanceof DomainError ? e.code : String(e)));
    expect(await refused(V02.replace('<Sts>BOOK</Sts>', '<Sts>DONE</Sts>'))).toBe('invalid_bank_statement');
    expect(await refused(V02.replace('camt.053.001.02', 'camt.052.001.02'))).toBe('invalid_bank_statement');
    expect(await refused('<?xml version="1.0"?><Document/>')).toBe('invalid_bank_statement');
    expect(await refused('not xml at all <<')).toBe('invalid_bank_statement');
  });
});
