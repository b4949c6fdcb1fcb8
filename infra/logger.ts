// JSON logs (pino) for the API and the worker: one object a line, with the process's name, so a
// log pipeline can index them. Secrets never reach the output: every line passes a scrubber
// that masks card codes, API keys, Stripe secrets, session and order tokens and signed-link
// signatures wherever they appear (a message, an error, a URL), whatever code logged them.

import pino, { type Logger } from 'pino';

const CODE_ALPHABET = '0-9A-HJKMNP-TV-Z';
const SECRET_PATTERNS: [RegExp, string][] = [
  // Card codes, printed (XXXX-XXXX-XXXX-XXXX) or compact (16 characters, at least one digit and one letter).
  [new RegExp(`\\b[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}\\b`, 'gi'), '[card-code]'],
  [new RegExp(`\\b(?=[${CODE_ALPHABET}]*\\d)(?=[${CODE_ALPHABET}]*[A-Z])[${CODE_ALPHABET}]{16}\\b`, 'g'), '[card-code]'],
  // Till and back-office API keys, Stripe keys and webhook secrets.
  [/\b(vk|vb)_[A-Za-z0-9_-]{16,}/g, '$1_[redacted]'],
  [/\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]+/g, '$1_$2_[redacted]'],
  [/\bwhsec_[A-Za-z0-9_-]+/g, 'whsec_[redacted]'],
  // Signed links and tokens in query strings or JSON.
  [/([?&](?:sig|token|signature|code)=)[^&"\s]+/gi, '$1[redacted]'],
  [/("(?:authorization|cookie|x-order-token|token|password|code|apiKey|secret)"\s*:\s*")[^"]*/gi, '$1[redacted]'],
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/g, '$1 [redacted]'],
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, name },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: scrubSecrets },
  });
}
