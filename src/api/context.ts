/** What the HTTP edge needs from the rest of the platform: use cases and read-only ports. */
import type { EvaluationService } from '../app/evaluation-service.js';
import type { SyntaxChecker } from '../app/syntax-check.js';
import type { EventBus } from '../events/types.js';
import type { JobQueue } from '../queue/types.js';
import type { SandboxBackends } from '../sandbox/types.js';
import type { EvaluationStore } from '../storage/types.js';
import type { StreamGate } from './stream-gate.js';

export interface ApiContext {
  service: EvaluationService;
  store: EvaluationStore;
  queue: JobQueue;
  bus: EventBus;
  sandboxes: SandboxBackends;
  syntaxChecker: SyntaxChecker;
  livenessWindowMs: number;
  /** Longest a `?wait=true` request is held. */
  maxWaitS: number;
  /** Bounds the event streams held open at once. */
  streams: StreamGate;
  /** Memory kept for large responses not yet read by their clients (see response-budget.ts). */
  maxPendingResponseBytes: number;
  /** Directory with the built web UI (index.html), if it exists. */
  webRoot: string | null;
}
