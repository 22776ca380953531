import { useConnectionState } from '../lib/connection';

/** Shown while the server is unreachable; it disappears by itself once a stream or health check succeeds. */
export function ConnectionBanner() {
  const state = useConnectionState();
  if (state === 'online') return null;
  return (
    <div className="banner banner-offline" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      Connection to the Crucible server lost — reconnecting… Live updates resume automatically.
    </div>
  );
}
