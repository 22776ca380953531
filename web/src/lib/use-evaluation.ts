/** Loads one evaluation (GET /api/evaluations/{id}); `reload` refetches it, e.g. after `done`. */
import { useCallback, useEffect, useState } from 'react';
import type { Evaluation } from '../../../src/domain/evaluation';
import { api, ApiError } from './api-client';
import { takePrimedEvaluation } from './early-evaluation';

export interface EvaluationResource {
  evaluation: Evaluation | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
  /** Replace the local copy (e.g. with the response of a cancel). */
  set: (e: Evaluation) => void;
}

export function useEvaluation(id: string | null, initial: Evaluation | null = null): EvaluationResource {
  // Fetched by index.html before the app ran (a shared link): no need to ask again.
  const [primed] = useState(() => takePrimedEvaluation(id));
  const [evaluation, setEvaluation] = useState<Evaluation | null>(primed ?? (initial && initial.id === id ? initial : null));
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    if (!id) {
      setEvaluation(null);
      return;
    }
    if (nonce === 0 && primed?.id === id) return;
    const ctrl = new AbortController();
    setLoading(true);
    api.get(id, ctrl.signal).then(
      (e) => {
        setEvaluation(e);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(err instanceof ApiError ? err : new ApiError(0, 'error', String(err)));
        setLoading(false);
      },
    );
    return () => ctrl.abort();
  }, [id, nonce, primed?.id]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { evaluation: evaluation && evaluation.id === id ? evaluation : null, error, loading, reload, set: setEvaluation };
}
