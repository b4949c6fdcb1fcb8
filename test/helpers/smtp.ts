// A real SMTP server in the test process: receives what the engine sends, parsed with mailparser.

import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface Mailbox {
  url: string;
  messages: ParsedMail[];
  /** While true, every message is refused with a temporary error (a relay that is down). */
  refusing: boolean;
  refusedCount: number;
  /** Recipients whose mail is refused for good (550: no such mailbox), like an address that bounces. */
  bouncing: Set<string>;
  /** Each message is held this long before it is accepted (a slow relay). */
  delayMs: number;
  /** Messages being received and not yet answered. */
  receiving: number;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const mailbox: Mailbox = { url: '', messages: [], refusing: false, refusedCount: 0, bouncing: new Set(), delayMs: 0, receiving: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (mailbox.bouncing.has(address.address.toLowerCase())) {
        return callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
      }
      callback();
    },
    onData(stream, _session, callback) {
      mailbox.receiving++;
      const answer: typeof callback = (err?: Error | null) => {
        mailbox.receiving--;
        callback(err);
      };
      simpleParser(stream).then(async (mail) => {
        if (mailbox.delayMs > 0) await new Promise((r) => setTimeout(r, mailbox.delayMs));
        if (mailbox.refusing) {
          mailbox.refusedCount++;
          const err = Object.assign(new Error('mailbox temporarily unavailable'), { responseCode: 451 });
          return answer(err);
        }
        mailbox.messages.push(mail);
        answer();
      }, answer);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  mailbox.url = `smtp://127.0.0.1:${port}`;
  mailbox.close = () => new Promise((resolve) => server.close(() => resolve()));
  return mailbox;
}
