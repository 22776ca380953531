/** What the HTTP edge needs from the rest of the platform: use cases only, and its own HTTP settings. */
import type { AccessControl } from '../app/access.js';
import type { AuditTrail } from '../app/audit.js';
import type { EnvironmentQueries } from '../app/environments.js';
import type { EvaluationService } from '../app/evaluation-service.js';
import type { EventLogReader } from '../app/event-log-reader.js';
import type { QuotaService } from '../app/quotas.js';
import type { StatusFeed } from '../app/status-feed.js';
import type { SyntaxChecker } from '../app/syntax-check.js';
import type { SessionService } from '../app/session-service.js';
import type { SystemQueries } from '../app/system-queries.js';
import type { WebSessions } from '../app/web-sessions.js';
import type { Metrics } from '../ports/metrics.js';
import type { Tracing } from '../ports/tracing.js';
import type { StreamGate } from './stream-gate.js';

export interface ApiContext {
  /** Who is calling (API keys, roles); see src/api/auth.ts for which routes need a key. */
  access: AccessControl;
  /** Browser sign-in (OpenID Connect, API key) and the session cookies it leads to. */
  webSessions: WebSessions;
  /** The URL browsers reach this server at (OIDC redirect URI, Secure cookies); none: taken from each request. */
  publicUrl?: string;
  /** The hash-chained audit log (every mutating request and refused authentication). */
  audit: AuditTrail;
  evaluations: EvaluationService;
  environments: EnvironmentQueries;
  /** Per-project quotas (set by admins, read by the project). */
  quotas: QuotaService;
  events: EventLogReader;
  statusFeed: StatusFeed;
  system: SystemQueries;
  syntaxChecker: SyntaxChecker;
  sessions: SessionService;
  /** Longest a `?wait=true` request is held. */
  maxWaitS: number;
  /** Bounds the event streams held open at once. */
  streams: StreamGate;
  /** Memory kept for large responses not yet read by their clients (see response-budget.ts). */
  maxPendingResponseBytes: number;
  /** Where request counts and latencies go; GET /metrics renders it. */
  metrics: Metrics;
  /** Spans for submissions (the no-op tracer when tracing is off). */
  tracing: Tracing;
  /** Directory with the built web UI (index.html), if it exists. */
  webRoot: string | null;
}
