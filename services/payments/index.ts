import type { PaymentsConfig } from '../../infra/config.ts';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import { DevPaymentProvider } from './dev.ts';
import type { PaymentProvider } from './provider.ts';
import { createStripeClient, StripePaymentProvider } from './stripe.ts';

export type { PaymentEvent, PaymentProvider, ProviderPayment } from './provider.ts';

export function createPaymentProvider(config: PaymentsConfig, prisma: PrismaClient): PaymentProvider {
  return config.provider === 'stripe'
    ? new StripePaymentProvider(createStripeClient(config))
    : new DevPaymentProvider(prisma);
}
