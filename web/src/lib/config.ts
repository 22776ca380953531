/**
 * Server configuration (limit bounds, environments, sandbox availability, exit code guide) from
 * GET /api/config, loaded once per page. Until it arrives, or if it fails, the UI uses the same
 * values compiled in from the shared domain modules, so forms work immediately.
 */
import { useEffect, useState } from 'react';
import type { ConfigResponse } from '../../../src/domain/system-views';
import { ENVIRONMENTS, SANDBOX_BACKENDS } from '../../../src/domain/evaluation';
import { EXIT_CODE_GUIDE } from '../../../src/domain/exit-interpretation';
import { LIMIT_BOUNDS, REQUEST_BOUNDS } from '../../../src/domain/limits';
import { api } from './api-client';

export const fallbackConfig: ConfigResponse = {
  limits: { ...LIMIT_BOUNDS },
  environments: [...ENVIRONMENTS],
  sandboxes: SANDBOX_BACKENDS.map((name) => ({ name, available: true, detail: '' })),
  exit_code_guide: [...EXIT_CODE_GUIDE],
  request_bounds: { ...REQUEST_BOUNDS },
};

let loading: Promise<ConfigResponse> | null = null;
let loaded: ConfigResponse | null = null;

function load(): Promise<ConfigResponse> {
  loading ??= api.config().then(
    (c) => (loaded = c),
    () => {
      loading = null; // try again on the next mount
      return fallbackConfig;
    },
  );
  return loading;
}

export function useConfig(): ConfigResponse {
  const [config, setConfig] = useState<ConfigResponse>(loaded ?? fallbackConfig);
  useEffect(() => {
    let live = true;
    void load().then((c) => live && setConfig(c));
    return () => {
      live = false;
    };
  }, []);
  return config;
}
