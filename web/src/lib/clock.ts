/**
 * The current time, for text that ages ("6 s ago", a run's elapsed time). Every component that
 * ticks at the same interval shares one timer, and the timer stops when nothing listens: a
 * history page of 50 rows re-renders its time cells once a second, not 50 timers' worth.
 */
import { useCallback, useRef, useSyncExternalStore } from 'react';

interface Ticker {
  now: number;
  listeners: Set<() => void>;
  timer: ReturnType<typeof setInterval> | null;
}

const tickers = new Map<number, Ticker>();

function tickerFor(intervalMs: number): Ticker {
  let t = tickers.get(intervalMs);
  if (!t) {
    t = { now: Date.now(), listeners: new Set(), timer: null };
    tickers.set(intervalMs, t);
  }
  return t;
}

function subscribeTo(t: Ticker, intervalMs: number, listener: () => void): () => void {
  t.listeners.add(listener);
  if (t.timer === null) {
    t.now = Date.now(); // it may have slept: do not show a stale time on the first render
    t.timer = setInterval(() => {
      t.now = Date.now();
      for (const l of t.listeners) l();
    }, intervalMs);
  }
  return () => {
    t.listeners.delete(listener);
    if (t.listeners.size === 0 && t.timer !== null) {
      clearInterval(t.timer);
      t.timer = null;
    }
  };
}

/** Date.now(), refreshed every `intervalMs`; with `null` it stays at the last value (no timer). */
export function useNow(intervalMs: number | null): number {
  const ticker = intervalMs === null ? null : tickerFor(intervalMs);
  const last = useRef(Date.now());
  const subscribe = useCallback(
    (listener: () => void) => (ticker && intervalMs !== null ? subscribeTo(ticker, intervalMs, listener) : () => undefined),
    [ticker, intervalMs],
  );
  const now = useSyncExternalStore(subscribe, () => (ticker ? ticker.now : last.current));
  last.current = now;
  return now;
}
