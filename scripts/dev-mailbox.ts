// Development only: an SMTP server that keeps every message as an .eml file, so a person running
// `npm start` without an SMTP relay can open the voucher e-mails (any mail client opens .eml).
// Set SMTP_URL to use a real relay or maildev instead.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface DevMailbox {
  url: string;
  dir: string;
  close(): Promise<void>;
}

export async function startDevMailbox(dir: string, log: (line: string) => void): Promise<DevMailbox> {
  mkdirSync(dir, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address).join(',');
        const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${to.replace(/[^\w@.-]/g, '_')}.eml`);
        writeFileSync(file, Buffer.concat(chunks));
        log(`mail to ${to} saved as ${file}`);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${port}`, dir, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
