// Streams one import file into its staging table, chunk by chunk: parse (csv-parse), check each row
// (domain/legacy-import.ts), hash its code, and COPY the chunk in (pg-copy-streams) in one
// transaction with its rejections and its chunk row, the chunk's idempotency key. A resumed run
// opens the file at the byte where the last committed chunk ended, so nothing is staged twice and
// memory stays bounded by one chunk whatever the file's size.

import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import copyStreams from 'pg-copy-streams';
import type pg from 'pg';
import { cardCodeLast4, hashCardCode } from '../../domain/card-code.ts';
import type { PiiCipher } from '../../domain/pii-crypto.ts';
import { inTransaction } from '../../infra/db.ts';
import {
  checkHistory, checkVoucher, headerProblem, HISTORY_COLUMNS, VOUCHER_COLUMNS, type Rejection, type RowContext,
} from '../../domain/legacy-import.ts';
import { forgetLostStaging, type ImportRecord } from './store.ts';
import { asWindows1252 } from './windows-1252.ts';

export type StagedFile = 'vouchers' | 'history';

export interface StageContext extends RowContext {
  /** CARD_CODE_KEY: codes are staged as the keyed hash the tills look up. */
  hashKey: Buffer;
  /** Buyer e-mail addresses are staged sealed, with their lookup hash. */
  pii: PiiCipher;
  chunkRows: number;
}

export interface StageProgress {
  file: StagedFile;
  done: boolean;
  bytesDone: number;
  bytesTotal: number;
  /** Both files' bytes: what the import's staging progress is measured against. */
  importBytesTotal: number;
  rows: number;
  rejected: number;
  chunks: number;
}

/** COPY text format: a backslash, tab or line break inside a value would end it early. */
function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

const COPY_SQL: Record<StagedFile, string> = {
  vouchers: 'COPY import_staged_vouchers (import_id, line, code_hash, last4, balance, currency, issued_at, expires_at, store_id, status, rejected, buyer_email, buyer_email_hash) FROM STDIN',
  history: 'COPY import_staged_history (import_id, line, code_hash, legacy_type, delta, booked_at, store_id, legacy_terminal) FROM STDIN',
};

/**
 * The chunk's lines joined into pieces of about 256 KiB: written one by one, each line would be its
 * own CopyData message and socket write, which cost more than parsing and checking the row.
 */
function* batched(lines: string[]): Generator<string> {
  const PIECE = 256 * 1024;
  let piece: string[] = [];
  let size = 0;
  for (const line of lines) {
    piece.push(line);
    size += line.length;
    if (size >= PIECE) {
      yield piece.join('');
      piece = [];
      size = 0;
    }
  }
  if (piece.length > 0) yield piece.join('');
}

interface Chunk {
  lines: string[];
  rejections: Rejection[];
  rows: number;
}

async function commitChunk(
  pool: pg.Pool, imp: ImportRecord, file: StagedFile, chunkNo: number, chunk: Chunk, endByte: number, endLine: number,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    // The key: a chunk another attempt committed meanwhile is not staged again.
    const claimed = await client.query(
      `INSERT INTO import_chunks (import_id, file, chunk, end_byte, end_line, rows, rejected) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT DO NOTHING`, [imp.id, file, chunkNo, endByte, endLine, chunk.rows, chunk.rejections.length]);
    if (claimed.rowCount === 0) {
      return false;
    }
    if (chunk.lines.length > 0) {
      await pipeline(Readable.from(batched(chunk.lines)), client.query(copyStreams.from(COPY_SQL[file])));
    }
    if (chunk.rejections.length > 0) {
      await client.query(
        `INSERT INTO import_rejections (import_id, file, line, reason, detail)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
        [imp.id, chunk.rejections.map((r) => r.file), chunk.rejections.map((r) => r.line),
          chunk.rejections.map((r) => r.reason), chunk.rejections.map((r) => r.detail)]);
    }
    return true;
  });
}

/** Where staging of `file` goes on: the last committed chunk, and the progress up to it. */
async function resumePoint(pool: pg.Pool, imp: ImportRecord, file: StagedFile, bytesTotal: number) {
  const { rows: [last] } = await pool.query<{ chunk: number; end_byte: string; end_line: number; rows: string; rejected: string; chunks: string }>(
    `SELECT max(chunk) AS chunk, (array_agg(end_byte ORDER BY chunk DESC))[1] AS end_byte,
            (array_agg(end_line ORDER BY chunk DESC))[1] AS end_line, sum(rows) AS rows, sum(rejected) AS rejected, count(*) AS chunks
       FROM import_chunks WHERE import_id = $1 AND file = $2`, [imp.id, file]);
  const progress: StageProgress = {
    file, done: false, bytesDone: Number(last?.end_byte ?? 0), bytesTotal, importBytesTotal: imp.vouchersBytes + imp.historyBytes,
    rows: Number(last?.rows ?? 0), rejected: Number(last?.rejected ?? 0), chunks: Number(last?.chunks ?? 0),
  };
  return { last, progress };
}

/**
 * Stages chunks of `file` from where the last committed chunk ended until the file ends or
 * `budgetMs` has passed (the workflow then calls again and shows the progress). `beat` is called
 * after every chunk (the activity's heartbeat).
 */
export async function stageChunks(
  pool: pg.Pool, imp: ImportRecord, file: StagedFile, ctx: StageContext,
  budgetMs: number, beat: (p: StageProgress) => void,
): Promise<StageProgress> {
  const path = file === 'vouchers' ? imp.vouchersPath : imp.historyPath;
  const bytesTotal = file === 'vouchers' ? imp.vouchersBytes : imp.historyBytes;
  await forgetLostStaging(pool, imp.id, file);
  const { last, progress } = await resumePoint(pool, imp, file, bytesTotal);
  if (progress.bytesDone >= bytesTotal && progress.chunks > 0) return { ...progress, done: true };

  const started = Date.now();
  const startByte = progress.bytesDone;
  const startLine = last?.end_line ?? 0;
  let chunkNo = last?.chunk == null ? 0 : last.chunk + 1;
  const columns = file === 'vouchers' ? VOUCHER_COLUMNS : HISTORY_COLUMNS;
  const parser = createReadStream(path, { start: startByte }).pipe(parse({
    bom: startByte === 0, info: true, relax_column_count: true, skip_empty_lines: true,
    encoding: imp.encoding === 'latin1' ? 'latin1' : 'utf8',
  }));
  let chunk: Chunk = { lines: [], rejections: [], rows: 0 };
  let endByte = startByte;
  let endLine = startLine;
  let headerSeen = startByte > 0;
  let flushedTo = startByte;

  const flush = async (atByte: number, atLine: number) => {
    flushedTo = atByte;
    const committed = await commitChunk(pool, imp, file, chunkNo, chunk, atByte, atLine);
    if (committed) {
      progress.rows += chunk.rows;
      progress.rejected += chunk.rejections.length;
      progress.chunks++;
    }
    chunkNo++;
    progress.bytesDone = atByte;
    chunk = { lines: [], rejections: [], rows: 0 };
    beat(progress);
  };

  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
      const line = startLine + info.lines;
      endByte = startByte + info.bytes;
      endLine = line;
      if (!headerSeen) {
        headerSeen = true;
        const problem = headerProblem(record, columns);
        if (problem) {
          // Without the right header no row can be read for sure: the whole file is refused.
          chunk.rejections.push({ file, line, reason: 'malformed', detail: problem });
          await flush(bytesTotal, line);
          return { ...progress, done: true };
        }
        continue;
      }
      stageRow(file, imp.encoding === 'latin1' ? asWindows1252(record) : record, line, imp.id, ctx, chunk);
      if (chunk.rows + chunk.rejections.length >= ctx.chunkRows) {
        await flush(endByte, endLine);
        if (Date.now() - started > budgetMs) return progress;
      }
    }
  } catch (err) {
    // A quote left open at the end (a truncated file) or bytes csv-parse cannot read: the rows
    // before it are staged, the rest of the file cannot be read and is refused at that line.
    const e = err as { code?: string; message?: string; lines?: number };
    if (!e.code?.startsWith('CSV_')) throw err;
    const line = startLine + (e.lines ?? (parser as unknown as { info: { lines: number } }).info.lines);
    chunk.rejections.push({ file, line, reason: 'malformed', detail: `unreadable from here to the end: ${e.message}`.slice(0, 300) });
  } finally {
    parser.destroy();
  }
  // The last chunk ends at the file's end; when the last full chunk already did, it marks the end.
  if (chunk.rows + chunk.rejections.length > 0 || chunk.lines.length > 0 || flushedTo < bytesTotal) await flush(bytesTotal, endLine);
  return { ...progress, done: true };
}

function stageRow(file: StagedFile, record: string[], line: number, importId: string, ctx: StageContext, chunk: Chunk): void {
  if (file === 'vouchers') {
    const checked = checkVoucher(record, ctx);
    if (checked.ok) {
      const v = checked.row;
      // Sealed values and lookup hashes are base64url and colons: nothing to escape.
      const email = v.email === null ? '\\N\t\\N' : `${ctx.pii.seal(v.email)}\t${ctx.pii.lookupHash(v.email)}`;
      chunk.lines.push(`${importId}\t${line}\t${hashCardCode(v.code, ctx.hashKey)}\t${copyText(cardCodeLast4(v.code))}\t${v.balance}\t${v.currency}\t`
        + `${v.issuedAt.toISOString()}\t${v.expiresAt.toISOString()}\t${v.storeId}\t${v.status}\tf\t${email}\n`);
      chunk.rows++;
      return;
    }
    chunk.rejections.push({ file, line, reason: checked.reason, detail: checked.detail });
    // A refused voucher whose code could be read is staged as refused, so its history is refused
    // as "voucher_rejected" rather than "unknown_voucher".
    if (checked.code) {
      chunk.lines.push(`${importId}\t${line}\t${hashCardCode(checked.code, ctx.hashKey)}\t${copyText(cardCodeLast4(checked.code))}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tt\t\\N\t\\N\n`);
    }
    return;
  }
  const checked = checkHistory(record, ctx);
  if (!checked.ok) {
    chunk.rejections.push({ file, line, reason: checked.reason, detail: checked.detail });
    return;
  }
  const h = checked.row;
  chunk.lines.push(`${importId}\t${line}\t${hashCardCode(h.code, ctx.hashKey)}\t${h.type}\t${h.delta}\t${h.at.toISOString()}\t`
    + `${h.storeId ?? '\\N'}\t${copyText(h.terminal)}\n`);
  chunk.rows++;
}
