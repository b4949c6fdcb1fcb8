// Outgoing e-mail through any SMTP relay (nodemailer). Message ids are derived from the order, so a
// re-sent voucher mail after a crash is recognisable as the same message.

import nodemailer, { type Transporter } from 'nodemailer';
import { DEFAULT_SMTP_TIMEOUT_MS, type MailConfig } from '../infra/config.ts';

export interface Mailer {
  send(m: { to: string; subject: string; text: string; messageId: string; attachments?: { filename: string; content: Buffer; contentType: string }[] }): Promise<{ accepted: string[] }>;
  close(): void;
}

/**
 * nodemailer waits up to 2 minutes to connect and 10 minutes on a silent socket by default: longer
 * than the mail activity's timeout, so Temporal would retry while the first attempt could still
 * deliver, and the shopper would get the mail twice. Every wait here ends within `timeoutMs`.
 */
export function smtpTimeouts(timeoutMs: number): { connectionTimeout: number; greetingTimeout: number; socketTimeout: number } {
  return { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs };
}

export function createMailer(config: MailConfig): Mailer {
  if (!config.smtpUrl) {
    return {
      async send() {
        throw new Error('no SMTP server configured (SMTP_URL)');
      },
      close() {},
    };
  }
  // Pooled: a burst of vouchers reuses a few SMTP connections instead of one handshake per mail.
  const transport: Transporter = nodemailer.createTransport(
    { url: config.smtpUrl, pool: true, maxConnections: 4, ...smtpTimeouts(config.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS) } as never,
    { from: config.from });
  return {
    async send(m) {
      const info = await transport.sendMail({
        to: m.to, subject: m.subject, text: m.text, messageId: m.messageId, attachments: m.attachments,
      });
      return { accepted: (info.accepted as (string | { address: string })[]).map((a) => (typeof a === 'string' ? a : a.address)) };
    },
    close() {
      transport.close();
    },
  };
}
