/**
 * Live-event port: fan-out of messages between processes. In memory for the embedded default,
 * Redis pub/sub for scale-out. It carries only notifications: the persisted event log in storage
 * is the record, so a lost message is recovered by reading storage (see src/app/event-log-reader.ts).
 */
export interface Subscription {
  unsubscribe(): Promise<void>;
}

export interface EventBus {
  publish(channel: string, payload: string): Promise<void>;
  subscribe(channel: string, onMessage: (payload: string) => void): Promise<Subscription>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Channel names, in one place so publishers and subscribers cannot drift apart. */
export const channels = {
  /** Events of one evaluation (JSON EvaluationEvent). */
  evaluation: (id: string) => `crucible:evaluation:${id}`,
  /** Status changes of all evaluations (JSON StatusChange). */
  statusFeed: 'crucible:status',
  /** New events of one session (payload: the newest seq). */
  session: (id: string) => `crucible:session:${id}`,
  /** Requests to the worker holding sessions (scale-out); replies go to the requesting link's channel. */
  sessionHost: (workerId: string) => `crucible:session-host:${workerId}`,
  /** Answers to the session requests of one API process's link (scale-out). */
  sessionReply: (linkId: string) => `crucible:session-reply:${linkId}`,
  /** Cancel requests for running evaluations (payload: evaluation id); every worker listens. */
  cancel: 'crucible:cancel',
} as const;
