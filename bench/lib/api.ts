/**
 * The benchmarks' view of the HTTP API: batch submission, waiting for many evaluations through the
 * global status feed (one SSE connection instead of one per evaluation), and reading verdicts by tag.
 */
import type { CreateEvaluationInput, EvaluationStatus, EvaluationSummary } from '../../src/domain/evaluation.js';
import { isTerminal } from '../../src/domain/evaluation.js';
import { CrucibleClient, parseSse } from '../../src/client/index.js';
import { api } from '../../test/helpers/server.js';

export async function submitBatch(url: string, evaluations: CreateEvaluationInput[]): Promise<string[]> {
  const res = await api<{ ids: string[] }>(url, 'POST', '/api/evaluations/batch', { evaluations });
  if (res.status !== 202) throw new Error(`batch submit: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body.ids;
}

/**
 * Subscribes to GET /api/events and resolves once every id in `ids()` reached a terminal status
 * (ids may be added after subscribing, e.g. once a batch returns). Resolves with the time (from
 * performance.now()) the last one ended.
 */
export async function feedWatcher(url: string, timeoutMs: number): Promise<{ expect(ids: string[]): void; done: Promise<number>; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/events`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  if (!res.ok || !res.body) throw new Error(`GET /api/events: HTTP ${res.status}`);
  const ended = new Set<string>();
  const expected = new Set<string>();
  let expecting = false;
  let resolveDone: (t: number) => void = () => undefined;
  let rejectDone: (e: Error) => void = () => undefined;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const check = () => {
    if (expecting && [...expected].every((id) => ended.has(id))) resolveDone(performance.now());
  };
  const timer = setTimeout(
    () => rejectDone(new Error(`not all evaluations ended within ${timeoutMs} ms (${[...expected].filter((id) => !ended.has(id)).length} left)`)),
    timeoutMs,
  );
  void (async () => {
    try {
      for await (const m of parseSse(res.body!)) {
        if (m.event === 'ready') resolveReady();
        if (m.event !== 'status') continue;
        const change = JSON.parse(m.data) as { id: string; status: EvaluationStatus };
        if (isTerminal(change.status)) {
          ended.add(change.id);
          check();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  // The server subscribes before it sends `ready`: from then on no status change can be missed.
  await ready;
  return {
    expect(ids) {
      for (const id of ids) expected.add(id);
      expecting = true;
      check();
    },
    done: done.finally(() => clearTimeout(timer)),
    close: () => abort.abort(),
  };
}

/** Every evaluation carrying `tag` (summaries: status, reason, exit code, metrics). */
export async function listByTag(url: string, tag: string): Promise<EvaluationSummary[]> {
  const all: EvaluationSummary[] = [];
  for await (const summary of new CrucibleClient(url).listAll({ tags: tag, limit: 200 })) all.push(summary);
  return all;
}
