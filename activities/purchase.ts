// Activities of the Print@Home purchase workflow. Each is idempotent per order: Temporal may run
// any of them again after a timeout or a worker crash.

import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Config } from '../infra/config.ts';
import type { BalanceCache } from '../services/balance-cache.ts';
import type { Ledger } from '../services/ledger.ts';
import type { Mailer } from '../services/mailer.ts';
import type { PaymentProvider } from '../services/payments/index.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { PaymentInfo } from '../workflows/names/purchase.ts';
import { createPaymentActivities } from './purchase/payments.ts';
import { createVoucherActivities } from './purchase/vouchers.ts';

export interface PurchaseActivityDeps {
  config: Config;
  prisma: PrismaClient;
  ledger: Ledger;
  cache: BalanceCache;
  payments: PaymentProvider;
  mailer: Mailer;
  secrets: { hashKey: Buffer; deriveKey: Buffer };
  pii: PiiCipher;
}

export type { PaymentInfo };

/** What the provider says of an order's payment, checked against the order. */
export interface PaymentCheck {
  outcome: 'succeeded' | 'open' | 'canceled' | 'mismatch';
  /** Why a succeeded payment does not match the order. */
  reason: string | null;
}

export interface PurchaseActivities {
  createPayment(orderId: string): Promise<PaymentInfo>;
  recordPaymentFailure(orderId: string, reason: string): Promise<void>;
  /** Purchases started before cancelUnpaidPayment: cancels and expires the order, whatever the payment did. */
  cancelPayment(orderId: string, reason?: string): Promise<void>;
  /** Cancels the unpaid payment; the order expires only if the payment really was cancelled. */
  cancelUnpaidPayment(orderId: string, reason: string): Promise<{ status: 'canceled' | 'succeeded' }>;
  /** Re-reads the payment from the provider: a webhook alone is never proof. */
  confirmPayment(orderId: string): Promise<PaymentCheck>;
  issueCard(orderId: string): Promise<{ cardId: string; last4: string }>;
  cancelSale(orderId: string): Promise<{ cardId: string; amount: number }>;
  deliverVoucher(orderId: string): Promise<{ sent: boolean }>;
  resendVoucher(orderId: string, resendId: string): Promise<{ sent: boolean }>;
  /** Refunds the order's amount, or with `wholePayment` whatever was paid (a payment that does not match the order). */
  refundPayment(orderId: string, reason: string, options?: { wholePayment?: boolean }): Promise<{ refundId: string }>;
  notifyRefund(orderId: string): Promise<void>;
}


/** One factory a concern (payments, vouchers), merged: the activity names the workflows call stay as they were. */
export function createPurchaseActivities(deps: PurchaseActivityDeps): PurchaseActivities {
  return { ...createPaymentActivities(deps), ...createVoucherActivities(deps) };
}
