/**
 * How the API reaches the process holding a session (its host: a worker, or the embedded server)
 * and how a host makes its sessions reachable. In process for the embedded mode; Redis
 * request/reply for scale-out, where a session lives on one worker and any API instance relays
 * to it. The link only carries requests: placement, access control and records are the use
 * cases' business.
 *
 * A host that cannot be reached (stopped, killed, cut off) fails the request with the
 * `session_unavailable` CrucibleError within a bound, never hangs; errors the host raises
 * (`session_busy`, `file_not_found`...) arrive as the same CrucibleError.
 */
import type { ExecRequest, ExecResult, FileWritten, Session, SessionEndReason } from '../domain/session.js';

export interface FileRead {
  content: Buffer;
  size: number;
  sha256: string;
}

/** Output of a running exec as it comes (for the streaming form). */
export type OutputListener = (stream: 'stdout' | 'stderr', bytes: Buffer) => void;

/** What a host does with the sessions it holds: the far end of a link. */
export interface SessionHostOps {
  /** Starts the sandbox of a session stored as `starting` on this host; resolves once it is ready or ended. */
  start(session: Session): Promise<void>;
  exec(id: string, request: ExecRequest, onOutput?: OutputListener): Promise<ExecResult>;
  writeFile(id: string, path: string, content: Buffer): Promise<FileWritten>;
  /** `maxBytes`: a file larger than this (or than the host's bound) is refused with file_too_large. */
  readFile(id: string, path: string, maxBytes?: number): Promise<FileRead>;
  end(id: string, reason: SessionEndReason, message: string): Promise<void>;
}

export interface ServedHost {
  /** Stops taking requests (those in progress still answer). */
  close(): Promise<void>;
}

export interface SessionLink {
  start(host: string, session: Session): Promise<void>;
  exec(host: string, id: string, request: ExecRequest, onOutput?: OutputListener): Promise<ExecResult>;
  writeFile(host: string, id: string, path: string, content: Buffer): Promise<FileWritten>;
  readFile(host: string, id: string, path: string, maxBytes?: number): Promise<FileRead>;
  end(host: string, id: string, reason: SessionEndReason, message: string): Promise<void>;
  /** Makes `ops` reachable as host `hostId`; resolves once requests can arrive. */
  serve(hostId: string, ops: SessionHostOps): Promise<ServedHost>;
  close(): Promise<void>;
}
