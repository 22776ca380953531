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
  /** Requests to the worker holding sessions (scale-out); replies go to the request's own channel. */
  sessionHost: (workerId: string) => `crucible:session-host:${workerId}`,
  /** Cancel requests for running evaluations (payload: evaluation id); every worker listens. */
  cancel: 'crucible:cancel',
} as const;
