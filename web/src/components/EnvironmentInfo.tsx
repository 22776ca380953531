/**
 * What the chosen environment offers: its Python version and whether this server can run it
 * (with how to build it when not), and its packages, searchable. From GET /api/environments,
 * loaded once per page.
 */
import { useEffect, useId, useMemo, useState } from 'react';
import type { EnvironmentView } from '../../../src/domain/environments';
import { api } from '../lib/api-client';

let loading: Promise<EnvironmentView[]> | null = null;

function loadEnvironments(): Promise<EnvironmentView[]> {
  loading ??= api.environments().then(
    (list) => list.items,
    () => {
      loading = null; // try again on the next mount
      return [];
    },
  );
  return loading;
}

/** Every environment as the server describes it (empty until loaded, or if it cannot be). */
export function useEnvironments(): EnvironmentView[] {
  const [items, setItems] = useState<EnvironmentView[]>([]);
  useEffect(() => {
    let live = true;
    void loadEnvironments().then((list) => live && setItems(list));
    return () => {
      live = false;
    };
  }, []);
  return items;
}

const SHOWN_PACKAGES = 200;

export function EnvironmentInfo({ environment }: { environment: EnvironmentView | undefined }) {
  const [query, setQuery] = useState('');
  const searchId = useId();
  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    return (environment?.packages ?? []).filter((p) => !q || p.name.includes(q));
  }, [environment, query]);
  if (!environment) return null;
  const served = environment.status === 'ready' || environment.workers.length > 0;
  return (
    <div className="field-hint environment-info" data-testid="environment-info">
      <p>
        Python {environment.python_version} · Debian {environment.suite}
        {environment.default_limits.memory_mb !== 512 && ` · ${environment.default_limits.memory_mb} MiB by default`}
      </p>
      {!served && (
        <p role="note" className="environment-not-built">
          Not built on this server{environment.error ? ` (${environment.error})` : ''}. Runs are refused until it is: build it on a worker host with{' '}
          <code>{environment.build_command}</code>
          {environment.status === 'building' && ' (a build is running now)'}.
        </p>
      )}
      <details>
        <summary>{environment.packages.length} Debian packages</summary>
        <label htmlFor={searchId}>Search packages</label>
        <input id={searchId} type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="e.g. pandas" />
        <p aria-live="polite" className="muted">
          {matches.length} match{matches.length === 1 ? '' : 'es'}
          {matches.length > SHOWN_PACKAGES && `, first ${SHOWN_PACKAGES} shown`}
        </p>
        <ul className="environment-packages">
          {matches.slice(0, SHOWN_PACKAGES).map((p) => (
            <li key={p.name}>
              {p.name} <span className="muted">{p.version}</span>
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
