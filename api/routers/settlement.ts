// Settlement for finance: bank details per billing party (four-eyes: proposed by one user,
// approved by another), the `settlement-<yyyy-mm>` run of a closed period, its payments, files
// and reconciliation state. File downloads, DATEV exports and statement uploads are raw HTTP
// routes (api/routes/settlement.ts). A billing party's key sees its own payments only.

import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { dayIn, settlementWorkflowId } from '../../domain/sepa.ts';
import { audit } from '../../services/audit.ts';
import { BankDetailsStore, type BankDetailsView } from '../../services/bank-details.ts';
import type { SettlementPayment } from '../../services/settlement.ts';
import { BANK_DETAILS_NOTICE_WORKFLOW } from '../../workflows/names/settlement.ts';
import { VoucherBillingPartyId } from '../../workflows/search-attributes.ts';
import { settlementStore, startSettlement } from '../settlement-shared.ts';
import { maySeeParty } from '../backoffice-auth.ts';
import { daySchema, periodSchema, plainText } from '../schemas.ts';
import { backofficeProcedure, requireTemporal, router, type RequestContext } from '../trpc.ts';
import { TEMPORAL_DEADLINE_MS } from '../../workflows/clients/deadline.ts';

const TAG = ['Settlement'];
const FINANCE = ['admin', 'finance'] as const;
const ALL_ROLES = ['admin', 'finance', 'billing_party'] as const;
const ERRORS = { 400: 'Invalid input', 401: 'Missing or invalid API key', 403: 'Not allowed for this key', 404: 'Not found' };
const ERRORS_WRITE = { ...ERRORS, 409: 'Conflicts with the state (period not closed, a change pending, the same user approving)' };

export { settlementStore };

function bankDetailsStore(ctx: RequestContext): BankDetailsStore {
  return new BankDetailsStore(ctx.deps.db.pool, ctx.deps.pii);
}

const bankDetailsSchema = z.object({
  id: z.string(), billingPartyId: z.string(), status: z.enum(['pending', 'active', 'superseded', 'rejected']),
  ibanMasked: z.string().describe('Country, check digits hidden, last four characters'), bic: z.string(), accountHolder: z.string(),
  mandateReference: z.string().nullable(), mandateSignedOn: z.string().nullable(),
  proposedBy: z.string(), proposedAt: z.string(), decidedBy: z.string().nullable(), decidedAt: z.string().nullable(),
}).meta({ id: 'BankDetails' });

function detailsView(d: BankDetailsView): z.infer<typeof bankDetailsSchema> {
  return { ...d, proposedAt: d.proposedAt.toISOString(), decidedAt: d.decidedAt?.toISOString() ?? null };
}

const paymentSchema = z.object({
  billingPartyId: z.string(), partyName: z.string(), currency: z.string(),
  direction: z.enum(['payout', 'collection']).describe('payout: the centre pays the party; collection: the party pays the centre'),
  amount: z.number().int(), method: z.enum(['credit_transfer', 'direct_debit', 'invoice', 'manual']),
  endToEndId: z.string(), fileId: z.string().nullable(),
  status: z.enum(['awaiting_bank_details', 'to_invoice', 'manual', 'in_file', 'paid', 'returned', 'missing', 'wrong_amount']),
  reason: z.string().nullable(), returnReason: z.string().nullable().describe('The bank\'s ISO 20022 return reason code'),
}).meta({ id: 'SettlementPayment' });

function paymentView(p: SettlementPayment): z.infer<typeof paymentSchema> {
  return {
    billingPartyId: p.billingPartyId, partyName: p.partyName, currency: p.currency, direction: p.direction, amount: Number(p.amount),
    method: p.method, endToEndId: p.endToEndId, fileId: p.fileId, status: p.status, reason: p.reason, returnReason: p.returnReason,
  };
}

const settlementSchema = z.object({
  period: z.string(), workflowId: z.string(), runs: z.number().int(), plannedAt: z.string().nullable(),
  payments: z.array(paymentSchema),
  files: z.array(z.object({
    id: z.string(), kind: z.enum(['credit_transfers', 'direct_debits']), msgId: z.string(), schema: z.string(), sha256: z.string(),
    payments: z.number().int(), controlSum: z.number().int(), createdAt: z.string(), downloadPath: z.string(),
  })).describe('Finance and admins only'),
  differences: z.array(z.object({
    kind: z.enum(['wrong_amount', 'unknown_payment', 'returned', 'missing']), endToEndId: z.string().nullable(),
    billingPartyId: z.string().nullable(), expectedAmount: z.number().int().nullable(), actualAmount: z.number().int().nullable(),
    currency: z.string().nullable(), reasonCode: z.string().nullable(), detail: z.string(),
  })).describe('From the latest bank statement uploaded; finance and admins only'),
}).meta({ id: 'Settlement' });

const partyIdSchema = z.uuid().describe('Billing party id');
const text = (max: number) => plainText(max);

export const settlementRouter = router({
  bankDetails: backofficeProcedure(FINANCE)
    .meta({ openapi: { method: 'GET', path: '/v1/settlement/bank-details', tags: TAG, protect: true,
      summary: 'Bank details of billing parties: the active ones and changes awaiting approval (IBAN masked)', errorResponses: ERRORS } })
    .input(z.object({ billingPartyId: partyIdSchema.optional() }).strict())
    .output(z.object({ bankDetails: z.array(bankDetailsSchema) }))
    .query(async ({ ctx, input }) => ({ bankDetails: (await bankDetailsStore(ctx).list(input.billingPartyId)).map(detailsView) })),

  proposeBankDetails: backofficeProcedure(FINANCE)
    .meta({ openapi: { method: 'POST', path: '/v1/settlement/bank-details/{billingPartyId}', tags: TAG, protect: true,
      summary: 'Propose new bank details for a party; they take effect when another user approves them',
      description: 'IBAN (checksum, SEPA country), BIC and the mandate (reference and date of signature, for parties that owe the centre) are validated. Proposing the same details again returns the pending change.',
      errorResponses: { ...ERRORS_WRITE, 400: 'Invalid input, IBAN, BIC or mandate (invalid_iban, invalid_bic, invalid_mandate)' } } })
    .input(z.object({
      billingPartyId: partyIdSchema,
      iban: text(42).describe('IBAN, spaces allowed'), bic: text(16), accountHolder: text(70),
      mandate: z.object({ reference: text(35), signedOn: daySchema }).strict().nullable()
        .describe('SEPA direct-debit mandate the party signed; null when the centre may not collect from it'),
    }).strict())
    .output(bankDetailsSchema)
    .mutation(async ({ ctx, input }) => {
      const { billingPartyId, ...details } = input;
      const today = dayIn(new Date(), ctx.deps.config.clearingTimeZone);
      const proposed = await bankDetailsStore(ctx).propose(billingPartyId, details, { id: ctx.principal.clientId, name: ctx.principal.name }, today);
      return detailsView(proposed);
    }),

  decideBankDetails: backofficeProcedure(FINANCE)
    .meta({ openapi: { method: 'POST', path: '/v1/settlement/bank-details/{billingPartyId}/decision', tags: TAG, protect: true,
      summary: 'Approve or reject a party\'s pending bank details (four eyes: not the user who proposed them)',
      description: 'On approval the new details replace the active ones and the party\'s contact is e-mailed.',
      errorResponses: ERRORS_WRITE } })
    .input(z.object({ billingPartyId: partyIdSchema, approve: z.boolean() }).strict())
    .output(bankDetailsSchema)
    .mutation(async ({ ctx, input }) => {
      // The notice is a workflow: without Temporal, refuse before anything changes.
      const client = input.approve ? requireTemporal(ctx) : null;
      const { details } = await bankDetailsStore(ctx).decide(input.billingPartyId, input.approve, { id: ctx.principal.clientId, name: ctx.principal.name });
      if (client) {
        await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.start(BANK_DETAILS_NOTICE_WORKFLOW, {
          workflowId: `bank-details-notice-${details.id}`, taskQueue: ctx.deps.config.taskQueue, args: [{ bankDetailsId: details.id }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: [{ key: VoucherBillingPartyId, value: input.billingPartyId }],
        }));
      }
      return detailsView(details);
    }),

  start: backofficeProcedure(FINANCE)
    .meta({ openapi: { method: 'POST', path: '/v1/settlement/periods/{period}/start', tags: TAG, protect: true,
      summary: 'Settle a closed period: plan payments and write the SEPA files',
      description: 'Runs `settlement-<yyyy-mm>`. Idempotent: a rerun makes a file only for payments not yet in one (e.g. a party whose bank details were approved since). Closing a clearing starts it too.',
      errorResponses: ERRORS_WRITE } })
    .input(z.object({ period: periodSchema }).strict())
    .output(z.object({ period: z.string(), workflowId: z.string() }))
    .mutation(async ({ ctx, input }) => {
      await settlementStore(ctx).assertSettleable(input.period);
      await startSettlement(ctx, input.period);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'settlement_started', subject: `settlement:${input.period}` });
      return { period: input.period, workflowId: settlementWorkflowId(input.period) };
    }),

  get: backofficeProcedure(ALL_ROLES)
    .meta({ openapi: { method: 'GET', path: '/v1/settlement/periods/{period}', tags: TAG, protect: true,
      summary: 'A period\'s settlement: payments and their state, files, differences found in bank statements', errorResponses: ERRORS } })
    .input(z.object({ period: periodSchema }).strict())
    .output(settlementSchema)
    .query(async ({ ctx, input }) => {
      const store = settlementStore(ctx);
      const run = await store.run(input.period);
      if (!run) throw new DomainError('period_not_found', `${input.period} has not been settled`);
      const finance = ctx.principal.role !== 'billing_party';
      const [payments, files, differences] = await Promise.all([
        store.payments(input.period), finance ? store.files(input.period) : [], finance ? store.differences(input.period) : [],
      ]);
      return {
        period: input.period, workflowId: settlementWorkflowId(input.period), runs: run.runs, plannedAt: run.plannedAt?.toISOString() ?? null,
        payments: payments.filter((p) => maySeeParty(ctx.principal, p.billingPartyId)).map(paymentView),
        files: files.map((f) => ({
          id: f.id, kind: f.kind, msgId: f.msgId, schema: f.schema, sha256: f.sha256, payments: f.payments, controlSum: Number(f.controlSum),
          createdAt: f.createdAt.toISOString(), downloadPath: `/v1/settlement/periods/${input.period}/files/${f.id}.xml`,
        })),
        differences: differences.map((d) => ({
          ...d, expectedAmount: d.expectedAmount === null ? null : Number(d.expectedAmount), actualAmount: d.actualAmount === null ? null : Number(d.actualAmount),
        })),
      };
    }),
});

