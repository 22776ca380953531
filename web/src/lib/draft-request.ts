/**
 * The directions between the editor's draft, past evaluations and the API: the request a draft
 * submits (also what the API snippet shows), the draft a past evaluation is forked into, and the
 * request that runs a past evaluation again unchanged (Re-run, the batch view's "re-run failed").
 */
import type { CreateEvaluationInput, Evaluation } from '../../../src/domain/evaluation';
import { LIMIT_NAMES, type Draft, type DraftLimits } from './draft';

/** The body of POST /api/evaluations for this draft. Empty fields are left out (server defaults). */
export function draftToRequest(draft: Draft): CreateEvaluationInput {
  const limits = Object.fromEntries(LIMIT_NAMES.filter((n) => Number.isFinite(draft[n])).map((n) => [n, draft[n]]));
  const metadata = Object.fromEntries(draft.metadata.filter((r) => r.key.trim() !== '').map((r) => [r.key.trim(), r.value]));
  return {
    code: draft.code,
    ...(draft.name.trim() ? { name: draft.name.trim() } : {}),
    ...(draft.stdin ? { stdin: draft.stdin } : {}),
    environment: draft.environment,
    sandbox: draft.sandbox,
    ...limits,
    tags: draft.tags,
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

/** Metadata keys that say where a run came from; a fork or re-run sets its own, never inherits them. */
export const FORKED_FROM_KEY = 'forked_from';
export const RERUN_OF_KEY = 'rerun_of';

function ownMetadata(e: Evaluation): Record<string, unknown> {
  const { [FORKED_FROM_KEY]: _f, [RERUN_OF_KEY]: _r, ...rest } = e.metadata;
  return rest;
}

/** The run a forked or re-run evaluation came from, as its metadata records it. */
export function originOf(e: Pick<Evaluation, 'metadata'>): { kind: 'fork' | 'rerun'; id: string } | null {
  const forked = e.metadata[FORKED_FROM_KEY];
  if (typeof forked === 'string' && forked) return { kind: 'fork', id: forked };
  const rerun = e.metadata[RERUN_OF_KEY];
  if (typeof rerun === 'string' && rerun) return { kind: 'rerun', id: rerun };
  return null;
}

/** The same program with the same settings, tags and metadata, marked as a re-run of `e`. */
export function rerunRequest(e: Evaluation): CreateEvaluationInput {
  return {
    ...(e.code ? { code: e.code } : {}),
    ...(e.files.length ? { files: e.files } : {}),
    ...(e.command ? { command: e.command } : e.entrypoint && e.entrypoint !== 'main.py' ? { entrypoint: e.entrypoint } : {}),
    ...(e.stdin !== null ? { stdin: e.stdin } : {}),
    ...(e.stdin_base64 !== null ? { stdin_base64: e.stdin_base64 } : {}),
    ...(e.name ? { name: e.name } : {}),
    environment: e.environment,
    sandbox: e.sandbox,
    ...e.limits,
    tags: e.tags,
    metadata: { ...ownMetadata(e), [RERUN_OF_KEY]: e.id },
  };
}

/**
 * A past evaluation as a draft: its code and every setting, ready to change and run again. The
 * draft's metadata records the run it was forked from, so the new run links back to it.
 */
export function evaluationToDraft(e: Evaluation): Draft {
  const metadata = { ...ownMetadata(e), [FORKED_FROM_KEY]: e.id };
  return {
    code: e.code,
    stdin: e.stdin ?? '',
    name: e.name ?? '',
    environment: e.environment,
    sandbox: e.sandbox,
    ...(Object.fromEntries(LIMIT_NAMES.map((n) => [n, e.limits[n]])) as DraftLimits),
    tags: e.tags,
    metadata: Object.entries(metadata).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) })),
  };
}
