/**
 * The sessions API's types as the SDK names them: the server's own zod schemas (src/domain), so a
 * contract change breaks the SDK's build, not its callers at run time. `SessionEvent` here is one
 * message of the session's event stream as it arrives (its SSE event name, id and JSON data).
 */
export type {
  CreateSessionInput,
  ExecInput,
  ExecResult,
  Session as SessionInfo,
  SessionList,
  SessionStatus,
  SessionEvent as SessionRecord,
} from '../domain/session.js';

/** One event of GET /api/sessions/{id}/events: its SSE event name, id and JSON data. */
export interface SessionEvent {
  type: string;
  id: string | undefined;
  data: unknown;
}
