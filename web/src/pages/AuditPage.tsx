/**
 * The audit log for admins: the chain's verification status, the entries newest page first in
 * log order, filtered by action, actor, project and outcome, with "Load more" on the `after` cursor.
 * A non-admin gets the API's 403 message instead.
 */
import { useCallback, useEffect, useState } from 'react';
import { AUDIT_OUTCOMES, type AuditEntry, type AuditVerification } from '../../../src/domain/audit';
import { api, ApiError } from '../lib/api-client';
import { FilterBar, FilterSelect, FilterText } from '../components/FilterBar';

interface AuditFilters {
  action: string;
  actor: string;
  project: string;
  outcome: string;
}

const NO_FILTERS: AuditFilters = { action: '', actor: '', project: '', outcome: '' };
const PAGE_SIZE = 100;

export function auditQueryString(f: AuditFilters, after: number | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [name, value] of Object.entries(f)) if (value.trim() !== '') params.set(name, value.trim());
  if (after !== null) params.set('after', String(after));
  return `?${params.toString()}`;
}

const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err));

function VerifyStatus({ verdict, error }: { verdict: AuditVerification | null; error: string | null }) {
  if (error)
    return (
      <p className="form-error" role="alert">
        {error}
      </p>
    );
  if (!verdict) return <p className="muted">Verifying the chain…</p>;
  return verdict.ok ? (
    <p className="audit-verdict audit-ok" data-testid="audit-verdict">
      Chain intact: {verdict.entries} entries verified.
    </p>
  ) : (
    <p className="audit-verdict audit-broken form-error" role="alert" data-testid="audit-verdict">
      Chain BROKEN at entry {verdict.first_bad}: {verdict.problem} ({verdict.entries} entries before it verified).
    </p>
  );
}

export function AuditPage() {
  const [draft, setDraft] = useState<AuditFilters>(NO_FILTERS);
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [nextAfter, setNextAfter] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [verdict, setVerdict] = useState<AuditVerification | null>(null);
  const [verifyError, setVerifyError] = useState<string | null>(null);

  const load = useCallback(async (f: AuditFilters, after: number | null) => {
    try {
      const page = await api.audit(auditQueryString(f, after));
      setItems((old) => (after === null ? page.items : [...old, ...page.items]));
      setNextAfter(page.next_after);
      setError(null);
    } catch (err) {
      setError(message(err));
    }
  }, []);

  useEffect(() => {
    void load(filters, null);
  }, [filters, load]);

  const verify = useCallback(() => {
    setVerdict(null);
    setVerifyError(null);
    api.auditVerify().then(setVerdict, (err: unknown) => setVerifyError(message(err)));
  }, []);
  useEffect(verify, [verify]);

  const field = (name: keyof AuditFilters, label: string) => (
    <FilterText id={`audit-${name}`} type="text" label={label} value={draft[name]} onChange={(v) => setDraft({ ...draft, [name]: v })} />
  );

  return (
    <div className="page audit-page">
      <div className="page-head">
        <h1 className="page-title">Audit log</h1>
        <button type="button" className="btn btn-sm" onClick={verify}>
          Verify again
        </button>
      </div>
      <VerifyStatus verdict={verdict} error={verifyError} />
      <FilterBar onSubmit={() => setFilters(draft)}>
        {field('action', 'Action')}
        {field('actor', 'Actor')}
        {field('project', 'Project')}
        <FilterSelect
          id="audit-outcome"
          label="Outcome"
          value={draft.outcome}
          onChange={(outcome) => setDraft({ ...draft, outcome })}
          options={[{ value: '', label: 'any' }, ...AUDIT_OUTCOMES.map((o) => ({ value: o, label: o }))]}
        />
        <button type="submit" className="btn">
          Apply
        </button>
      </FilterBar>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="table-wrap">
        <table className="data-table audit-table" data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Project</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {items.length === 0 && (
              <tr>
                <td colSpan={8} className="empty">
                  No entries.
                </td>
              </tr>
            )}
            {items.map((e) => (
              <tr key={e.seq}>
                <td className="num">{e.seq}</td>
                <td className="small">{new Date(e.at).toLocaleString()}</td>
                <td className="mono small">
                  {e.actor}
                  {e.role ? <span className="muted"> ({e.role})</span> : null}
                </td>
                <td>{e.project ?? '—'}</td>
                <td className="mono small">{e.action}</td>
                <td className="mono small">{e.target ?? '—'}</td>
                <td>{e.outcome}</td>
                <td className="mono small">{e.source ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {nextAfter !== null && (
        <div className="load-more">
          <button type="button" className="btn" onClick={() => void load(filters, nextAfter)}>
            Load more
          </button>
        </div>
      )}
    </div>
  );
}
