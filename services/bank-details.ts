// Bank details of billing parties, with four-eyes approval: a change is proposed by one back-office
// user and takes effect only when a second one approves it (changed bank details are the classic
// payment fraud). IBAN and account holder are sealed at rest like other personal data; the last
// four IBAN characters are kept in clear to show them masked. Every step is audited in the
// transaction that takes it.

import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { maskIban, normaliseBic, normaliseIban, normaliseMandateReference } from '../domain/sepa.ts';
import { inTransaction } from '../infra/db.ts';
import { audit } from './audit.ts';

export interface BankDetailsInput {
  iban: string;
  bic: string;
  accountHolder: string;
  /** A SEPA direct-debit mandate the party signed, for parties that owe the centre. */
  mandate: { reference: string; signedOn: string } | null;
}

export interface Actor {
  id: string;
  name: string;
}

export interface BankDetailsView {
  id: string;
  billingPartyId: string;
  status: 'pending' | 'active' | 'superseded' | 'rejected';
  ibanMasked: string;
  bic: string;
  accountHolder: string;
  mandateReference: string | null;
  mandateSignedOn: string | null;
  proposedBy: string;
  proposedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
}

/** What a settlement file needs: the details opened. */
export interface OpenBankDetails {
  id: string;
  billingPartyId: string;
  iban: string;
  bic: string;
  accountHolder: string;
  mandateReference: string | null;
  mandateSignedOn: string | null;
}

interface Row {
  id: string; billing_party_id: string; status: BankDetailsView['status']; iban: string; iban_last4: string; iban_country: string;
  bic: string; account_holder: string; mandate_reference: string | null; mandate_signed_on: string | null;
  proposed_by: string; proposed_by_id: string; proposed_at: Date; decided_by: string | null; decided_at: Date | null;
}

const COLUMNS = `id, billing_party_id, status, iban, iban_last4, iban_country, bic, account_holder, mandate_reference,
  to_char(mandate_signed_on, 'YYYY-MM-DD') AS mandate_signed_on, proposed_by, proposed_by_id, proposed_at, decided_by, decided_at`;

/** Checks and normalises what a user typed; refuses with the field's own code. */
export function validateBankDetails(input: BankDetailsInput, today: string): BankDetailsInput {
  const accountHolder = input.accountHolder.trim();
  if (!accountHolder || accountHolder.length > 70) throw new DomainError('validation_error', 'the account holder is 1-70 characters');
  let mandate: BankDetailsInput['mandate'] = null;
  if (input.mandate) {
    if (!input.mandate.signedOn) throw new DomainError('invalid_mandate', 'a mandate needs the date it was signed');
    if (input.mandate.signedOn > today) throw new DomainError('invalid_mandate', 'a mandate cannot be signed in the future');
    mandate = { reference: normaliseMandateReference(input.mandate.reference), signedOn: input.mandate.signedOn };
  }
  return { iban: normaliseIban(input.iban), bic: normaliseBic(input.bic), accountHolder, mandate };
}

export class BankDetailsStore {
  constructor(private readonly pool: pg.Pool, private readonly pii: PiiCipher) {}

  private view(r: Row): BankDetailsView {
    return {
      id: r.id, billingPartyId: r.billing_party_id, status: r.status, ibanMasked: maskIban(r.iban_country, r.iban_last4), bic: r.bic,
      accountHolder: this.pii.open(r.account_holder), mandateReference: r.mandate_reference, mandateSignedOn: r.mandate_signed_on,
      proposedBy: r.proposed_by, proposedAt: r.proposed_at, decidedBy: r.decided_by, decidedAt: r.decided_at,
    };
  }

  /** Proposes new details for a party; they wait for a second user's approval. */
  async propose(billingPartyId: string, raw: BankDetailsInput, by: Actor, today: string): Promise<BankDetailsView> {
    const input = validateBankDetails(raw, today);
    return inTransaction(this.pool, async (db) => {
      const party = await db.query('SELECT 1 FROM billing_parties WHERE id = $1 FOR UPDATE', [billingPartyId]);
      if (!party.rowCount) throw new DomainError('not_found', 'no such billing party');
      const { rows: [pending] } = await db.query<Row>(`SELECT ${COLUMNS} FROM party_bank_details WHERE billing_party_id = $1 AND status = 'pending'`, [billingPartyId]);
      if (pending) {
        // The same proposal again (a retry whose answer was lost) gets the pending change.
        const same = pending.proposed_by_id === by.id && this.pii.open(pending.iban) === input.iban && pending.bic === input.bic
          && this.pii.open(pending.account_holder) === input.accountHolder && pending.mandate_reference === (input.mandate?.reference ?? null)
          && pending.mandate_signed_on === (input.mandate?.signedOn ?? null);
        if (same) return this.view(pending);
        throw new DomainError('bank_details_change_pending', 'a change of this party\'s bank details awaits approval; approve or reject it first');
      }
      const { rows: [row] } = await db.query<Row>(
        `INSERT INTO party_bank_details (billing_party_id, status, iban, iban_last4, iban_country, bic, account_holder,
           mandate_reference, mandate_signed_on, proposed_by, proposed_by_id)
         VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
        [billingPartyId, this.pii.seal(input.iban), input.iban.slice(-4), input.iban.slice(0, 2), input.bic, this.pii.seal(input.accountHolder),
          input.mandate?.reference ?? null, input.mandate?.signedOn ?? null, by.name, by.id]);
      // The log names the change, never the account in clear.
      await audit(db, { actor: by.name, action: 'bank_details_proposed', subject: `party:${billingPartyId}`,
        details: { bankDetailsId: row!.id, ibanLast4: row!.iban_last4, bic: input.bic, mandate: input.mandate?.reference ?? null } });
      return this.view(row!);
    });
  }

  /**
   * A second user approves (the pending details become active, the previous ones superseded) or
   * rejects the pending change. The proposer may reject their own proposal, never approve it.
   */
  async decide(billingPartyId: string, approve: boolean, by: Actor): Promise<{ details: BankDetailsView; contactEmail: string; partyName: string }> {
    return inTransaction(this.pool, async (db) => {
      const { rows: [party] } = await db.query<{ name: string; contact_email: string }>(
        'SELECT name, contact_email FROM billing_parties WHERE id = $1 FOR UPDATE', [billingPartyId]);
      if (!party) throw new DomainError('not_found', 'no such billing party');
      const { rows: [pending] } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM party_bank_details WHERE billing_party_id = $1 AND status = 'pending'`, [billingPartyId]);
      if (!pending) throw new DomainError('no_pending_bank_details', 'no change of this party\'s bank details awaits a decision');
      if (approve && pending.proposed_by_id === by.id) {
        throw new DomainError('second_approver_required', 'bank details take effect only when another user approves them');
      }
      if (approve) {
        await db.query(`UPDATE party_bank_details SET status = 'superseded' WHERE billing_party_id = $1 AND status = 'active'`, [billingPartyId]);
      }
      const { rows: [row] } = await db.query<Row>(
        `UPDATE party_bank_details SET status = $2, decided_by = $3, decided_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [pending.id, approve ? 'active' : 'rejected', by.name]);
      await audit(db, { actor: by.name, action: approve ? 'bank_details_approved' : 'bank_details_rejected', subject: `party:${billingPartyId}`,
        details: { bankDetailsId: pending.id, proposedBy: pending.proposed_by, ibanLast4: pending.iban_last4 } });
      return { details: this.view(row!), contactEmail: this.pii.open(party.contact_email), partyName: party.name };
    });
  }

  /** The active details and any pending change of every party (or one). */
  async list(billingPartyId?: string): Promise<BankDetailsView[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM party_bank_details WHERE status IN ('active', 'pending') AND ($1::uuid IS NULL OR billing_party_id = $1)
        ORDER BY billing_party_id, status`, [billingPartyId ?? null]);
    return rows.map((r) => this.view(r));
  }

  async find(id: string): Promise<BankDetailsView | null> {
    const { rows: [row] } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM party_bank_details WHERE id = $1`, [id]);
    return row ? this.view(row) : null;
  }

  /** The active details of these parties, opened, for a settlement file. */
  static async activeOpened(db: Pick<pg.PoolClient, 'query'>, pii: PiiCipher, billingPartyIds: string[]): Promise<Map<string, OpenBankDetails>> {
    const { rows } = await db.query<Row>(
      `SELECT ${COLUMNS} FROM party_bank_details WHERE status = 'active' AND billing_party_id = ANY($1::uuid[])`, [billingPartyIds]);
    return new Map(rows.map((r) => [r.billing_party_id, {
      id: r.id, billingPartyId: r.billing_party_id, iban: pii.open(r.iban), bic: r.bic, accountHolder: pii.open(r.account_holder),
      mandateReference: r.mandate_reference, mandateSignedOn: r.mandate_signed_on,
    }]));
  }
}
