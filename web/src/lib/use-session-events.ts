/**
 * Follows one session's event stream (GET /api/sessions/{id}/events): everything it did, in
 * order, live. A dropped connection resumes after the last event seen (Last-Event-ID, or `after`
 * for a fresh EventSource); the stream is closed once the session's `ended` status arrives, since
 * the server ends it there and a browser would otherwise reconnect forever.
 */
import { useEffect, useRef, useState } from 'react';
import { SessionEvent, SessionStatusEventData } from '../../../src/domain/session';
import { client } from './api-client';
import { openResilientEventSource, parseMessage } from './resilient-event-source';
import { mergeEvents } from './session-view';

const EVENT_TYPES = ['status', 'exec', 'file_write', 'file_read'] as const;

export interface SessionEventStream {
  events: SessionEvent[];
  /** False while the stream is (re)connecting; true once it is open, and after the session ended. */
  connected: boolean;
  /** The `ended` event has arrived: nothing more will come. */
  ended: boolean;
}

/**
 * `sessionEnded`: the session's record says it ended. Its stream then replays the log and closes;
 * a log without an `ended` event (a session swept at a restart) must not make us reconnect forever.
 */
export function useSessionEvents(id: string, sessionEnded: boolean): SessionEventStream {
  const [events, setEvents] = useState<SessionEvent[]>([]);
  const [connected, setConnected] = useState(false);
  const [ended, setEnded] = useState(false);
  const lastSeq = useRef(-1);
  const endedRef = useRef(sessionEnded);
  endedRef.current = sessionEnded;

  useEffect(() => {
    setEvents([]);
    setConnected(false);
    setEnded(false);
    lastSeq.current = -1;

    const finish = () => {
      handle.close();
      setConnected(true);
      setEnded(true);
    };
    const handle = openResilientEventSource(() => client.sessionEventsUrl(id, lastSeq.current >= 0 ? lastSeq.current : undefined), EVENT_TYPES, {
      onOpen: () => setConnected(true),
      onDown: () => (endedRef.current ? finish() : setConnected(false)),
      onEvent(_type, data) {
        const event = parseMessage(SessionEvent, data);
        if (!event) return;
        lastSeq.current = Math.max(lastSeq.current, event.seq);
        setEvents((cur) => mergeEvents(cur, [event]));
        if (event.type === 'status' && SessionStatusEventData.safeParse(event.data).data?.status === 'ended') finish();
      },
    });
    return () => handle.close();
  }, [id]);

  return { events, connected, ended };
}
