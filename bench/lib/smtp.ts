// An SMTP server in the bench process that accepts every message and notes, per recipient, when
// it accepted it. Nothing is parsed (unlike the tests' mailbox): mailparser would take CPU from
// the load generator, and on 2 cores from the engine too. The message size is kept so a
// benchmark can tell a voucher with its PDF from a bare text mail.

import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';

export interface Delivery {
  /** performance.now() when the server answered 250 to the message's data. */
  acceptedAt: number;
  bytes: number;
}

export interface MailSink {
  url: string;
  accepted: number;
  /** Resolves when a message to `address` is accepted; call it before causing the mail. */
  waitFor(address: string, timeoutMs: number): Promise<Delivery>;
  close(): Promise<void>;
}

export async function startMailSink(): Promise<MailSink> {
  const arrived = new Map<string, Delivery>();
  const waiting = new Map<string, (d: Delivery) => void>();
  const deliver = (address: string, d: Delivery) => {
    const key = address.toLowerCase();
    const waiter = waiting.get(key);
    if (waiter) {
      waiting.delete(key);
      waiter(d);
    } else {
      arrived.set(key, d);
    }
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('error', callback);
      stream.on('end', () => {
        const d = { acceptedAt: performance.now(), bytes };
        for (const rcpt of session.envelope.rcptTo) deliver(rcpt.address, d);
        sink.accepted++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };

  const sink: MailSink = {
    url: `smtp://127.0.0.1:${port}`,
    accepted: 0,
    waitFor(address, timeoutMs) {
      const key = address.toLowerCase();
      const early = arrived.get(key);
      if (early) {
        arrived.delete(key);
        return Promise.resolve(early);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(key);
          reject(new Error(`no e-mail to ${address} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        waiting.set(key, (d) => {
          clearTimeout(timer);
          resolve(d);
        });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return sink;
}
