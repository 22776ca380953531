/**
 * Large outputs stored as small rows (`evaluation_output_pieces`), instead of one value in the
 * payload row.
 *
 * Why rows: both databases build a whole row in memory to write it, and SQLite also to run
 * `substr` on it. A 16 MiB stdout written as one value cost the server ~3× its size in transient
 * memory at the verdict (the driver's UTF-8 copy, SQLite's bound copy, the record) and 16 MiB per
 * piece read back; as rows, a row's worth each (bench/output-memory.ts).
 *
 * Why small rows: a piece is a string in the server while it is sent, and V8 puts a string of over
 * 128 KiB in its large-object space, which only a full collection frees: 1 MiB pieces grew the
 * heap by tens of MiB while a large output was read. A piece of at most PIECE_UNITS UTF-16 units
 * (64 KiB even in two-byte form) dies young, in the cheap collections. They are written and read
 * PIECES_PER_STATEMENT at a time, so a 16 MiB output is still 16 statements each way.
 *
 * The payload column then holds '' (text) or an empty blob (bytes), and the row's
 * `output_in_pieces` bit for that column says where the output is. An output of at most
 * COLUMN_MAX_BYTES stays in its column, read with the record in one query as before.
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db, EvaluationsEb, StoreDialect, Tx } from './dialect.js';
import type { StoreGuard } from './store-guard.js';

/** The most an output held in its payload column is (bytes of UTF-8, or raw bytes). */
export const COLUMN_MAX_BYTES = 1024 * 1024;
/** UTF-16 units per text piece row. */
const PIECE_UNITS = 32 * 1024;
/** Bytes per raw piece row. */
const PIECE_BYTES = 64 * 1024;
/** Piece rows per insert or select: ~1 MiB of output per statement. */
const PIECES_PER_STATEMENT = 32;

export type OutputColumn = 'stdout' | 'stderr' | 'stdout_raw' | 'stderr_raw';

/** The `output_in_pieces` bit of each output column. */
export const PIECED: Record<OutputColumn, number> = { stdout: 1, stderr: 2, stdout_raw: 4, stderr_raw: 8 };

/** Whether a payload row's `output_in_pieces` says `column` is in piece rows. */
export function inPieces(outputInPieces: number, column: OutputColumn): boolean {
  return (outputInPieces & PIECED[column]) !== 0;
}

/** What a column is written as: the value itself, or an empty value with its pieces beside. */
export type ColumnWrite<T> = { value: T; pieces: T[] | null };

/** Text for its column: itself when it is at most COLUMN_MAX_BYTES of UTF-8, else '' and its pieces. */
export function textColumn(text: string): ColumnWrite<string> {
  if (text.length <= COLUMN_MAX_BYTES / 3 || (text.length <= COLUMN_MAX_BYTES && Buffer.byteLength(text) <= COLUMN_MAX_BYTES))
    return { value: text, pieces: null };
  return { value: '', pieces: textPieces(text) };
}

/** Bytes for their column: themselves when at most COLUMN_MAX_BYTES, else an empty blob and their pieces. */
export function bytesColumn(bytes: Buffer): ColumnWrite<Buffer> {
  return bytes.length <= COLUMN_MAX_BYTES ? { value: bytes, pieces: null } : { value: Buffer.alloc(0), pieces: bytesPieces(bytes) };
}

/** Bytes cut into pieces of PIECE_BYTES (views, not copies). */
function bytesPieces(bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += PIECE_BYTES) pieces.push(bytes.subarray(at, at + PIECE_BYTES));
  return pieces;
}

/**
 * Text cut into pieces of at most PIECE_UNITS UTF-16 units, never between the two halves of a
 * surrogate pair: a lone half cannot be stored (both drivers encode UTF-8), so it would come back
 * as U+FFFD instead of the character.
 */
export function textPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + PIECE_UNITS, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    pieces.push(text.slice(at, end));
    at = end;
  }
  return pieces;
}

/** Inserts one output's pieces, PIECES_PER_STATEMENT rows per statement. */
export async function writePieces(trx: Tx | Db, id: string, column: OutputColumn, pieces: ReadonlyArray<string | Buffer>): Promise<void> {
  for (let first = 0; first < pieces.length; first += PIECES_PER_STATEMENT) {
    const rows = pieces.slice(first, first + PIECES_PER_STATEMENT).map((piece, i) => {
      const [text, bytes] = typeof piece === 'string' ? [piece, null] : [null, piece];
      return { evaluation_id: id, stream: column, seq: first + i, text, bytes };
    });
    await trx.insertInto('evaluation_output_pieces').values(rows).execute();
  }
}

/** One output's pieces in order, PIECES_PER_STATEMENT per query, so the output is never in this process whole. */
export async function* readPieces<T extends string | Buffer>(db: Db, id: string, column: OutputColumn, guard: StoreGuard): AsyncGenerator<T> {
  const field = column.endsWith('_raw') ? 'bytes' : 'text';
  for (let first = 0; ; first += PIECES_PER_STATEMENT) {
    const rows = await guard(() =>
      db
        .selectFrom('evaluation_output_pieces')
        .select(field)
        .where('evaluation_id', '=', id)
        .where('stream', '=', column)
        .where('seq', '>=', first)
        .orderBy('seq')
        .limit(PIECES_PER_STATEMENT)
        .execute(),
    );
    for (const row of rows) {
      const piece = row[field];
      if (piece === null) continue;
      yield (typeof piece === 'string' ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)) as T;
    }
    if (rows.length < PIECES_PER_STATEMENT) return;
  }
}

/** A text output whole, for the callers that want it so (get). */
export async function joinedText(pieces: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const piece of pieces) text += piece;
  return text;
}

/**
 * The `q` search's condition on outputs stored in pieces: a piece of stdout or stderr, followed by
 * the first `reach` characters of the next piece, matches. So a match that starts in one piece and
 * ends in the next is found (`reach`: the search text's length in characters, less one; a search
 * text is far shorter than a piece, so it never spans more than one boundary).
 * A correlated scalar subquery, probed per candidate row by primary key (as textMatch's columns),
 * the next piece by primary key too.
 */
export function piecesMatch(dialect: StoreDialect, eb: EvaluationsEb, pattern: string, reach: number): Expression<SqlBool> {
  const pieces = eb
    .selectFrom('evaluation_output_pieces as piece')
    .select('piece.seq')
    .whereRef('piece.evaluation_id', '=', 'evaluations.id')
    .where('piece.stream', 'in', ['stdout', 'stderr']);
  const first =
    reach <= 0
      ? pieces.where((p) => dialect.like(p.ref('piece.text') as Expression<string>, pattern))
      : pieces
          .leftJoin('evaluation_output_pieces as later', (join) =>
            join
              .onRef('later.evaluation_id', '=', 'piece.evaluation_id')
              .onRef('later.stream', '=', 'piece.stream')
              .on('later.seq', '=', sql<number>`piece.seq + 1`),
          )
          .where(() => dialect.like(sql<string>`piece.text || coalesce(substr(later.text, 1, ${sql.lit(reach)}), '')`, pattern));
  return eb(first.limit(1), 'is not', null);
}

const BACKFILL_PAGE = 100;
/**
 * Characters (text) or bytes per `substr` when the backfill reads an output stored whole: SQLite
 * loads the whole value for each `substr`, so few large reads (a 16 MiB output in 4) cost far
 * less than many small ones; a migration can afford a few MiB held at a time.
 */
const BACKFILL_READ = 4 * 1024 * 1024;

/**
 * Migration 12's backfill: outputs stored whole before it (over COLUMN_MAX_BYTES) move to piece rows, so
 * every read has one path. Read back in pieces with `substr` (characters of text, bytes of a blob:
 * a cut never splits a character), a row at a time, within the migration's transaction.
 */
export async function moveLargeOutputsToPieces(db: Db): Promise<void> {
  const columns = Object.keys(PIECED) as OutputColumn[];
  for (let after = ''; ;) {
    const page = await db
      .selectFrom('evaluation_payloads')
      .select('evaluation_id')
      .select((eb) => columns.map((c) => sql<number | null>`octet_length(${eb.ref(c)})`.as(c)))
      .where('evaluation_id', '>', after)
      .where((eb) => eb.or(columns.map((c) => eb(sql<number>`coalesce(octet_length(${eb.ref(c)}), 0)`, '>', COLUMN_MAX_BYTES))))
      .orderBy('evaluation_id')
      .limit(BACKFILL_PAGE)
      .execute();
    for (const row of page) {
      let bits = 0;
      for (const column of columns) {
        if (Number(row[column] ?? 0) <= COLUMN_MAX_BYTES) continue;
        const pieces: Array<string | Buffer> = [];
        // Read a few MiB at a time, cut into rows here.
        for (let start = 1; ; start += BACKFILL_READ) {
          const got = await db
            .selectFrom('evaluation_payloads')
            .select(sql<string | Buffer | null>`substr(${sql.ref(column)}, ${sql.lit(start)}, ${sql.lit(BACKFILL_READ)})`.as('piece'))
            .where('evaluation_id', '=', row.evaluation_id)
            .executeTakeFirstOrThrow();
          if (!got.piece || got.piece.length === 0) break;
          pieces.push(...(typeof got.piece === 'string' ? textPieces(got.piece) : bytesPieces(Buffer.from(got.piece))));
        }
        await writePieces(db, row.evaluation_id, column, pieces);
        bits |= PIECED[column];
      }
      await db
        .updateTable('evaluation_payloads')
        .set((eb) => ({
          ...Object.fromEntries(columns.filter((c) => bits & PIECED[c]).map((c) => [c, c.endsWith('_raw') ? Buffer.alloc(0) : ''])),
          output_in_pieces: eb('output_in_pieces', '|', bits),
        }))
        .where('evaluation_id', '=', row.evaluation_id)
        .execute();
    }
    if (page.length < BACKFILL_PAGE) return;
    after = page[page.length - 1]!.evaluation_id;
  }
}
