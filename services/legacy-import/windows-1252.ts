// Files declared Latin-1 usually come from Windows exports, which are Windows-1252: the same bytes
// as ISO-8859-1 except 0x80-0x9F, where Windows puts €, dashes and curly quotes and ISO-8859-1 has
// control characters (which the row checks refuse). csv-parse reads such files byte for byte as
// latin1, so the byte offsets a resumed import starts from stay exact; a field holding one of
// those characters is then decoded again as Windows-1252 (iconv-lite).

import iconv from 'iconv-lite';

const C1 = /[\u0080-\u009f]/;

/** The record's fields read as Windows-1252 instead of ISO-8859-1 (the same text where they agree). */
export function asWindows1252(record: string[]): string[] {
  for (let i = 0; i < record.length; i++) {
    const field = record[i]!;
    if (C1.test(field)) record[i] = iconv.decode(Buffer.from(field, 'latin1'), 'win1252');
  }
  return record;
}
