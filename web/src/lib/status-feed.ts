/**
 * One shared connection to GET /api/events (every evaluation's status changes) for the whole
 * page: history, dashboard and the connection banner all listen to it, so the browser holds a
 * single long-lived stream however many views are mounted.
 */
import { useEffect, useRef } from 'react';
import { StatusChange } from '../../../src/domain/events';
import { client } from './api-client';
import { reportNetworkFailure, reportNetworkSuccess } from './connection';
import { openResilientEventSource, parseMessage, type StreamHandle } from './resilient-event-source';

type Listener = (change: StatusChange) => void;

/** A reconnect that succeeds within this time is not worth a banner. */
const DOWN_GRACE_MS = 1500;

const listeners = new Set<Listener>();
const reconnectListeners = new Set<() => void>();
let handle: StreamHandle | null = null;
let downTimer: ReturnType<typeof setTimeout> | null = null;
let wasDown = false;

function start(): void {
  if (handle) return;
  handle = openResilientEventSource(() => client.statusFeedUrl(), ['status'], {
    onOpen() {
      if (downTimer !== null) clearTimeout(downTimer);
      downTimer = null;
      reportNetworkSuccess();
      // Changes made while we were away were missed: let views refresh once.
      if (wasDown) for (const l of reconnectListeners) l();
      wasDown = false;
    },
    onDown() {
      wasDown = true;
      if (downTimer === null) downTimer = setTimeout(reportNetworkFailure, DOWN_GRACE_MS);
    },
    onEvent(_type, data) {
      const change = parseMessage(StatusChange, data);
      if (change) for (const l of listeners) l(change);
    },
  });
}

export function subscribeStatusFeed(listener: Listener, onReconnect?: () => void): () => void {
  start();
  listeners.add(listener);
  if (onReconnect) reconnectListeners.add(onReconnect);
  return () => {
    listeners.delete(listener);
    if (onReconnect) reconnectListeners.delete(onReconnect);
  };
}

/** Calls `listener` for every status change while mounted (the latest closure, no resubscribing). */
export function useStatusFeed(listener: Listener, onReconnect?: () => void): void {
  const l = useRef(listener);
  const r = useRef(onReconnect);
  l.current = listener;
  r.current = onReconnect;
  useEffect(
    () =>
      subscribeStatusFeed(
        (c) => l.current(c),
        () => r.current?.(),
      ),
    [],
  );
}
