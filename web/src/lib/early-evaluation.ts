/**
 * A shared evaluation link (/evaluations/<id>) is often a user's first page, on a phone. Its
 * index.html asks for the evaluation at once (inline script), in parallel with the bundle, and
 * the app waits briefly for that answer before its first render: on a slow device the data is
 * there long before the bundle has run, so the very first render shows the verdict, with no
 * "Loading…" render and no second request in between.
 */
import type { Evaluation } from '../../../src/domain/evaluation';

/** What the inline script in index.html leaves on window. */
interface EarlyRequest {
  path: string;
  response: Promise<Response>;
}

const primed = new Map<string, Evaluation>();

/** Waits up to `maxWaitMs` for the early answer and keeps it for useEvaluation. */
export async function primeEarlyEvaluation(maxWaitMs: number): Promise<void> {
  const w = window as { __crucibleEarly?: EarlyRequest };
  const early = w.__crucibleEarly;
  if (!early) return;
  delete w.__crucibleEarly;
  const parsed = early.response
    .then(async (res) => {
      if (!res.ok) return; // useEvaluation asks again and reports the error properly
      const e = (await res.json()) as Evaluation;
      primed.set(e.id, e);
    })
    .catch(() => undefined);
  await Promise.race([parsed, new Promise((r) => setTimeout(r, maxWaitMs))]);
}

/** The primed evaluation with this id, once (later mounts fetch a fresh copy). */
export function takePrimedEvaluation(id: string | null): Evaluation | null {
  if (id === null) return null;
  const e = primed.get(id) ?? null;
  primed.delete(id);
  return e;
}
