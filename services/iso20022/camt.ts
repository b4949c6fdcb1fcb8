// Bank-to-customer statements (camt.053, versions 001.02 and 001.08): the account they are for
// and each booked entry with its transactions' end-to-end ids, amounts and return reasons. Parsed
// with fast-xml-parser after the file has passed its official schema, so the shape is known.

import { XMLParser } from 'fast-xml-parser';
import { DomainError } from '../../domain/errors.ts';
import { minorFromDecimal } from '../../domain/sepa.ts';
import { validateAgainstSchema, type SchemaName } from './schemas.ts';

export interface StatementTransaction {
  endToEndId: string | null;
  /** The transaction's own amount, or the entry's when it has a single transaction. */
  amount: bigint;
  currency: string;
  /** ISO 20022 return reason code (e.g. AC04, MD06) when this is a return. */
  returnReason: string | null;
}

export interface StatementEntry {
  credit: boolean;
  reversal: boolean;
  booked: boolean;
  bookingDate: string | null;
  amount: bigint;
  currency: string;
  transactions: StatementTransaction[];
}

export interface BankStatement {
  schema: SchemaName;
  statementId: string;
  iban: string;
  entries: StatementEntry[];
}

const NAMESPACES: Record<string, SchemaName> = {
  'urn:iso:std:iso:20022:tech:xsd:camt.053.001.02': 'camt.053.001.02',
  'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08': 'camt.053.001.08',
};

type Node = Record<string, any>;

const parser = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, parseAttributeValue: false,
  isArray: (name) => ['Stmt', 'Ntry', 'NtryDtls', 'TxDtls'].includes(name),
  processEntities: false,
});

function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return text((v as Node)['#text']);
  return String(v).trim();
}

function money(node: Node | undefined): { amount: bigint; currency: string } | null {
  if (!node) return null;
  const amount = minorFromDecimal(text(node) ?? '');
  const currency = text(node['@Ccy']);
  return amount === null || !currency ? null : { amount, currency };
}

function refuse(message: string): never {
  throw new DomainError('invalid_bank_statement', message);
}

/** Parses and checks a statement; refuses anything that is not a valid camt.053 with 400. */
export async function parseBankStatement(schemaDir: string, xml: string): Promise<BankStatement> {
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    refuse(`the file is not well-formed XML: ${err instanceof Error ? err.message.split('\n')[0] : 'unreadable'}`);
  }
  // The parser drops namespace declarations: read the root's from the text.
  const namespace = doc.Document ? /<(?:[\w.-]+:)?Document\b[^>]*?\sxmlns(?::[\w.-]+)?="([^"]+)"/.exec(xml)?.[1] : undefined;
  const schema = namespace ? NAMESPACES[namespace] : undefined;
  if (!schema) refuse('the file is not a camt.053 bank statement (version 001.02 or 001.08)');
  const check = await validateAgainstSchema(schemaDir, schema, xml);
  if (!check.valid) refuse(`the statement does not match the ${schema} schema: ${check.errors.slice(0, 3).join('; ')}`);

  const statements = (doc.Document.BkToCstmrStmt.Stmt as Node[]);
  const ibans = new Set(statements.map((s) => text(s.Acct?.Id?.IBAN)));
  if (ibans.size !== 1 || ibans.has(null)) refuse('the statement must be for one account, identified by its IBAN');
  const entries: StatementEntry[] = [];
  for (const stmt of statements) {
    for (const ntry of (stmt.Ntry ?? []) as Node[]) {
      const entryMoney = money(ntry.Amt)!;
      // 001.02 writes the status as text, 001.08 as a code.
      const status = text(ntry.Sts?.Cd ?? ntry.Sts);
      const txs = ((ntry.NtryDtls ?? []) as Node[]).flatMap((d) => (d.TxDtls ?? []) as Node[]);
      const transactions = txs.map((tx): StatementTransaction => {
        const own = money(tx.Amt) ?? money(tx.AmtDtls?.TxAmt?.Amt) ?? (txs.length === 1 ? entryMoney : null);
        return {
          endToEndId: text(tx.Refs?.EndToEndId),
          amount: own?.amount ?? 0n, currency: own?.currency ?? entryMoney.currency,
          returnReason: text(tx.RtrInf?.Rsn?.Cd) ?? text(tx.RtrInf?.Rsn?.Prtry),
        };
      });
      entries.push({
        credit: text(ntry.CdtDbtInd) === 'CRDT', reversal: text(ntry.RvslInd) === 'true', booked: status === 'BOOK',
        bookingDate: text(ntry.BookgDt?.Dt) ?? text(ntry.BookgDt?.DtTm), amount: entryMoney.amount, currency: entryMoney.currency,
        transactions,
      });
    }
  }
  return { schema, statementId: text(statements[0]!.Id) ?? 'unknown', iban: [...ibans][0]!, entries };
}
