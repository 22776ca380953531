/**
 * Follows one evaluation's event stream (GET /api/evaluations/{id}/events) into a RunState.
 * Events are applied in batches once per animation frame, so a program flooding output costs one
 * render per frame instead of one per message. The stream is closed after `done` (the server ends
 * it there; letting EventSource reconnect would just replay the history).
 */
import { useEffect, useReducer, useRef, useState } from 'react';
import { EvaluationEvent } from '../../../src/domain/events';
import { client } from './api-client';
import { openResilientEventSource, parseMessage } from './resilient-event-source';
import { initialRunState, runReducer, type RunState } from './run-state';

const EVENT_TYPES = ['status', 'stdout', 'stderr', 'metrics', 'done'] as const;

export interface EvaluationStream {
  state: RunState;
  /** False while the stream is (re)connecting. */
  connected: boolean;
}

export function useEvaluationStream(id: string | null): EvaluationStream {
  const [state, dispatch] = useReducer(runReducer, initialRunState);
  const [connected, setConnected] = useState(false);
  const lastSeq = useRef(-1);

  useEffect(() => {
    dispatch({ type: 'reset' });
    lastSeq.current = -1;
    setConnected(false);
    if (!id) return;

    let pending: EvaluationEvent[] = [];
    let frame: number | null = null;
    const flush = () => {
      frame = null;
      const batch = pending;
      pending = [];
      if (batch.length) dispatch({ type: 'events', events: batch });
    };

    const handle = openResilientEventSource(
      // A fresh EventSource (after an HTTP error) cannot send Last-Event-ID; `after` says the same.
      () => client.eventsUrl(id, lastSeq.current >= 0 ? lastSeq.current : undefined),
      EVENT_TYPES,
      {
        onOpen: () => setConnected(true),
        onDown: () => setConnected(false),
        onEvent(_type, data) {
          const event = parseMessage(EvaluationEvent, data);
          if (!event) return;
          lastSeq.current = Math.max(lastSeq.current, event.seq);
          pending.push(event);
          if (event.type === 'done') {
            handle.close();
            setConnected(true);
            flush();
            return;
          }
          if (frame === null) frame = requestAnimationFrame(flush);
        },
      },
    );
    return () => {
      handle.close();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [id]);

  return { state, connected };
}
