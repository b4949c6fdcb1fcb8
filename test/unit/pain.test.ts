// The 2009 SEPA formats many banks still take (pain.001.001.03, pain.008.001.02): the exact
// documents for one transfer and one debit, valid against the official schemas with libxml2, and
// the 2019 formats from the same input valid against theirs.

import { describe, expect, inject, it } from 'vitest';
import { creditTransferFile, directDebitFile, PAIN_SCHEMAS, type PainVersion } from '../../services/iso20022/pain.ts';
import { validateAgainstSchema } from '../../services/iso20022/schemas.ts';

const header = (version: PainVersion) => ({
  msgId: 'VE-2025-11-SCT-1', createdAt: new Date('2025-12-01T09:30:15.123Z'), date: '2025-12-03', version,
  centre: { name: 'Centre Gift Vouchers GmbH', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' },
});
const transfer = {
  endToEndId: 'VE-2025-11-0F8FAD5BD9CB469FA165', amount: 3_000n, remittance: 'Voucher clearing 2025-11 Café Müller',
  creditor: { name: 'Café Müller & Söhne', iban: 'DE02120300000000202051', bic: 'BYLADEM1001' },
};
const debit = {
  endToEndId: 'VE-2025-11-7C9E6679742540DEA3A1', amount: 1_505n, remittance: 'Voucher clearing 2025-11 Books',
  debtor: { name: 'Books & Co', iban: 'DE02500105170137075030', bic: 'INGDDEFFXXX' }, mandateId: 'MANDATE-1', mandateSignedOn: '2025-01-15',
};
const ddHeader = (version: PainVersion) => ({ ...header(version), msgId: 'VE-2025-11-SDD-1', creditorId: 'DE98ZZZ09999999999', scheme: 'CORE' as const });

describe('pain.001.001.03 and pain.008.001.02', () => {
  it('writes the exact 2009 credit-transfer document, valid against its schema', async () => {
    const xml = creditTransferFile(header('03'), [transfer]);
    expect(xml).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>VE-2025-11-SCT-1</MsgId>
      <CreDtTm>2025-12-01T09:30:15Z</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>30.00</CtrlSum>
      <InitgPty>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>VE-2025-11-SCT-1</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <BtchBookg>false</BtchBookg>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>30.00</CtrlSum>
      <PmtTpInf>
        <SvcLvl>
          <Cd>SEPA</Cd>
        </SvcLvl>
      </PmtTpInf>
      <ReqdExctnDt>2025-12-03</ReqdExctnDt>
      <Dbtr>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id>
          <IBAN>DE89370400440532013000</IBAN>
        </Id>
      </DbtrAcct>
      <DbtrAgt>
        <FinInstnId>
          <BIC>COBADEFFXXX</BIC>
        </FinInstnId>
      </DbtrAgt>
      <ChrgBr>SLEV</ChrgBr>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>VE-2025-11-0F8FAD5BD9CB469FA165</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="EUR">30.00</InstdAmt>
        </Amt>
        <CdtrAgt>
          <FinInstnId>
            <BIC>BYLADEM1001</BIC>
          </FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>Cafe Mueller Soehne</Nm>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <IBAN>DE02120300000000202051</IBAN>
          </Id>
        </CdtrAcct>
        <RmtInf>
          <Ustrd>Voucher clearing 2025-11 Cafe Mueller</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
`);
    expect(await validateAgainstSchema(inject('iso20022SchemaDir'), 'pain.001.001.03', xml)).toEqual({ valid: true, errors: [] });
  });

  it('writes the exact 2009 direct-debit document, valid against its schema', async () => {
    const xml = directDebitFile(ddHeader('03'), [debit]);
    expect(xml).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">
  <CstmrDrctDbtInitn>
    <GrpHdr>
      <MsgId>VE-2025-11-SDD-1</MsgId>
      <CreDtTm>2025-12-01T09:30:15Z</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>15.05</CtrlSum>
      <InitgPty>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>VE-2025-11-SDD-1</PmtInfId>
      <PmtMtd>DD</PmtMtd>
      <BtchBookg>false</BtchBookg>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>15.05</CtrlSum>
      <PmtTpInf>
        <SvcLvl>
          <Cd>SEPA</Cd>
        </SvcLvl>
        <LclInstrm>
          <Cd>CORE</Cd>
        </LclInstrm>
        <SeqTp>RCUR</SeqTp>
      </PmtTpInf>
      <ReqdColltnDt>2025-12-03</ReqdColltnDt>
      <Cdtr>
        <Nm>Centre Gift Vouchers GmbH</Nm>
      </Cdtr>
      <CdtrAcct>
        <Id>
          <IBAN>DE89370400440532013000</IBAN>
        </Id>
      </CdtrAcct>
      <CdtrAgt>
        <FinInstnId>
          <BIC>COBADEFFXXX</BIC>
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
          <EndToEndId>VE-2025-11-7C9E6679742540DEA3A1</EndToEndId>
        </PmtId>
        <InstdAmt Ccy="EUR">15.05</InstdAmt>
        <DrctDbtTx>
          <MndtRltdInf>
            <MndtId>MANDATE-1</MndtId>
            <DtOfSgntr>2025-01-15</DtOfSgntr>
          </MndtRltdInf>
        </DrctDbtTx>
        <DbtrAgt>
          <FinInstnId>
            <BIC>INGDDEFFXXX</BIC>
          </FinInstnId>
        </DbtrAgt>
        <Dbtr>
          <Nm>Books Co</Nm>
        </Dbtr>
        <DbtrAcct>
          <Id>
            <IBAN>DE02500105170137075030</IBAN>
          </Id>
        </DbtrAcct>
        <RmtInf>
          <Ustrd>Voucher clearing 2025-11 Books</Ustrd>
        </RmtInf>
      </DrctDbtTxInf>
    </PmtInf>
  </CstmrDrctDbtInitn>
</Document>
`);
    expect(await validateAgainstSchema(inject('iso20022SchemaDir'), 'pain.008.001.02', xml)).toEqual({ valid: true, errors: [] });
  });

  it('is refused by the schema of the other version, and the 2019 documents pass theirs', async () => {
    const dir = inject('iso20022SchemaDir');
    expect((await validateAgainstSchema(dir, 'pain.001.001.09', creditTransferFile(header('03'), [transfer]))).valid).toBe(false);
    for (const version of ['09', '03'] as const) {
      expect(await validateAgainstSchema(dir, PAIN_SCHEMAS[version].creditTransfers, creditTransferFile(header(version), [transfer]))).toEqual({ valid: true, errors: [] });
      expect(await validateAgainstSchema(dir, PAIN_SCHEMAS[version].directDebits, directDebitFile(ddHeader(version), [debit]))).toEqual({ valid: true, errors: [] });
    }
  });
});
