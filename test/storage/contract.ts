/**
 * The Storage contract: every adapter (SQLite, PostgreSQL) must pass these tests.
 * `open` returns a fresh, empty, initialised store; `dispose` removes whatever it created.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrucibleError } from '../../src/domain/errors.js';
import { Evaluation as EvaluationSchema, EvaluationSummary as SummarySchema, type EvaluationStatus } from '../../src/domain/evaluation.js';
import { EvaluationEvent as EventSchema, type NewEvaluationEvent } from '../../src/domain/events.js';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { newEvaluationId } from '../../src/app/evaluation-ids.js';
import type { Storage, NewEvaluation, StoredApiKey } from '../../src/ports/storage.js';
import type { StoredWebSession } from '../../src/domain/web-session.js';
import type { Db, StoreDialect } from '../../src/storage/dialect.js';
import { migrate } from '../../src/storage/migrations.js';
import { textPieces } from '../../src/storage/output-pieces.js';

export interface StoreHarness {
  open(): Promise<Storage>;
  dispose(store: Storage): Promise<void>;
}

let clock = Date.parse('2030-01-01T00:00:00.000Z');
/** Distinct, increasing creation times so ordering assertions do not depend on the wall clock. */
function nextCreatedAt(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

export function newEvaluation(overrides: Partial<NewEvaluation> = {}): NewEvaluation {
  return {
    id: newEvaluationId(),
    environment: 'python',
    sandbox: 'bubblewrap',
    code: 'print("hello")',
    code_sha256: 'a'.repeat(64),
    stdin: null,
    tags: [],
    metadata: {},
    limits: DEFAULT_LIMITS,
    created_at: nextCreatedAt(),
    ...overrides,
  };
}

const out = (text: string): NewEvaluationEvent => ({ type: 'stdout', at: new Date().toISOString(), data: { text } });

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CrucibleError);
  expect((err as CrucibleError).code).toBe(code);
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`Storage contract: ${name}`, () => {
    let store: Storage;
    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      await harness.dispose(store);
    });

    async function created(overrides: Partial<NewEvaluation> = {}) {
      const [result] = await store.evaluations.create([newEvaluation(overrides)]);
      return result!.evaluation;
    }

    async function toRunning(id: string, worker = 'w1') {
      expect(await store.evaluations.transition(id, 'provisioning', { worker, increment_attempts: true }, { expectFrom: ['queued'] })).not.toBeNull();
      expect(await store.evaluations.transition(id, 'running', { started_at: new Date().toISOString() }, { expectWorker: worker })).not.toBeNull();
    }

    it('init is idempotent and ping works', async () => {
      await store.init();
      await store.ping();
    });

    it('round-trips a created evaluation with its first event', async () => {
      const input = newEvaluation({
        code: 'import sys\nprint(sys.stdin.read())  # ünïcödé',
        stdin: 'some input',
        tags: ['exp:1', 'model/gpt', 'exp:1'],
        metadata: { run: 7, nested: { a: [1, 2] } },
        limits: { ...DEFAULT_LIMITS, timeout_s: 2.5, cpus: 0.5 },
      });
      const [result] = await store.evaluations.create([input]);
      expect(result!.events).toEqual([{ seq: 1, at: input.created_at, type: 'status', data: { status: 'queued' } }]);
      const got = await store.evaluations.get(input.id);
      expect(EvaluationSchema.parse(got)).toEqual(got);
      expect(got).toEqual(result!.evaluation);
      expect(got).toMatchObject({
        id: input.id,
        status: 'queued',
        code: input.code,
        stdin: 'some input',
        tags: ['exp:1', 'model/gpt'],
        metadata: { run: 7, nested: { a: [1, 2] } },
        limits: input.limits,
        created_at: input.created_at,
        started_at: null,
        metrics: { wall_ms: null, cpu_ms: null, peak_memory_bytes: null },
        stdout: '',
        stdout_truncated: false,
        attempts: 0,
        worker: null,
      });
      expect(await store.events.after(input.id, 0)).toEqual(result!.events);
      expect(await store.evaluations.get('ev_missing')).toBeNull();
      // The summary is the same record without code, stdin and output.
      const {
        code: _code,
        files: _files,
        entrypoint: _entrypoint,
        command: _command,
        stdin: _stdin,
        stdin_base64: _stdinBase64,
        stdout: _stdout,
        stderr: _stderr,
        ...summary
      } = got!;
      expect(await store.evaluations.getSummary(input.id)).toEqual(summary);
      expect(await store.evaluations.getSummary('ev_missing')).toBeNull();
    });

    it('creates a batch atomically and rejects a duplicate id', async () => {
      const batch = Array.from({ length: 250 }, () => newEvaluation({ tags: ['batch'] }));
      expect(await store.evaluations.create(batch)).toHaveLength(250);
      expect((await store.stats.countByStatus()).queued).toBe(250);
      const fresh = newEvaluation();
      await expectCode(store.evaluations.create([fresh, newEvaluation({ id: batch[0]!.id })]), 'duplicate_id');
      expect(await store.evaluations.get(fresh.id)).toBeNull();
    });

    it('lists newest first with a cursor that stays stable while rows arrive', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) ids.push((await created()).id);
      const newestFirst = [...ids].reverse();

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.evaluations.list({ limit: 10, cursor });
        for (const item of page.items) expect(SummarySchema.parse(item)).toEqual(item);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.next_cursor ?? undefined;
        pages++;
        // Concurrent arrivals (newer than everything) must not shift the pages being read.
        await Promise.all([created(), created()]);
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(newestFirst);
    });

    it('shows every change on repeated listings of a batch as its evaluations finish, and counts the page', async () => {
      const tag = `poll-${Date.now()}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await created({ tags: [tag] })).id);
      const poll = () => store.evaluations.list({ limit: 10, tags: [tag] });
      const expectMatchesReads = async () => {
        const page = await poll();
        expect(page.total).toBe(5);
        expect(page.items.map((i) => i.id)).toEqual([...ids].reverse());
        for (const item of page.items) expect(item).toEqual(await store.evaluations.getSummary(item.id));
        return page;
      };
      await expectMatchesReads();
      // Finish them one by one, each listed between steps: finished and unfinished ones side by side.
      for (const id of ids) {
        await toRunning(id);
        await expectMatchesReads();
        const finishedAt = new Date().toISOString();
        expect(
          await store.evaluations.transition(id, 'completed', { ...doneData('completed'), finished_at: finishedAt }, { expectFrom: ['running'] }),
        ).not.toBeNull();
        await expectMatchesReads();
      }
      const last = await expectMatchesReads();
      expect(last.items.every((i) => i.status === 'completed' && i.finished_at !== null)).toBe(true);
      // A page that does not hold every match still counts them all.
      const first = await store.evaluations.list({ limit: 2, tags: [tag] });
      expect(first.total).toBe(5);
      const rest = await store.evaluations.list({ limit: 2, tags: [tag], cursor: first.next_cursor! });
      expect(rest.total).toBe(5);
    });

    it('counts every match of tags combined with other filters when the page holds only some', async () => {
      const run = `count-${Date.now()}`;
      const [common, rare] = [`${run}-common`, `${run}-rare`];
      // 12 with the common tag: 4 of them also rare, 3 of them (2 rare) in another project, 5 failed.
      const batch = Array.from({ length: 12 }, (_, i) =>
        newEvaluation({ tags: i < 4 ? [common, rare] : [common], project: i % 4 === 1 ? `${run}-p` : 'default', created_at: nextCreatedAt() }),
      );
      await store.evaluations.create([...batch, newEvaluation({ tags: [rare] }), newEvaluation({ tags: [`${run}-other`] })]);
      for (const e of batch.slice(0, 5)) {
        await store.evaluations.transition(e.id, 'failed', { ...doneData('failed'), finished_at: new Date().toISOString() }, { through: 'running' });
      }
      const total = async (q: Omit<Parameters<Storage['evaluations']['list']>[0], 'limit'>) => {
        const first = await store.evaluations.list({ limit: 1, ...q });
        const all = await store.evaluations.list({ limit: 100, ...q });
        // The first page's count (counted apart) is the number of matches a full page shows.
        expect(first.total, JSON.stringify(q)).toBe(all.items.length);
        expect(first.total_capped).toBe(false);
        return first.total;
      };
      expect(await total({ tags: [common] })).toBe(12);
      expect(await total({ tags: [rare] })).toBe(5);
      expect(await total({ tags: [common, rare] })).toBe(4);
      expect(await total({ tags: [rare, common] })).toBe(4);
      expect(await total({ tags: [common], project: 'default' })).toBe(9);
      expect(await total({ tags: [common, rare], project: `${run}-p` })).toBe(1);
      expect(await total({ tags: [common], status: ['failed'] })).toBe(5);
      expect(await total({ tags: [rare, common], status: ['queued'] })).toBe(0);
    });

    it('breaks created_at ties by id', async () => {
      const at = nextCreatedAt();
      const batch = Array.from({ length: 5 }, () => newEvaluation({ created_at: at }));
      await store.evaluations.create(batch);
      const first = await store.evaluations.list({ limit: 2 });
      const rest = await store.evaluations.list({ limit: 10, cursor: first.next_cursor! });
      const expected = batch
        .map((b) => b.id)
        .sort()
        .reverse();
      expect([...first.items, ...rest.items].map((i) => i.id)).toEqual(expected);
    });

    it('filters by status, by all of several tags, and by text', async () => {
      const a = await created({ tags: ['red', 'big'], code: 'print("needle_one")' });
      const b = await created({ tags: ['red'], code: 'x = 1' });
      const c = await created({ tags: ['big', 'red', 'round'], code: 'y = "50%_off"' });
      await created({ tags: ['blue'] });
      await store.evaluations.transition(b.id, 'cancelled');

      const ids = async (q: Parameters<Storage['evaluations']['list']>[0]) => (await store.evaluations.list(q)).items.map((i) => i.id);
      expect(await ids({ limit: 50, status: ['cancelled'] })).toEqual([b.id]);
      expect(await ids({ limit: 50, status: ['queued', 'cancelled'], tags: ['red'] })).toEqual([c.id, b.id, a.id]);
      expect(await ids({ limit: 50, tags: ['red', 'big'] })).toEqual([c.id, a.id]);
      expect(await ids({ limit: 50, tags: ['red', 'big'], status: ['cancelled'] })).toEqual([]);
      expect(await ids({ limit: 50, tags: ['nope'] })).toEqual([]);
      expect(await ids({ limit: 50, q: 'NEEDLE_one' })).toEqual([a.id]);
      expect(await ids({ limit: 50, q: 'roun' })).toEqual([c.id]);
      expect(await ids({ limit: 50, q: a.id.slice(-10) })).toEqual([a.id]);
      // LIKE wildcards in q are literal characters.
      expect(await ids({ limit: 50, q: '50%_' })).toEqual([c.id]);
      expect(await ids({ limit: 50, q: '%' })).toEqual([c.id]);
      const page = await store.evaluations.list({ limit: 1, tags: ['red'] });
      expect((await store.evaluations.list({ limit: 5, tags: ['red'], cursor: page.next_cursor! })).items.map((i) => i.id)).toEqual([b.id, a.id]);
    });

    it('keeps a name and a code title, and finds runs by name', async () => {
      const named = await created({ name: 'Baseline, 4 shots', code_title: 'solve()' });
      const unnamed = await created({ code_title: 'main()' });
      expect(await store.evaluations.get(named.id)).toMatchObject({ name: 'Baseline, 4 shots', code_title: 'solve()' });
      expect(await store.evaluations.getSummary(unnamed.id)).toMatchObject({ name: null, code_title: 'main()' });
      expect((await store.evaluations.list({ limit: 50, q: 'baseline, 4' })).items.map((i) => i.id)).toEqual([named.id]);
    });

    it('searches outputs and the ending message, filters by metadata values, and counts every match', async () => {
      const a = await created({ metadata: { model: 'gpt-x', task: 7 } });
      const b = await created({ metadata: { model: 'gpt-y', task: 7 } });
      await created({ metadata: { model: 'gpt-x' } });
      await toRunning(a.id);
      await store.evaluations.transition(a.id, 'completed', { stdout: 'ANSWER=41', stderr: 'warn: Deprecated', finished_at: new Date().toISOString() });
      await store.evaluations.transition(b.id, 'cancelled', { message: 'Cancelled by Somebody' });

      const list = (q: Parameters<Storage['evaluations']['list']>[0]) => store.evaluations.list(q);
      const ids = async (q: Parameters<Storage['evaluations']['list']>[0]) => (await list(q)).items.map((i) => i.id);
      expect(await ids({ limit: 50, q: 'answer=41' })).toEqual([a.id]);
      expect(await ids({ limit: 50, q: 'deprecated' })).toEqual([a.id]);
      expect(await ids({ limit: 50, q: 'by somebody' })).toEqual([b.id]);
      expect(
        await ids({
          limit: 50,
          meta: [
            { key: 'model', value: 'gpt-x' },
            { key: 'task', value: '7' },
          ],
        }),
      ).toEqual([a.id]);
      expect((await ids({ limit: 50, meta: [{ key: 'task', value: '7' }] })).sort()).toEqual([a.id, b.id].sort());
      expect(await ids({ limit: 50, meta: [{ key: 'nope', value: 'x' }] })).toEqual([]);

      const page = await list({ limit: 1, meta: [{ key: 'model', value: 'gpt-x' }] });
      expect(page).toMatchObject({ total: 2, total_capped: false });
      expect(page.items).toHaveLength(1);
      expect((await list({ limit: 1 })).total).toBe(3);
    });

    it('rejects a malformed cursor with invalid_cursor', async () => {
      const forged = (id: string) => Buffer.from(JSON.stringify([Date.now(), id])).toString('base64url');
      const malformed = ['garbage!', 'e30', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["x","y"]').toString('base64url')];
      // Ids no evaluation can have: a NUL (which PostgreSQL cannot even compare), a path, too long.
      for (const cursor of [...malformed, forged('ev_\u0000x'), forged('../x'), forged('a'.repeat(65))]) {
        await expectCode(store.evaluations.list({ limit: 10, cursor }), 'invalid_cursor');
      }
    });

    it('moves through an intermediate status in one transition, with both status events in order', async () => {
      const e = await created();
      await store.evaluations.transition(e.id, 'provisioning', { worker: 'w1', increment_attempts: true, started_at: null }, { expectFrom: ['queued'] });
      const startedAt = new Date().toISOString();
      const runningEvent = { type: 'status' as const, at: startedAt, data: { status: 'running' as const, reason: null, message: null, worker: 'w1' } };
      // Without `through`, provisioning → completed is not a legal move.
      expect(await store.evaluations.transition(e.id, 'completed', { reason: 'exit_zero' }, { expectFrom: ['provisioning', 'running'] })).toBeNull();
      const moved = await store.evaluations.transition(
        e.id,
        'completed',
        { started_at: startedAt, exit_code: 0, reason: 'exit_zero', message: 'ok', stdout: 'hi\n', stderr: '' },
        { expectFrom: ['provisioning', 'running'], expectWorker: 'w1', through: 'running', precedingEvents: [runningEvent, out('hi\n')] },
      );
      expect(moved!.evaluation).toMatchObject({ status: 'completed', started_at: startedAt, exit_code: 0 });
      expect(moved!.events.map((ev) => [ev.seq, ev.type, ev.type === 'status' ? ev.data.status : null])).toEqual([
        [3, 'status', 'running'],
        [4, 'stdout', null],
        [5, 'status', 'completed'],
      ]);
      expect((await store.events.after(e.id, 0)).map((ev) => ev.seq)).toEqual([1, 2, 3, 4, 5]);
      // `through` opens no move the state machine forbids: a terminal evaluation stays terminal.
      expect(await store.evaluations.transition(e.id, 'failed', {}, { through: 'running' })).toBeNull();
    });

    it('applies legal transitions with their patch and status events', async () => {
      const e = await created();
      const claimed = await store.evaluations.transition(
        e.id,
        'provisioning',
        { worker: 'w1', increment_attempts: true, started_at: null },
        { expectFrom: ['queued'] },
      );
      expect(claimed!.evaluation).toMatchObject({ status: 'provisioning', worker: 'w1', attempts: 1 });
      expect(claimed!.evaluation).not.toHaveProperty('code'); // a transition never reads the payload back
      expect(claimed!.events).toEqual([
        { seq: 2, at: expect.any(String), type: 'status', data: { status: 'provisioning', reason: null, message: null, worker: 'w1' } },
      ]);
      const startedAt = new Date().toISOString();
      const running = await store.evaluations.transition(e.id, 'running', { started_at: startedAt }, { expectFrom: ['provisioning'], expectWorker: 'w1' });
      expect(running!.evaluation).toMatchObject({ status: 'running', started_at: startedAt });
      const finishedAt = new Date().toISOString();
      const done = await store.evaluations.transition(
        e.id,
        'failed',
        {
          finished_at: finishedAt,
          exit_code: 3,
          signal: null,
          reason: 'exit_nonzero',
          message: 'exited with 3',
          stdout: 'partial out',
          stderr: 'Traceback',
          stdout_truncated: true,
          stderr_truncated: false,
          metrics: { wall_ms: 12.5, cpu_ms: 8, peak_memory_bytes: 7_340_032 },
        },
        { expectFrom: ['running'], expectWorker: 'w1' },
      );
      const expected = {
        status: 'failed',
        finished_at: finishedAt,
        exit_code: 3,
        reason: 'exit_nonzero',
        message: 'exited with 3',
        stdout: 'partial out',
        stderr: 'Traceback',
        stdout_truncated: true,
        stderr_truncated: false,
        metrics: { wall_ms: 12.5, cpu_ms: 8, peak_memory_bytes: 7_340_032 },
        worker: 'w1',
        attempts: 1,
      };
      const { stdout, stderr, ...summary } = expected;
      expect(done!.evaluation).toMatchObject(summary);
      expect(await store.evaluations.get(e.id)).toEqual({
        ...done!.evaluation,
        code: e.code,
        stdin: e.stdin,
        stdin_base64: e.stdin_base64,
        files: e.files,
        entrypoint: e.entrypoint,
        command: e.command,
        stdout,
        stderr,
      });
      expect(done!.events[0]).toMatchObject({ seq: 4, data: { status: 'failed', reason: 'exit_nonzero', message: 'exited with 3' } });
    });

    it('rejects illegal moves and guards without changing anything', async () => {
      const e = await created();
      expect(await store.evaluations.transition(e.id, 'running')).toBeNull(); // queued → running skips provisioning
      expect(await store.evaluations.transition(e.id, 'completed')).toBeNull();
      expect(await store.evaluations.transition(e.id, 'provisioning', {}, { expectFrom: ['running'] })).toBeNull();
      expect(await store.evaluations.transition('ev_missing', 'provisioning')).toBeNull();
      await store.evaluations.transition(e.id, 'provisioning', { worker: 'w1' });
      expect(await store.evaluations.transition(e.id, 'running', {}, { expectWorker: 'w2' })).toBeNull();
      const now = await store.evaluations.get(e.id);
      expect(now).toMatchObject({ status: 'provisioning', worker: 'w1' });
      expect((await store.events.after(e.id, 0)).map((x) => x.seq)).toEqual([1, 2]);
    });

    it('keeps terminal states final: late, duplicate and out-of-order moves change nothing', async () => {
      const e = await created();
      await toRunning(e.id);
      const finished = await store.evaluations.transition(e.id, 'completed', { exit_code: 0, reason: 'exit_zero', stdout: 'ok' });
      expect(finished).not.toBeNull();
      const before = await store.evaluations.get(e.id);
      const eventsBefore = await store.events.after(e.id, 0);

      const late: Array<[EvaluationStatus, Promise<unknown>]> = [
        ['completed', store.evaluations.transition(e.id, 'completed', { exit_code: 1, stdout: 'other' })],
        ['failed', store.evaluations.transition(e.id, 'failed', { reason: 'platform_error' })],
        ['cancelled', store.evaluations.transition(e.id, 'cancelled', { reason: 'cancelled' })],
        ['queued', store.evaluations.transition(e.id, 'queued', { worker: null })],
        ['running', store.evaluations.transition(e.id, 'running')],
        ['timeout', store.evaluations.transition(e.id, 'timeout', {}, { extraEvents: [out('late')] })],
      ];
      for (const [, p] of late) expect(await p).toBeNull();
      expect(await store.events.append(e.id, [out('late output')])).toEqual([]);
      expect(await store.evaluations.get(e.id)).toEqual(before);
      expect(await store.events.after(e.id, 0)).toEqual(eventsBefore);
    });

    it('lets exactly one of many racing workers claim an evaluation', async () => {
      const e = await created();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.evaluations.transition(e.id, 'provisioning', { worker: `w${i}`, increment_attempts: true }, { expectFrom: ['queued'] }),
        ),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      const current = await store.evaluations.get(e.id);
      expect(current!.worker).toBe(winners[0]!.evaluation.worker);
      expect(current!.attempts).toBe(1);
      expect((await store.events.after(e.id, 0)).map((x) => x.seq)).toEqual([1, 2]);
    });

    it('numbers appended events gap-free under concurrency', async () => {
      const e = await created();
      await toRunning(e.id);
      const batches = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.events.append(
            e.id,
            Array.from({ length: (i % 3) + 1 }, (_, j) => out(`${i}.${j}`)),
          ),
        ),
      );
      // Each batch got consecutive numbers.
      for (const batch of batches) batch.forEach((ev, j) => expect(ev.seq).toBe(batch[0]!.seq + j));
      const all = await store.events.after(e.id, 0);
      expect(all.map((x) => x.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
      expect(all).toHaveLength(3 + 60);
      for (const ev of all) expect(EventSchema.parse(ev)).toEqual(ev);
      // A terminal move racing with appends still leaves no gap and nothing after `done`.
      const [, terminal] = await Promise.all([
        store.events.append(e.id, [out('x')]),
        store.evaluations.transition(e.id, 'completed', {}, { extraEvents: [{ type: 'done', at: new Date().toISOString(), data: doneData('completed') }] }),
        store.events.append(e.id, [out('y')]),
      ]);
      const final = await store.events.after(e.id, 0);
      expect(final.map((x) => x.seq)).toEqual(Array.from({ length: final.length }, (_, i) => i + 1));
      expect(final[final.length - 1]!.type).toBe('done');
      expect(terminal!.events.map((x) => x.type)).toEqual(['status', 'done']);
    });

    it('lists events after a sequence number, with a limit', async () => {
      const e = await created();
      await store.events.append(e.id, [out('a'), out('b'), out('c')]);
      expect((await store.events.after(e.id, 2)).map((x) => x.seq)).toEqual([3, 4]);
      expect((await store.events.after(e.id, 0, 2)).map((x) => x.seq)).toEqual([1, 2]);
      expect(await store.events.after(e.id, 4)).toEqual([]);
      expect((await store.events.after(e.id, 1))[0]).toMatchObject({ type: 'stdout', data: { text: 'a' } });
    });

    it('appends preceding and extra events in the same transaction as the terminal move', async () => {
      const e = await created();
      await toRunning(e.id);
      const at = new Date().toISOString();
      const result = await store.evaluations.transition(
        e.id,
        'timeout',
        { reason: 'timeout', message: 'killed after 1 s' },
        { expectFrom: ['running'], precedingEvents: [out('last words')], extraEvents: [{ type: 'done', at, data: doneData('timeout') }] },
      );
      expect(result!.events.map((x) => [x.seq, x.type])).toEqual([
        [4, 'stdout'],
        [5, 'status'],
        [6, 'done'],
      ]);
      expect(await store.events.after(e.id, 3)).toEqual(result!.events);
      expect(await store.events.append(e.id, [out('after')])).toEqual([]);
    });

    it('records an evaluation that finishes in under 100 ms with interleaved events', async () => {
      // The worker's writes for a short run overlap: `running`, output batches and metrics are in
      // flight together, then the verdict. Order and numbering must come out right.
      const e = await created();
      await store.evaluations.transition(e.id, 'provisioning', { worker: 'fast', increment_attempts: true }, { expectFrom: ['queued'] });
      const writes = [
        store.evaluations.transition(e.id, 'running', { started_at: new Date().toISOString() }, { expectWorker: 'fast' }),
        store.events.append(e.id, [out('1')]),
        store.events.append(e.id, [{ type: 'metrics', at: new Date().toISOString(), data: { elapsed_ms: 3, cpu_ms: 1, memory_bytes: 1000 } }]),
        store.events.append(e.id, [out('2'), { type: 'stderr', at: new Date().toISOString(), data: { text: 'w' } }]),
      ];
      await Promise.all(writes);
      const end = await store.evaluations.transition(
        e.id,
        'completed',
        {
          finished_at: new Date().toISOString(),
          exit_code: 0,
          reason: 'exit_zero',
          stdout: '12',
          stderr: 'w',
          metrics: { wall_ms: 5, cpu_ms: 2, peak_memory_bytes: 1000 },
        },
        { expectFrom: ['running'], expectWorker: 'fast', extraEvents: [{ type: 'done', at: new Date().toISOString(), data: doneData('completed') }] },
      );
      expect(end!.evaluation).toMatchObject({ status: 'completed', exit_code: 0 });
      expect(await store.evaluations.get(end!.evaluation.id)).toMatchObject({ stdout: '12', stderr: 'w' });
      const events = await store.events.after(e.id, 0);
      expect(events.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(events.map((x) => x.type).slice(-2)).toEqual(['status', 'done']);
    });

    it('reads status changes of every evaluation in feed order after a position, with their tags', async () => {
      const a = newEvaluation({ tags: ['feed-a'] });
      const b = newEvaluation({ tags: ['feed-b', 'x'] });
      await store.evaluations.create([a, b]);
      await store.evaluations.transition(a.id, 'provisioning', { worker: 'w1' });
      await store.events.append(a.id, [out('not a status change')]);
      await store.evaluations.transition(b.id, 'provisioning', { worker: 'w1' });
      const all = await store.events.statusChangesAfter({ atMs: 0, evaluationId: '', seq: 0 }, 100);
      const mine = all.filter((c) => c.id === a.id || c.id === b.id);
      expect(mine.map((c) => [c.id === a.id ? 'a' : 'b', c.status, c.seq])).toEqual(
        expect.arrayContaining([
          ['a', 'queued', 1],
          ['b', 'queued', 1],
          ['a', 'provisioning', 2],
          ['b', 'provisioning', 2],
        ]),
      );
      expect(mine.find((c) => c.id === b.id)!.tags).toEqual(['feed-b', 'x']);
      // Feed order, and a position excludes itself and everything before it.
      const keys = all.map((c) => [Date.parse(c.at), c.id, c.seq] as const);
      const sorted = [...keys].sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || x[2] - y[2]);
      expect(keys).toEqual(sorted);
      const [first, ...rest] = all;
      const after = await store.events.statusChangesAfter({ atMs: Date.parse(first!.at), evaluationId: first!.id, seq: first!.seq }, 100);
      expect(after.map((c) => `${c.id}.${c.seq}`)).toEqual(rest.map((c) => `${c.id}.${c.seq}`));
      expect(await store.events.statusChangesAfter({ atMs: 0, evaluationId: '', seq: 0 }, 1)).toHaveLength(1);
    });

    it('keeps binary stdin and output bytes exactly, beside their text', async () => {
      const stdin = new Uint8Array([0, 1, 0xfe, 0xff, 0x80]);
      const e = newEvaluation({ stdin: null, stdin_raw: stdin });
      const [created] = await store.evaluations.create([e]);
      expect(created!.evaluation.stdin_base64).toBe(Buffer.from(stdin).toString('base64'));
      expect((await store.evaluations.get(e.id))!.stdin_base64).toBe(Buffer.from(stdin).toString('base64'));
      const raw = new Uint8Array([0x66, 0, 0xff, 0x0a]);
      await store.evaluations.transition(e.id, 'provisioning', { worker: 'w1' });
      await store.evaluations.transition(e.id, 'running');
      expect(await store.evaluations.transition(e.id, 'completed', { stdout: 'f\ufffd\ufffd\n', stdout_raw: raw, stderr: 'plain' })).not.toBeNull();
      const stdout = await store.evaluations.readOutput(e.id, 'stdout');
      expect(stdout).toMatchObject({ status: 'completed', project: 'default' });
      expect((await allBytes(stdout!.raw!)).equals(Buffer.from(raw))).toBe(true);
      expect(await allText(stdout!.text)).toBe('f\ufffd\ufffd\n');
      const stderr = await store.evaluations.readOutput(e.id, 'stderr');
      expect(stderr!.raw).toBeNull();
      expect(await allText(stderr!.text)).toBe('plain');
      expect(await store.evaluations.readOutput('ev_missing', 'stdout')).toBeNull();
      // A small output comes whole with the record.
      const read = await store.evaluations.read(e.id);
      expect(read!.pieces).toBeNull();
      expect(read!.evaluation).toMatchObject({ id: e.id, status: 'completed', stdout: 'f\ufffd\ufffd\n', stderr: 'plain' });
      expect(read!.evaluation).toEqual(await store.evaluations.get(e.id));
    });

    it('reads a 16 MiB output back in pieces, exactly, text and bytes', async () => {
      const e = newEvaluation();
      await store.evaluations.create([e]);
      await store.evaluations.transition(e.id, 'provisioning', { worker: 'w1' });
      await store.evaluations.transition(e.id, 'running');
      // Multi-byte characters (2, 3 and 4 UTF-8 bytes, a surrogate pair in JS) across every piece boundary.
      const line = 'é€😀' + 'x'.repeat(1009) + '\n';
      const text = line.repeat(16 * 1024);
      const raw = Buffer.alloc(16 * 1024 * 1024 + 3, 0xff);
      raw.write('tail', raw.length - 4);
      expect(await store.evaluations.transition(e.id, 'completed', { stdout: text, stderr: text, stderr_raw: raw })).not.toBeNull();
      const stdout = await store.evaluations.readOutput(e.id, 'stdout');
      expect(stdout!.raw).toBeNull();
      const pieces: string[] = [];
      for await (const piece of stdout!.text) pieces.push(piece);
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.join('') === text).toBe(true);
      const stderr = await store.evaluations.readOutput(e.id, 'stderr');
      expect((await allBytes(stderr!.raw!)).equals(raw)).toBe(true);
      const read = await store.evaluations.read(e.id);
      expect(read!.evaluation).toMatchObject({ id: e.id, status: 'completed', stdout: '', stderr: '' });
      expect((await allText(read!.pieces!.stdout)) === text).toBe(true);
      expect((await allText(read!.pieces!.stderr)) === text).toBe(true);
      expect(await store.evaluations.read('ev_missing')).toBeNull();
      expect(((await store.evaluations.get(e.id))!.stdout as string) === text).toBe(true);
      // The text search finds what is only in a later piece (and only in stderr).
      const other = newEvaluation();
      await store.evaluations.create([other]);
      await store.evaluations.transition(other.id, 'provisioning', { worker: 'w1' });
      await store.evaluations.transition(other.id, 'running');
      await store.evaluations.transition(other.id, 'failed', { stdout: 'ok', stderr: text.slice(0, -1) + 'Traceback: ZeroDivisionError\n' });
      expect((await store.evaluations.list({ limit: 5, q: 'zerodivisionerror' })).items.map((i) => i.id)).toEqual([other.id]);
    });

    it('finds a search text that starts in one stored piece and ends in the next', async () => {
      const firstPiece = textPieces('y'.repeat(2 << 20))[0]!.length;
      const needle = 'Näedle_Across';
      // In stdout, the needle straddles the first boundary; in stderr, the second.
      const straddling = (at: number) => 'y'.repeat(at - 6) + needle + 'y'.repeat((1 << 20) + 10);
      const stdout = straddling(firstPiece);
      const stderr = 'w'.repeat(firstPiece) + straddling(firstPiece);
      expect(textPieces(stdout).some((p) => p.includes(needle))).toBe(false);
      expect(textPieces(stderr).some((p) => p.includes(needle))).toBe(false);
      const [out, err, other] = [newEvaluation(), newEvaluation(), newEvaluation()];
      await store.evaluations.create([out, err, other]);
      for (const [e, output] of [
        [out, { stdout, stderr: 'small' }],
        [err, { stdout: 'small', stderr }],
        [other, { stdout: 'y'.repeat((1 << 20) + 100), stderr: '' }],
      ] as const) {
        await store.evaluations.transition(e.id, 'provisioning', { worker: 'w1' });
        await store.evaluations.transition(e.id, 'running');
        await store.evaluations.transition(e.id, 'completed', output);
      }
      const ids = async (q: string) => (await store.evaluations.list({ limit: 5, q })).items.map((i) => i.id).sort();
      expect(await ids('NäEDLE_ACROSS')).toEqual([out.id, err.id].sort());
      expect(await ids('yyNäedle_Acrossyy')).toEqual([out.id, err.id].sort());
      // Only the next piece's first characters are joined: a text over the boundary that is not there stays unfound.
      expect(await ids('yyyyyNäedle_Acrossz')).toEqual([]);
      expect(await ids('yyyyyy')).toEqual([out.id, err.id, other.id].sort());
    });

    it('reads an output of one piece (1 MiB) with the record, and one byte more in pieces beside it', async () => {
      const piece = 'é'.repeat(512 * 1024); // 1 MiB of UTF-8 in half as many characters
      for (const [stdout, stderr] of [
        [piece, 'small'],
        [piece + 'x', 'small'],
      ] as const) {
        const e = newEvaluation();
        await store.evaluations.create([e]);
        await store.evaluations.transition(e.id, 'provisioning', { worker: 'w1' });
        await store.evaluations.transition(e.id, 'running');
        await store.evaluations.transition(e.id, 'completed', { stdout, stderr });
        const read = await store.evaluations.read(e.id);
        if (stdout === piece) {
          expect(read!.pieces).toBeNull();
          expect(read!.evaluation.stdout === piece).toBe(true);
          expect(read!.evaluation.stderr).toBe('small');
        } else {
          expect(read!.evaluation).toMatchObject({ stdout: '', stderr: '' });
          expect((await allText(read!.pieces!.stdout)) === stdout).toBe(true);
          expect(await allText(read!.pieces!.stderr)).toBe('small');
        }
        expect((await allText((await store.evaluations.readOutput(e.id, 'stdout'))!.text)) === stdout).toBe(true);
      }
    });

    it('keeps a multi-file program and the artifacts recorded with the verdict, bytes exact', async () => {
      const files = [
        { path: 'pkg/a.py', content: 'print("é")', encoding: 'utf-8' as const },
        { path: 'blob.bin', content: 'AAH/', encoding: 'base64' as const },
      ];
      const e = await created({ code: '', files, command: ['python3', '-m', 'pkg'] });
      expect(e).toMatchObject({ files, command: ['python3', '-m', 'pkg'], entrypoint: null });
      expect((await store.evaluations.get(e.id))!).toMatchObject({ files, command: ['python3', '-m', 'pkg'], entrypoint: null });
      expect(await store.evaluations.listArtifacts(e.id)).toEqual({ items: [], dropped: [], dropped_more: 0 });
      await toRunning(e.id);
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0xff]);
      const artifacts = {
        items: [{ path: 'plots/a.png', size_bytes: png.length, sha256: 'f'.repeat(64), content_type: 'image/png', content: png }],
        dropped: [{ path: 'passwd', size_bytes: null, reason: 'not_a_regular_file' as const }],
        dropped_more: 7,
      };
      expect(await store.evaluations.transition(e.id, 'completed', { artifacts }, { expectWorker: 'w1' })).not.toBeNull();
      const { content: _content, ...info } = artifacts.items[0]!;
      expect(await store.evaluations.listArtifacts(e.id)).toEqual({ items: [info], dropped: artifacts.dropped, dropped_more: 7 });
      const read = await store.evaluations.readArtifact(e.id, 'plots/a.png');
      expect(Buffer.from(read!.content).equals(Buffer.from(png))).toBe(true);
      expect(await store.evaluations.readArtifact(e.id, 'nope.png')).toBeNull();
      expect(await store.evaluations.listArtifacts('ev_missing')).toBeNull();
      // An evaluation from before files existed reads as main.py run by python.
      expect((await created()).entrypoint).toBe('main.py');
    });

    it('keeps a worker registry', async () => {
      const w = {
        id: 'host-a:123',
        host: 'host-a',
        pid: 123,
        capacity: 4,
        running: 1,
        environments: ['python' as const],
        sandboxes: ['bubblewrap' as const, 'gvisor' as const],
        started_at: '2030-01-01T00:00:00.000Z',
        last_seen: '2030-01-01T00:00:05.000Z',
      };
      await store.workers.upsert(w);
      await store.workers.upsert({ ...w, id: 'host-b:9', host: 'host-b', pid: 9 });
      await store.workers.upsert({ ...w, running: 3, last_seen: '2030-01-01T00:00:10.000Z' });
      expect(await store.workers.list()).toEqual([
        { ...w, running: 3, last_seen: '2030-01-01T00:00:10.000Z' },
        { ...w, id: 'host-b:9', host: 'host-b', pid: 9 },
      ]);
      await store.workers.remove('host-a:123');
      await store.workers.remove('host-a:123');
      expect((await store.workers.list()).map((x) => x.id)).toEqual(['host-b:9']);
    });

    it('counts the unfinished evaluations of every project that has any (the load history samples)', async () => {
      expect(await store.stats.activeByProject()).toEqual([]);
      await created({ project: 'alpha' });
      await created({ project: 'alpha' });
      const claimed = await created({ project: 'alpha' });
      await store.evaluations.transition(claimed.id, 'provisioning', { worker: 'w1', increment_attempts: true }, { expectFrom: ['queued'] });
      await toRunning((await created({ project: 'beta' })).id);
      const done = await created({ project: 'gamma' });
      await store.evaluations.transition(done.id, 'cancelled', { finished_at: new Date().toISOString(), reason: 'cancelled' });
      const active = await store.stats.activeByProject();
      expect([...active].sort((x, y) => x.project.localeCompare(y.project))).toEqual([
        { project: 'alpha', queued: 2, running: 1 },
        { project: 'beta', queued: 0, running: 1 },
      ]);
    });

    it("counts one project's usage and narrows the dashboard numbers to it; stores quotas", async () => {
      const since = new Date(Date.now() - 60_000).toISOString();
      await created({ project: 'alpha' });
      const running = await created({ project: 'alpha' });
      const burnt = await created({ project: 'alpha' });
      await created({ project: 'beta' });
      await toRunning(running.id);
      await toRunning(burnt.id);
      await store.evaluations.transition(burnt.id, 'completed', {
        finished_at: new Date().toISOString(),
        reason: 'exit_zero',
        metrics: { wall_ms: 2000, cpu_ms: 1500, peak_memory_bytes: 1 },
      });
      expect(await store.stats.projectUsage('alpha', since)).toEqual({ queued: 1, running: 1, cpu_ms: 1500 });
      expect(await store.stats.projectUsage('alpha')).toEqual({ queued: 1, running: 1, cpu_ms: 0 });
      expect(await store.stats.projectUsage('gamma', since)).toEqual({ queued: 0, running: 0, cpu_ms: 0 });
      expect((await store.stats.countByStatus('beta')).queued).toBe(1);
      expect((await store.stats.countByStatus('alpha')).completed).toBe(1);
      expect(await store.stats.oldestQueuedAt('gamma')).toBeNull();
      expect((await store.stats.outcomeBuckets(since, 60, 'beta')).every((b) => b.completed === 0)).toBe(true);
      expect(await store.stats.durationSamples(since, 10, 'alpha')).toHaveLength(1);
      expect(await store.stats.durationSamples(since, 10, 'beta')).toEqual([]);

      expect(await store.quotas.get('alpha')).toBeNull();
      const quota = {
        project: 'alpha',
        max_running: 2,
        max_queued: null,
        max_sessions: 1,
        cpu_seconds_per_day: 3600,
        role_limits: { researcher: { memory_mb: 1024 } },
        updated_at: '2030-01-01T00:00:00.000Z',
        updated_by: 'key_x',
      };
      await store.quotas.put(quota);
      await store.quotas.put({ ...quota, max_queued: 10 });
      expect(await store.quotas.get('alpha')).toEqual({ ...quota, max_queued: 10 });
      expect((await store.quotas.list()).map((q) => q.project)).toEqual(['alpha']);
    });

    it('answers the dashboard and recovery queries', async () => {
      expect(await store.stats.oldestQueuedAt()).toBeNull();
      const q1 = await created();
      const q2 = await created();
      const r1 = await created();
      const r2 = await created();
      const p1 = await created();
      const done = await created();
      await toRunning(r1.id, 'w1');
      await toRunning(r2.id, 'w2');
      await store.evaluations.transition(p1.id, 'provisioning', { worker: 'w1' });
      await store.evaluations.transition(q2.id, 'cancelled', { reason: 'cancelled', finished_at: new Date().toISOString() });
      await toRunning(done.id, 'w2');
      await store.evaluations.transition(done.id, 'completed', { finished_at: new Date().toISOString(), reason: 'exit_zero' });

      expect(await store.stats.countByStatus()).toEqual({ queued: 1, provisioning: 1, running: 2, completed: 1, failed: 0, timeout: 0, cancelled: 1 });
      expect(await store.stats.oldestQueuedAt()).toBe(q1.created_at);
      expect(await store.stats.queuedByEnvironment()).toEqual([{ environment: 'python', waiting: 1, oldest_queued_at: q1.created_at }]);
      expect((await store.evaluations.findByStatus(['provisioning', 'running'])).map((x) => x.id)).toEqual([r1.id, r2.id, p1.id]);
      expect((await store.evaluations.findByStatus(['provisioning', 'running'], { workers: ['w1'] })).map((x) => x.id)).toEqual([r1.id, p1.id]);
      expect((await store.evaluations.findByStatus(['running'], { limit: 1 })).map((x) => x.id)).toEqual([r1.id]);
      expect(await store.evaluations.findByStatus(['running'], { workers: [] })).toEqual([]);
      expect(await store.evaluations.countInStatus(['provisioning', 'running'], 10)).toBe(3);
      expect(await store.evaluations.countInStatus(['provisioning', 'running'], 2)).toBe(2);
      expect(await store.evaluations.countInStatus(['queued'], 0)).toBe(0);
      expect(await store.evaluations.countInStatus([], 10)).toBe(0);

      const since = new Date(Date.now() - 60_000).toISOString();
      const buckets = await store.stats.outcomeBuckets(since, 10);
      expect(buckets.length).toBeGreaterThanOrEqual(6);
      expect(buckets.length).toBeLessThanOrEqual(8);
      const totals = buckets.reduce((t, b) => ({ completed: t.completed + b.completed, cancelled: t.cancelled + b.cancelled, failed: t.failed + b.failed }), {
        completed: 0,
        cancelled: 0,
        failed: 0,
      });
      expect(totals).toEqual({ completed: 1, cancelled: 1, failed: 0 });
      for (let i = 1; i < buckets.length; i++) expect(Date.parse(buckets[i]!.start) - Date.parse(buckets[i - 1]!.start)).toBe(10_000);
    });

    it('gives queue wait and run time of evaluations that started and finished since a time, newest first', async () => {
      const at = (e: { created_at: string }, ms: number) => new Date(Date.parse(e.created_at) + ms).toISOString();
      const a = await created({ sandbox: 'bubblewrap' });
      const b = await created({ sandbox: 'gvisor' });
      const never = await created();
      for (const [e, waitMs, runMs] of [
        [a, 1500, 2500],
        [b, 200, 100],
      ] as const) {
        await store.evaluations.transition(e.id, 'provisioning', { worker: 'w1', increment_attempts: true });
        await store.evaluations.transition(e.id, 'running', { started_at: at(e, waitMs) });
        await store.evaluations.transition(e.id, 'completed', { finished_at: at(e, waitMs + runMs), reason: 'exit_zero' });
      }
      await store.evaluations.transition(never.id, 'cancelled', { reason: 'cancelled', finished_at: at(never, 50) });

      // a finished at +4 s, b (created 1 s after a) at +1.3 s: a is the newest.
      const aSample = { environment: 'python', sandbox: 'bubblewrap', queueWaitMs: 1500, runMs: 2500 };
      const bSample = { environment: 'python', sandbox: 'gvisor', queueWaitMs: 200, runMs: 100 };
      expect(await store.stats.durationSamples(a.created_at, 10)).toEqual([aSample, bSample]);
      expect(await store.stats.durationSamples(a.created_at, 1)).toEqual([aSample]);
      expect(await store.stats.durationSamples(at(a, 3000), 10)).toEqual([aSample]);
      expect(await store.stats.durationSamples(at(a, 5000), 10)).toEqual([]);
    });

    it('records owner and project (defaults: anonymous, default) and lists one project', async () => {
      const a = newEvaluation({ owner: 'key_aaaaaaaaaaaaaaaa', project: 'alpha' });
      const b = newEvaluation();
      await store.evaluations.create([a, b]);
      expect(await store.evaluations.get(a.id)).toMatchObject({ owner: 'key_aaaaaaaaaaaaaaaa', project: 'alpha' });
      expect(await store.evaluations.getSummary(b.id)).toMatchObject({ owner: 'anonymous', project: 'default' });
      expect((await store.evaluations.list({ limit: 10, project: 'alpha' })).items.map((e) => e.id)).toEqual([a.id]);
      expect((await store.evaluations.list({ limit: 10, project: 'default' })).items.map((e) => e.id)).toEqual([b.id]);
      const changes = await store.events.statusChangesAfter({ atMs: 0, evaluationId: '', seq: 0 }, 10);
      expect(changes.map((c) => [c.id, c.project])).toEqual(
        expect.arrayContaining([
          [a.id, 'alpha'],
          [b.id, 'default'],
        ]),
      );
    });

    describe('API keys', () => {
      const key = (id: string, overrides: Partial<StoredApiKey> = {}): StoredApiKey => ({
        id,
        name: `name of ${id}`,
        role: 'researcher',
        project: 'alpha',
        secret_sha256: 'f'.repeat(64),
        created_at: '2030-01-01T00:00:00.000Z',
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
        ...overrides,
      });

      it('stores, reads and lists keys (oldest first) exactly as given', async () => {
        const a = key('key_aaaaaaaaaaaaaaaa', { expires_at: '2031-01-01T00:00:00.000Z' });
        const b = key('key_bbbbbbbbbbbbbbbb', { role: 'admin', created_at: '2030-01-02T00:00:00.000Z' });
        await store.apiKeys.create(b);
        await store.apiKeys.create(a);
        expect(await store.apiKeys.get(a.id)).toEqual(a);
        expect(await store.apiKeys.get('key_cccccccccccccccc')).toBeNull();
        expect((await store.apiKeys.list()).map((k) => k.id)).toEqual([a.id, b.id]);
        await expectCode(store.apiKeys.create(a), 'duplicate_id');
      });

      it('revokes once (the first time stays) and records uses', async () => {
        const a = key('key_aaaaaaaaaaaaaaaa');
        await store.apiKeys.create(a);
        await store.apiKeys.touch(a.id, '2030-02-01T00:00:00.000Z');
        expect((await store.apiKeys.revoke(a.id, '2030-03-01T00:00:00.000Z'))!.revoked_at).toBe('2030-03-01T00:00:00.000Z');
        const again = await store.apiKeys.revoke(a.id, '2030-04-01T00:00:00.000Z');
        expect(again).toMatchObject({ revoked_at: '2030-03-01T00:00:00.000Z', last_used_at: '2030-02-01T00:00:00.000Z' });
        expect(await store.apiKeys.revoke('key_cccccccccccccccc', '2030-04-01T00:00:00.000Z')).toBeNull();
      });
    });

    describe('web sessions', () => {
      const session = (id: string, overrides: Partial<StoredWebSession> = {}): StoredWebSession => ({
        id_sha256: id.repeat(64).slice(0, 64),
        actor: 'oidc:idp.example.com:ada',
        name: 'Ada',
        role: 'researcher',
        project: 'alpha',
        method: 'oidc',
        created_at: '2030-01-01T00:00:00.000Z',
        expires_at: '2030-01-01T12:00:00.000Z',
        revoked_at: null,
        ...overrides,
      });

      it('stores and reads a session exactly as given, revokes it once, and purges ended ones', async () => {
        const a = session('a');
        const b = session('b', { method: 'key', actor: 'key_bbbbbbbbbbbbbbbb', expires_at: '2030-01-03T00:00:00.000Z' });
        await store.webSessions.create(a);
        await store.webSessions.create(b);
        expect(await store.webSessions.get(a.id_sha256)).toEqual(a);
        expect(await store.webSessions.get('c'.repeat(64))).toBeNull();
        expect(await store.webSessions.revoke(b.id_sha256, '2030-01-01T01:00:00.000Z')).toBe(true);
        expect(await store.webSessions.revoke(b.id_sha256, '2030-01-01T02:00:00.000Z')).toBe(true);
        expect((await store.webSessions.get(b.id_sha256))!.revoked_at).toBe('2030-01-01T01:00:00.000Z');
        expect(await store.webSessions.revoke('c'.repeat(64), '2030-01-01T02:00:00.000Z')).toBe(false);
        // Before a's expiry and b's revocation: nothing; after both: both.
        expect(await store.webSessions.deleteEnded('2030-01-01T00:30:00.000Z')).toBe(0);
        expect(await store.webSessions.deleteEnded('2030-01-02T00:00:00.000Z')).toBe(2);
        expect(await store.webSessions.get(a.id_sha256)).toBeNull();
      });
    });
  });
}

function doneData(status: EvaluationStatus) {
  return {
    status,
    exit_code: 0,
    signal: null,
    reason: null,
    message: null,
    stdout_truncated: false,
    stderr_truncated: false,
    metrics: { wall_ms: 1, cpu_ms: 1, peak_memory_bytes: 1 },
  };
}

async function allText(pieces: AsyncIterable<string> | Iterable<string>): Promise<string> {
  let text = '';
  for await (const piece of pieces) text += piece;
  return text;
}

async function allBytes(pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const piece of pieces) parts.push(piece);
  return Buffer.concat(parts);
}

/**
 * Two stores on one database, as two API processes of a deployment (or the CLI beside a server):
 * what one writes, the other's listings show at once, although each keeps the summaries it read.
 * `open` makes a store on the shared database; both are initialised here and closed after.
 */
export async function expectListingsFollowAnotherWriter(open: () => Storage): Promise<void> {
  const [reader, writer] = [open(), open()];
  try {
    await reader.init();
    await writer.init();
    await listingsFollowAnotherWriter(reader, writer);
  } finally {
    await Promise.all([reader.close(), writer.close()]);
  }
}

async function listingsFollowAnotherWriter(reader: Storage, writer: Storage): Promise<void> {
  const tag = `shared-${Date.now()}`;
  const batch = Array.from({ length: 4 }, () => newEvaluation({ tags: [tag] }));
  await writer.evaluations.create(batch);
  const [running, output, finished, cancelled] = batch.map((e) => e.id) as [string, string, string, string];
  const expectCurrent = async () => {
    const page = await reader.evaluations.list({ limit: 10, tags: [tag] });
    expect(page.items.map((i) => i.id).sort()).toEqual(batch.map((e) => e.id).sort());
    for (const item of page.items) expect(item).toEqual(await writer.evaluations.getSummary(item.id));
    return new Map(page.items.map((i) => [i.id, i]));
  };
  expect([...(await expectCurrent()).values()].every((i) => i.status === 'queued')).toBe(true);
  for (const id of [running, output, finished]) {
    await writer.evaluations.transition(id, 'provisioning', { worker: 'w2', increment_attempts: true }, { expectFrom: ['queued'] });
    await writer.evaluations.transition(id, 'running', { started_at: new Date().toISOString() }, { expectWorker: 'w2' });
  }
  await writer.evaluations.transition(cancelled, 'cancelled', { finished_at: new Date().toISOString(), reason: 'cancelled' }, { expectFrom: ['queued'] });
  let seen = await expectCurrent();
  expect(seen.get(running)).toMatchObject({ status: 'running', worker: 'w2', attempts: 1 });
  expect(seen.get(cancelled)).toMatchObject({ status: 'cancelled' });
  await writer.events.append(output, [{ type: 'stdout', at: new Date().toISOString(), data: { text: 'hello\n' } }]);
  await writer.evaluations.transition(finished, 'completed', { ...doneData('completed'), finished_at: new Date().toISOString() }, { expectFrom: ['running'] });
  seen = await expectCurrent();
  expect(seen.get(finished)).toMatchObject({ status: 'completed', exit_code: 0 });
  expect(seen.get(output)).toMatchObject({ status: 'running' });
}

/** A store whose schema an older version left at `migrate(…, 11)`, with the handle to write rows as that version did. */
export interface OlderSchema {
  db: Db;
  dialect: StoreDialect;
  store: Storage;
}

/**
 * Outputs of over one piece written whole into their columns (as before migration 12) read back
 * exactly once the store is brought up to date: text with multi-byte characters, and bytes.
 */
export async function expectWholeOutputsMoveToPieces(older: OlderSchema): Promise<void> {
  const { db, dialect, store } = older;
  await migrate(db, dialect, 11);
  const e = newEvaluation();
  await store.evaluations.create([e]);
  const text = ('é€😀' + 'x'.repeat(1009) + '\n').repeat(3 * 1024);
  const raw = Buffer.alloc(2 * 1024 * 1024 + 5, 0xfe);
  raw.write('end', raw.length - 3);
  await db.updateTable('evaluation_payloads').set({ stdout: text, stderr: 'small', stderr_raw: raw }).where('evaluation_id', '=', e.id).execute();
  await store.init();
  const read = await store.evaluations.read(e.id);
  expect(read!.evaluation).toMatchObject({ stdout: '', stderr: '' });
  expect((await allText(read!.pieces!.stdout)) === text).toBe(true);
  expect(await allText(read!.pieces!.stderr)).toBe('small');
  expect(((await store.evaluations.get(e.id))!.stdout as string) === text).toBe(true);
  expect((await allBytes((await store.evaluations.readOutput(e.id, 'stderr'))!.raw!)).equals(raw)).toBe(true);
  // The search looks into the moved pieces too.
  expect((await store.evaluations.list({ limit: 5, q: 'x\né€😀xx' })).items.map((i) => i.id)).toEqual([e.id]);
}
