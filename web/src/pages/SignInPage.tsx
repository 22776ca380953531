/**
 * Shown instead of every page while auth is required and this browser has no session: sign in
 * with the configured OpenID Connect provider, or with an API key (exchanged for a session
 * cookie; the key is not kept by the browser).
 */
import { useState, type FormEvent } from 'react';
import type { AuthConfig } from '../../../src/domain/web-session';

export function SignInPage({ config, error, onKey }: { config: AuthConfig | null; error: string | null; onKey: (key: string) => Promise<void> }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (key.trim() === '') return;
    setBusy(true);
    try {
      await onKey(key.trim());
    } finally {
      setBusy(false);
      setKey('');
    }
  };

  return (
    <div className="page sign-in">
      <h1 className="page-title">Sign in to Crucible</h1>
      <p className="muted">This server requires you to sign in.</p>
      {error && (
        <p className="form-error" role="alert" data-testid="sign-in-error">
          {error}
        </p>
      )}
      {config?.oidc && (
        <p>
          <a className="btn btn-primary" href={config.oidc.login_url}>
            Sign in with {config.oidc.name}
          </a>
        </p>
      )}
      <form className="sign-in-key" onSubmit={submit}>
        <label htmlFor="sign-in-key">API key</label>
        <input
          id="sign-in-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="crk_…"
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <button type="submit" className="btn" disabled={busy || key.trim() === ''}>
          Sign in with API key
        </button>
      </form>
      <p className="muted small">
        The key is exchanged for a session cookie; the browser does not keep it. An admin creates keys with <code>crucible keys create</code>.
      </p>
    </div>
  );
}
