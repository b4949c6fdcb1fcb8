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
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const mailbox: Mailbox = { url: '', messages: [], refusing: false, refusedCount: 0, bouncing: new Set(), close: async () => {} };
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
      simpleParser(stream).then((mail) => {
        if (mailbox.refusing) {
          mailbox.refusedCount++;
          const err = Object.assign(new Error('mailbox temporarily unavailable'), { responseCode: 451 });
          return callback(err);
        }
        mailbox.messages.push(mail);
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  mailbox.url = `smtp://127.0.0.1:${port}`;
  mailbox.close = () => new Promise((resolve) => server.close(() => resolve()));
  return mailbox;
}
