/**
 * Public entry of the Crucible TypeScript SDK (`sdk/typescript`). Request and response types are
 * the server's own, inferred from the zod schemas in src/domain.
 */
export { CrucibleClient, listQueryString } from './crucible-client.js';
export type { ClientOptions, ListFilters, RequestOptions, StreamOptions, WaitOptions } from './options.js';
export { CrucibleSession } from './session.js';
export { ApiError, type ApiIssue } from './api-error.js';
export { parseSse, type SseMessage } from './sse.js';
export type { CreateSessionInput, ExecInput, ExecResult, SessionEvent, SessionInfo, SessionList, SessionStatus } from './session-types.js';
export type { CreateEvaluationInput, Evaluation, EvaluationList, EvaluationStatus, EvaluationSummary, Metrics, Reason } from '../domain/evaluation.js';
export type { ArtifactInfo as Artifact, ArtifactList, DroppedArtifact } from '../domain/artifacts.js';
export type { EvaluationSetSummary } from '../domain/evaluation-set-summary.js';
export type { EvaluationEvent, StatusChange } from '../domain/events.js';
export type { ConfigResponse, QueueStats, StatsResponse, SyntaxCheckResponse, WorkerView } from '../domain/system-views.js';
