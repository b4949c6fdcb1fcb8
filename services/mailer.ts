// Outgoing e-mail through any SMTP relay (nodemailer). Message ids are derived from the order, so a
// re-sent voucher mail after a crash is recognisable as the same message.

import nodemailer, { type Transporter } from 'nodemailer';
import type { MailConfig } from '../infra/config.ts';

export interface Mailer {
  send(m: { to: string; subject: string; text: string; messageId: string; attachments?: { filename: string; content: Buffer; contentType: string }[] }): Promise<{ accepted: string[] }>;
  close(): void;
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
  const transport: Transporter = nodemailer.createTransport({ url: config.smtpUrl, pool: true, maxConnections: 4 } as never, { from: config.from });
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
