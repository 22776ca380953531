/**
 * The editor's run settings: name, environment, sandbox (with what each one is), every limit the
 * API accepts with the server's ranges, tags, metadata and stdin. Errors from the server are shown
 * next to the field they are about.
 */
import type { ConfigResponse } from '../../../src/domain/system-views';
import { LIMIT_NAMES, type Draft } from '../lib/draft';
import type { FormErrors } from '../lib/field-errors';
import { EnvironmentInfo, useEnvironments } from './EnvironmentInfo';
import { LimitField } from './LimitField';
import { MetadataRows } from './MetadataRows';
import { TagInput } from './TagInput';

export const FORM_FIELDS = ['code', 'name', 'stdin', 'environment', 'sandbox', ...LIMIT_NAMES, 'tags', 'metadata'] as const;
export type FormField = (typeof FORM_FIELDS)[number];

/** One line on what each sandbox is, so the choice is an informed one. */
export const SANDBOX_SUMMARIES: Record<string, string> = {
  bubblewrap: 'Linux namespaces, seccomp and cgroups around the program: fast to start (the default).',
  gvisor: 'A user-space kernel (gVisor) between the program and the host: stronger isolation, slower start.',
};

interface Props {
  draft: Draft;
  update: <K extends keyof Draft>(key: K, value: Draft[K]) => void;
  errors: FormErrors<FormField>;
  config: ConfigResponse;
}

export function RunSettings({ draft, update, errors, config }: Props) {
  const nameMax = config.request_bounds.name_length;
  const environments = useEnvironments();
  return (
    <form className="settings" onSubmit={(e) => e.preventDefault()} aria-label="Run settings">
      <div className="field field-full">
        <label htmlFor="f-name">Name</label>
        <input
          id="f-name"
          value={draft.name}
          maxLength={nameMax}
          onChange={(e) => update('name', e.target.value)}
          placeholder="Optional, shown in History (else the first line of code)"
          aria-invalid={errors.fields.name ? true : undefined}
          aria-describedby={errors.fields.name ? 'f-name-error' : undefined}
        />
        <FieldError id="f-name" message={errors.fields.name} />
      </div>
      <div className="field">
        <label htmlFor="f-environment">Environment</label>
        <select id="f-environment" value={draft.environment} onChange={(e) => update('environment', e.target.value as Draft['environment'])}>
          {config.environments.map((env) => {
            const view = environments.find((e) => e.name === env);
            const notServed = view && view.status !== 'ready' && view.workers.length === 0;
            return (
              <option key={env} value={env}>
                {view ? `${env} (Python ${view.python_version}${notServed ? ', not built' : ''})` : env}
              </option>
            );
          })}
        </select>
        <EnvironmentInfo environment={environments.find((e) => e.name === draft.environment)} />
        <FieldError id="f-environment" message={errors.fields.environment} />
      </div>
      <div className="field field-sandbox">
        <label htmlFor="f-sandbox">Sandbox</label>
        <select
          id="f-sandbox"
          value={draft.sandbox}
          onChange={(e) => update('sandbox', e.target.value as Draft['sandbox'])}
          aria-invalid={errors.fields.sandbox ? true : undefined}
          aria-describedby={errors.fields.sandbox ? 'f-sandbox-error' : 'f-sandbox-hint'}
        >
          {config.sandboxes.map((s) => (
            <option key={s.name} value={s.name} disabled={!s.available} title={s.detail}>
              {s.name}
              {s.available ? '' : ' (unavailable)'}
            </option>
          ))}
        </select>
        <ul className="field-hint sandbox-hints" id="f-sandbox-hint" data-testid="sandbox-hints">
          {config.sandboxes.map((s) => (
            <li key={s.name} className={s.name === draft.sandbox ? 'current' : undefined}>
              <strong>{s.name}</strong>: {SANDBOX_SUMMARIES[s.name] ?? s.detail}
            </li>
          ))}
        </ul>
        <FieldError id="f-sandbox" message={errors.fields.sandbox} />
      </div>
      {LIMIT_NAMES.map((n) => (
        <LimitField key={n} name={n} bound={config.limits[n]} value={draft[n]} onChange={(v) => update(n, v)} error={errors.fields[n]} />
      ))}
      <div className="field field-wide">
        <TagInput id="f-tags" label="Tags" tags={draft.tags} onChange={(t) => update('tags', t)} error={errors.fields.tags} />
      </div>
      <div className="field-full">
        <MetadataRows rows={draft.metadata} onChange={(rows) => update('metadata', rows)} error={errors.fields.metadata} />
      </div>
      <div className="field field-full">
        <label htmlFor="f-stdin">stdin</label>
        <textarea
          id="f-stdin"
          rows={2}
          value={draft.stdin}
          onChange={(e) => update('stdin', e.target.value)}
          placeholder="Text fed to the program on standard input (optional)"
          spellCheck={false}
          aria-invalid={errors.fields.stdin ? true : undefined}
          aria-describedby={errors.fields.stdin ? 'f-stdin-error' : undefined}
        />
        <FieldError id="f-stdin" message={errors.fields.stdin} />
      </div>
    </form>
  );
}

export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p className="field-error" id={`${id}-error`} role="alert">
      {message}
    </p>
  );
}
