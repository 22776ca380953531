/**
 * Whether the browser can currently reach the server. Fed by failed/succeeded fetches and by the
 * global event stream; while offline it polls /healthz (gently) so the banner clears by itself
 * as soon as the server is back, even if the user does nothing.
 */
import { useSyncExternalStore } from 'react';

export type ConnectionState = 'online' | 'offline';

const HEALTH_POLL_MS = 3000;

let state: ConnectionState = 'online';
const listeners = new Set<() => void>();
let pollTimer: ReturnType<typeof setTimeout> | null = null;

function set(next: ConnectionState): void {
  if (state === next) return;
  state = next;
  for (const l of listeners) l();
  if (next === 'offline') schedulePoll();
}

function schedulePoll(): void {
  if (pollTimer !== null) return;
  pollTimer = setTimeout(async () => {
    pollTimer = null;
    if (state === 'online') return;
    try {
      const res = await fetch('/healthz', { cache: 'no-store' });
      // Any HTTP answer means the server is reachable; degraded health is the dashboard's business.
      if (res.status < 500 || res.status === 503) set('online');
      else schedulePoll();
    } catch {
      schedulePoll();
    }
  }, HEALTH_POLL_MS);
}

export function reportNetworkFailure(): void {
  set('offline');
}

export function reportNetworkSuccess(): void {
  set('online');
}

export function getConnectionState(): ConnectionState {
  return state;
}

export function subscribeConnection(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(subscribeConnection, getConnectionState, getConnectionState);
}
