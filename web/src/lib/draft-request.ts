/**
 * The two directions between the editor's draft and the API: the request a draft submits (also
 * what the API snippet shows), and the draft a past evaluation is forked into.
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

/** A past evaluation as a draft: its code and every setting, ready to change and run again. */
export function evaluationToDraft(e: Evaluation): Draft {
  return {
    code: e.code,
    stdin: e.stdin ?? '',
    name: e.name ?? '',
    environment: e.environment,
    sandbox: e.sandbox,
    ...(Object.fromEntries(LIMIT_NAMES.map((n) => [n, e.limits[n]])) as DraftLimits),
    tags: e.tags,
    metadata: Object.entries(e.metadata).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) })),
  };
}
