/**
 * Evaluations in SQLite or PostgreSQL (one kysely implementation; dialect specifics from a
 * StoreDialect).
 *
 * Concurrency model: every write that must be atomic is a single transaction whose *first*
 * statement is the conditional UPDATE of the evaluation row. That statement both checks the
 * guard (status, worker, not terminal) and claims event sequence numbers (`last_seq + n`), and it
 * locks the row (PostgreSQL) or the database (SQLite) until commit, so concurrent writers to the
 * same evaluation are serialised, sequence numbers are gap-free, and a rejected guard changes
 * nothing. Starting with a write also avoids SQLite's read-then-write upgrade deadlock.
 */
import { sql, type Updateable } from 'kysely';
import { LIST_TOTAL_CAP, type Evaluation, type EvaluationList, type EvaluationStatus, type EvaluationSummary } from '../domain/evaluation.js';
import type { EvaluationEvent, NewEvaluationEvent } from '../domain/events.js';
import { canTransition, sourcesOf } from '../domain/state-machine.js';
import type {
  EvaluationListQuery,
  EvaluationRead,
  EvaluationRepository,
  StoredOutput,
  NewEvaluation,
  TransitionOptions,
  TransitionPatch,
  TransitionResult,
  CreatedEvaluation,
} from '../ports/storage.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { Db, EvaluationsSelect, StoreDialect, Tx } from './dialect.js';
import { chunks, INSERT_CHUNK, insertEvents, uniqueTags } from './event-rows.js';
import { decodeJson, PAYLOAD_COLUMNS, toEvaluation, toIso, toMs, toSummary } from './rows.js';
import type { ArtifactList, CollectedArtifact } from '../domain/artifacts.js';
import { MAIN_FILE } from '../domain/program-files.js';
import type { EvaluationPayloadsTable, EvaluationsTable } from './schema.js';
import { storeGuard, type StoreGuard } from './store-guard.js';
import { SummaryCache } from './summary-cache.js';
import { metadataMatch, searchFloor, textMatch } from './text-search.js';
import { bytesColumn, inPieces, joinedText, PIECED, readPieces, textColumn, writePieces, type ColumnWrite, type OutputColumn } from './output-pieces.js';

const DEFAULT_FIND_LIMIT = 1000;

/**
 * `ids` lengthened to the next power of two by repeating its last id (which changes nothing in an
 * `IN` list), so a page's reads use a handful of SQL texts that stay prepared, not one per length.
 */
function padded(ids: string[]): string[] {
  const size = 2 ** Math.ceil(Math.log2(ids.length));
  return ids.length === size ? ids : [...ids, ...Array<string>(size - ids.length).fill(ids[ids.length - 1]!)];
}
/** The payload columns of an Evaluation but its output, which each read selects as it needs. */
const RECORD_PAYLOAD_COLUMNS = PAYLOAD_COLUMNS.filter((c) => c !== 'stdout' && c !== 'stderr');

export class KyselyEvaluationRepository implements EvaluationRepository {
  private readonly guard: StoreGuard;
  private readonly summaryCache = new SummaryCache();

  constructor(
    private readonly db: Db,
    private readonly dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  create(evaluations: NewEvaluation[]): Promise<CreatedEvaluation[]> {
    return this.guard(async () => {
      if (evaluations.length === 0) return [];
      const prepared = evaluations.map((e) => ({ ...e, tags: uniqueTags(e.tags), createdMs: toMs(e.created_at) }));
      await this.db.transaction().execute(async (trx) => {
        for (const chunk of chunks(prepared, INSERT_CHUNK)) {
          await trx
            .insertInto('evaluations')
            .values(
              chunk.map((e) => ({
                id: e.id,
                status: 'queued' as const,
                environment: e.environment,
                sandbox: e.sandbox,
                tags: this.dialect.encodeTags(e.tags),
                created_at: e.createdMs,
                stdout_truncated: this.dialect.encodeBool(false),
                stderr_truncated: this.dialect.encodeBool(false),
                attempts: 0,
                last_seq: 1,
                limits: JSON.stringify(e.limits),
                metadata: JSON.stringify(e.metadata),
                code_sha256: e.code_sha256,
                name: e.name ?? null,
                code_title: e.code_title ?? null,
                owner: e.owner ?? 'anonymous',
                project: e.project ?? 'default',
              })),
            )
            .execute();
          await trx
            .insertInto('evaluation_payloads')
            .values(
              chunk.map((e) => ({
                evaluation_id: e.id,
                code: e.code,
                stdin: e.stdin,
                stdin_raw: rawColumn(e.stdin_raw ?? null),
                stdout: '',
                stderr: '',
                files: e.files?.length ? JSON.stringify(e.files) : null,
                entrypoint: e.command ? null : (e.entrypoint ?? MAIN_FILE),
                command: e.command ? JSON.stringify(e.command) : null,
              })),
            )
            .execute();
          await this.dialect.insertTags(
            trx,
            chunk.map((e) => ({ id: e.id, tags: e.tags, created_at: e.createdMs })),
          );
          await trx
            .insertInto('evaluation_events')
            .values(
              chunk.map((e) => ({
                evaluation_id: e.id,
                seq: 1,
                type: 'status',
                at: e.createdMs,
                data: JSON.stringify({ status: 'queued' }),
              })),
            )
            .execute();
        }
      });
      return prepared.map((e) => {
        const evaluation: Evaluation = {
          id: e.id,
          status: 'queued',
          environment: e.environment,
          sandbox: e.sandbox,
          code: e.code,
          code_sha256: e.code_sha256,
          files: e.files ?? [],
          entrypoint: e.command ? null : (e.entrypoint ?? MAIN_FILE),
          command: e.command ?? null,
          name: e.name ?? null,
          code_title: e.code_title ?? null,
          stdin: e.stdin,
          stdin_base64: e.stdin_raw ? Buffer.from(e.stdin_raw).toString('base64') : null,
          tags: e.tags,
          metadata: e.metadata,
          limits: e.limits,
          created_at: toIso(e.createdMs),
          started_at: null,
          finished_at: null,
          exit_code: null,
          signal: null,
          reason: null,
          message: null,
          stdout: '',
          stderr: '',
          stdout_truncated: false,
          stderr_truncated: false,
          metrics: { wall_ms: null, cpu_ms: null, peak_memory_bytes: null },
          worker: null,
          waiting_reason: null,
          attempts: 0,
          owner: e.owner ?? 'anonymous',
          project: e.project ?? 'default',
        };
        const event: EvaluationEvent = { seq: 1, at: evaluation.created_at, type: 'status', data: { status: 'queued' } };
        return { evaluation, events: [event] };
      });
    });
  }

  get(id: string): Promise<Evaluation | null> {
    return this.guard(async () => {
      const row = await this.record(id).select(['evaluation_payloads.stdout', 'evaluation_payloads.stderr']).executeTakeFirst();
      if (!row) return null;
      const whole = async (column: 'stdout' | 'stderr') =>
        inPieces(row.output_in_pieces, column) ? await joinedText(this.piecesOf<string>(id, column)) : row[column];
      return toEvaluation(row, { ...row, stdout: await whole('stdout'), stderr: await whole('stderr') });
    });
  }

  read(id: string): Promise<EvaluationRead | null> {
    return this.guard(async () => {
      const row = await this.record(id).select(['evaluation_payloads.stdout', 'evaluation_payloads.stderr']).executeTakeFirst();
      if (!row) return null;
      const pieced = (column: 'stdout' | 'stderr') => inPieces(row.output_in_pieces, column);
      if (!pieced('stdout') && !pieced('stderr')) return { evaluation: toEvaluation(row, row), pieces: null };
      const stream = (column: 'stdout' | 'stderr') => (pieced(column) ? this.piecesOf<string>(id, column) : [row[column]]);
      return {
        evaluation: toEvaluation(row, { ...row, stdout: '', stderr: '' }),
        pieces: { stdout: stream('stdout'), stderr: stream('stderr') },
      };
    });
  }

  /** The query for an evaluation's row and its payload columns but the output (the caller selects that as it needs). */
  private record(id: string) {
    return this.db
      .selectFrom('evaluations')
      .innerJoin('evaluation_payloads', 'evaluation_payloads.evaluation_id', 'evaluations.id')
      .selectAll('evaluations')
      .select(RECORD_PAYLOAD_COLUMNS.map((c) => `evaluation_payloads.${c}` as const))
      .select('evaluation_payloads.output_in_pieces')
      .where('evaluations.id', '=', id);
  }

  readOutput(id: string, stream: 'stdout' | 'stderr'): Promise<StoredOutput | null> {
    return this.guard(async () => {
      const rawColumnName = stream === 'stdout' ? 'stdout_raw' : 'stderr_raw';
      const row = await this.db
        .selectFrom('evaluations')
        .innerJoin('evaluation_payloads', 'evaluation_payloads.evaluation_id', 'evaluations.id')
        .select(['evaluations.status', 'evaluations.project', 'evaluation_payloads.output_in_pieces'])
        // Each at most COLUMN_MAX_BYTES: a larger output is in piece rows, its column empty.
        .select([sql.ref<Buffer | null>(`evaluation_payloads.${rawColumnName}`).as('raw'), sql.ref<string>(`evaluation_payloads.${stream}`).as('text')])
        .where('evaluations.id', '=', id)
        .executeTakeFirst();
      if (!row) return null;
      const pieced = (column: OutputColumn) => inPieces(row.output_in_pieces, column);
      return {
        status: row.status,
        project: row.project,
        raw: row.raw === null ? null : pieced(rawColumnName) ? this.piecesOf<Buffer>(id, rawColumnName) : [row.raw],
        text: pieced(stream) ? this.piecesOf<string>(id, stream) : [row.text],
      };
    });
  }

  /** An output stored in pieces, read a piece per query (see output-pieces.ts). */
  private piecesOf<T extends string | Buffer>(id: string, column: OutputColumn): AsyncGenerator<T> {
    return readPieces<T>(this.db, id, column, this.guard);
  }

  getSummary(id: string): Promise<EvaluationSummary | null> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('evaluations').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toSummary(row) : null;
    });
  }

  async list(query: EvaluationListQuery): Promise<EvaluationList> {
    // Decoded outside guard(): a bad cursor is the caller's 400, not a storage failure.
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    return this.guard(async () => {
      const limit = query.limit;
      const filtered = await this.filtered(query);
      let select = filtered.page;
      if (cursor) {
        select = select.where((eb) => eb(eb.refTuple('evaluations.created_at', 'evaluations.id'), '<', eb.tuple(cursor.createdAt, cursor.id)));
      }
      // The page's keys first; full rows only for the evaluations whose row changed since last read.
      const keys = await select
        .select(['evaluations.id', 'evaluations.last_seq', 'evaluations.created_at'])
        .orderBy('evaluations.created_at', 'desc')
        .orderBy('evaluations.id', 'desc')
        .limit(limit + 1)
        .execute();
      // A first page that holds every match is its own count (a batch polled by its tag usually
      // is); otherwise counted over a bounded subquery, so a huge history costs at most
      // LIST_TOTAL_CAP index rows.
      const total = !cursor && keys.length <= limit ? keys.length : await this.count(filtered.count);
      const page = keys.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: await this.summaries(page),
        next_cursor: keys.length > limit && last ? encodeCursor({ createdAt: Number(last.created_at), id: last.id }) : null,
        total: Math.min(total, LIST_TOTAL_CAP),
        total_capped: total > LIST_TOTAL_CAP,
      };
    });
  }

  /**
   * The summaries of `page` in its order: those whose row is at the version this process last read
   * as read then, the rest read now. One that vanished between the two reads is left out.
   */
  private async summaries(page: { id: string; last_seq: number }[]): Promise<EvaluationSummary[]> {
    const known = page.map((key) => this.summaryCache.get(key.id, Number(key.last_seq)));
    const missing = page.filter((_, i) => !known[i]).map((key) => key.id);
    const read = new Map<string, EvaluationSummary>();
    if (missing.length > 0) {
      for (const row of await this.db.selectFrom('evaluations').selectAll().where('id', 'in', padded(missing)).execute()) {
        const summary = toSummary(row);
        this.summaryCache.remember(summary, Number(row.last_seq));
        read.set(summary.id, summary);
      }
    }
    return page.map((key, i) => known[i] ?? read.get(key.id)).filter((s): s is EvaluationSummary => s !== undefined);
  }

  /** How many evaluations `filtered` selects, up to LIST_TOTAL_CAP + 1. */
  private async count(filtered: EvaluationsSelect): Promise<number> {
    const counted = await this.db
      .selectFrom(
        filtered
          .select('evaluations.id')
          .limit(LIST_TOTAL_CAP + 1)
          .as('matching'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(counted.n);
  }

  /**
   * The evaluations a listing's filters select (no cursor, order or columns yet), for its page and
   * for its count. With tags and no status filter the count starts from the dialect's form for
   * counts, which may walk the tags' own rows instead of the evaluations newest first; a status
   * filter keeps the page's form, whose status index suits the count better (SQLite, 100 000
   * rows, failed (5%) and a tag on 10%: 9 ms against 20 for the tag's walk).
   */
  private async filtered(query: EvaluationListQuery): Promise<{ page: EvaluationsSelect; count: EvaluationsSelect }> {
    const tags = query.tags?.length ? await this.dialect.tagSelection(this.db, uniqueTags(query.tags)) : null;
    // Neither q nor meta is indexed: both look only at the newest SEARCH_WINDOW evaluations.
    const floor = query.q || query.meta?.length ? await searchFloor(this.db) : null;
    const narrowed = (from: EvaluationsSelect) => {
      let select = from;
      if (query.status?.length) select = select.where('evaluations.status', 'in', query.status);
      if (query.project !== undefined) select = select.where('evaluations.project', '=', query.project);
      if (floor !== null) select = select.where('evaluations.created_at', '>=', floor);
      if (query.q) {
        const q = query.q;
        select = select.where((eb) => textMatch(this.dialect, eb, q));
      }
      if (query.meta?.length) {
        const pairs = query.meta;
        select = select.where((eb) => metadataMatch(this.dialect, eb, pairs));
      }
      return select;
    };
    const evaluations = this.db.selectFrom('evaluations');
    const page = narrowed(tags ? evaluations.where(tags.where) : evaluations);
    return { page, count: tags && !query.status?.length ? narrowed(tags.countFrom()) : page };
  }

  transition(id: string, to: EvaluationStatus, patch: TransitionPatch = {}, options: TransitionOptions = {}): Promise<TransitionResult | null> {
    return this.guard(async () => {
      const through = options.through && canTransition(options.through, to) ? sourcesOf(options.through) : [];
      const sources = [...new Set([...sourcesOf(to), ...through])].filter((s) => !options.expectFrom || options.expectFrom.includes(s));
      if (sources.length === 0) return null;
      const before = options.precedingEvents ?? [];
      const extra = options.extraEvents ?? [];
      const eventCount = before.length + 1 + extra.length;
      const now = Date.now();

      return this.db.transaction().execute(async (trx) => {
        let update = trx
          .updateTable('evaluations')
          .set((eb) => ({
            ...this.hotPatch(patch),
            status: to,
            last_seq: eb('last_seq', '+', eventCount),
            ...(patch.increment_attempts ? { attempts: eb('attempts', '+', 1) } : {}),
          }))
          .where('id', '=', id)
          .where('status', 'in', sources);
        if (options.expectWorker !== undefined) update = update.where('worker', '=', options.expectWorker);
        const row = await update.returningAll().executeTakeFirst();
        if (!row) return null;

        await this.writePayload(trx, id, patch);
        const statusEvent: NewEvaluationEvent = {
          type: 'status',
          at: new Date(now).toISOString(),
          data: { status: to, reason: row.reason as Evaluation['reason'], message: row.message, worker: row.worker },
        };
        const events = await insertEvents(trx, id, Number(row.last_seq) - eventCount + 1, [...before, statusEvent, ...extra]);
        return { evaluation: toSummary(row), events };
      });
    });
  }

  listArtifacts(id: string): Promise<ArtifactList | null> {
    return this.guard(async () => {
      const payload = await this.db.selectFrom('evaluation_payloads').select('artifacts_dropped').where('evaluation_id', '=', id).executeTakeFirst();
      if (!payload) return null;
      const items = await this.db
        .selectFrom('evaluation_artifacts')
        .select(['path', 'size_bytes', 'sha256', 'content_type'])
        .where('evaluation_id', '=', id)
        .orderBy('path')
        .execute();
      const left = payload.artifacts_dropped ? decodeJson<Omit<ArtifactList, 'items'>>(payload.artifacts_dropped) : { dropped: [], dropped_more: 0 };
      return { items: items.map((a) => ({ ...a, size_bytes: Number(a.size_bytes) })), dropped: left.dropped, dropped_more: left.dropped_more };
    });
  }

  readArtifact(id: string, path: string): Promise<CollectedArtifact | null> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('evaluation_artifacts').selectAll().where('evaluation_id', '=', id).where('path', '=', path).executeTakeFirst();
      if (!row) return null;
      return { path: row.path, size_bytes: Number(row.size_bytes), sha256: row.sha256, content_type: row.content_type, content: new Uint8Array(row.content) };
    });
  }

  findByStatus(statuses: EvaluationStatus[], options: { workers?: string[]; limit?: number } = {}): Promise<EvaluationSummary[]> {
    return this.guard(async () => {
      if (statuses.length === 0 || options.workers?.length === 0) return [];
      let select = this.db.selectFrom('evaluations').selectAll().where('status', 'in', statuses);
      if (options.workers) select = select.where('worker', 'in', options.workers);
      const rows = await select
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(options.limit ?? DEFAULT_FIND_LIMIT)
        .execute();
      return rows.map(toSummary);
    });
  }

  countInStatus(statuses: EvaluationStatus[], cap: number): Promise<number> {
    return this.guard(async () => {
      if (statuses.length === 0 || cap <= 0) return 0;
      const bounded = this.db.selectFrom('evaluations').select('id').where('status', 'in', statuses).limit(cap).as('bounded');
      const row = await this.db
        .selectFrom(bounded)
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  // --- helpers -------------------------------------------------------------------------------

  /** The hot-row columns a patch sets (payload columns are written by writePayload). */
  private hotPatch(patch: TransitionPatch): Updateable<EvaluationsTable> {
    const set: Updateable<EvaluationsTable> = {};
    if (patch.started_at !== undefined) set.started_at = patch.started_at === null ? null : toMs(patch.started_at);
    if (patch.finished_at !== undefined) set.finished_at = patch.finished_at === null ? null : toMs(patch.finished_at);
    if (patch.exit_code !== undefined) set.exit_code = patch.exit_code;
    if (patch.signal !== undefined) set.signal = patch.signal;
    if (patch.reason !== undefined) set.reason = patch.reason;
    if (patch.message !== undefined) set.message = patch.message;
    if (patch.stdout_truncated !== undefined) set.stdout_truncated = this.dialect.encodeBool(patch.stdout_truncated);
    if (patch.stderr_truncated !== undefined) set.stderr_truncated = this.dialect.encodeBool(patch.stderr_truncated);
    if (patch.metrics !== undefined) {
      set.wall_ms = patch.metrics.wall_ms;
      set.cpu_ms = patch.metrics.cpu_ms;
      set.peak_memory_bytes = patch.metrics.peak_memory_bytes;
    }
    if (patch.worker !== undefined) set.worker = patch.worker;
    return set;
  }

  /**
   * Writes what a finish adds to the payload: stdout/stderr and the artifacts (their files, and
   * what was dropped in the payload row's own update). Other transitions leave the payload alone.
   * Artifacts are written only with a verdict, and a verdict is final, so there are never earlier
   * ones to replace: no delete, and one UPDATE of the payload row whatever the patch holds.
   */
  private async writePayload(trx: Tx, id: string, patch: TransitionPatch): Promise<void> {
    const { artifacts } = patch;
    // One row per statement: a row may hold up to max_artifact_bytes, far beyond a batch's comfort.
    for (const a of artifacts?.items ?? []) {
      await trx
        .insertInto('evaluation_artifacts')
        .values({ evaluation_id: id, path: a.path, size_bytes: a.size_bytes, sha256: a.sha256, content_type: a.content_type, content: rawColumn(a.content)! })
        .execute();
    }
    const set: Updateable<EvaluationPayloadsTable> = {};
    let pieced = 0;
    // An output over COLUMN_MAX_BYTES goes to piece rows (output-pieces.ts), its column left empty.
    const output = async <T extends string | Buffer>(column: OutputColumn, write: ColumnWrite<T>): Promise<T> => {
      if (write.pieces) {
        await writePieces(trx, id, column, write.pieces);
        pieced |= PIECED[column];
      }
      return write.value;
    };
    if (patch.stdout !== undefined) set.stdout = await output('stdout', textColumn(patch.stdout));
    if (patch.stderr !== undefined) set.stderr = await output('stderr', textColumn(patch.stderr));
    if (patch.stdout_raw !== undefined) set.stdout_raw = patch.stdout_raw && (await output('stdout_raw', bytesColumn(rawColumn(patch.stdout_raw)!)));
    if (patch.stderr_raw !== undefined) set.stderr_raw = patch.stderr_raw && (await output('stderr_raw', bytesColumn(rawColumn(patch.stderr_raw)!)));
    if (pieced) set.output_in_pieces = pieced;
    // Nothing dropped reads the same as no record of it (listArtifacts), so an empty list costs nothing.
    if (artifacts && (artifacts.dropped.length > 0 || artifacts.dropped_more > 0)) {
      set.artifacts_dropped = JSON.stringify({ dropped: artifacts.dropped, dropped_more: artifacts.dropped_more });
    }
    if (Object.keys(set).length === 0) return;
    await trx.updateTable('evaluation_payloads').set(set).where('evaluation_id', '=', id).executeTakeFirstOrThrow();
  }
}

/** Both drivers take a Node Buffer for a blob/bytea parameter. */
function rawColumn(bytes: Uint8Array | null): Buffer | null {
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
}
