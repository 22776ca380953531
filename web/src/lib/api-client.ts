/**
 * The web UI's API calls: the Crucible SDK (src/client) pointed at this page's origin. Its fetch
 * reports reachability to the connection banner. Types come from the same zod schemas the server
 * validates with, so a contract change breaks the UI build instead of the UI at runtime.
 */
import {
  ApiError,
  CrucibleClient,
  type EvaluationList,
  type ExecInput,
  type ListFilters,
  type SessionInfo,
  type SessionStatus,
} from '../../../src/client/index';
import type { AuthConfig, SignedOut, WhoAmI } from '../../../src/domain/web-session';
import { reportNetworkFailure, reportNetworkSuccess } from './connection';
import { withCsrfToken } from './csrf';

export { ApiError, type ListFilters };
export type { ApiIssue } from '../../../src/client/index';

async function observedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  try {
    const res = await fetch(input, withCsrfToken(init));
    reportNetworkSuccess();
    return res;
  } catch (err) {
    if (!init?.signal?.aborted) reportNetworkFailure();
    throw err;
  }
}

/** Same-origin client; the browser's session cookie (if any) goes along like any fetch, and every change carries the CSRF token. */
export const client = new CrucibleClient('', { fetch: observedFetch });

const opt = (signal?: AbortSignal) => (signal ? { signal } : {});

export type EvaluationPage = EvaluationList;

export const api = {
  config: () => client.config(),
  environments: () => client.environments(),
  create: (body: Parameters<CrucibleClient['submit']>[0]) => client.submit(body),
  get: (id: string, signal?: AbortSignal) => client.get(id, opt(signal)),
  list: (f: ListFilters, signal?: AbortSignal) => client.list(f, opt(signal)),
  listAll: (f: Omit<ListFilters, 'cursor'>) => client.listAll(f),
  summary: (f: Omit<ListFilters, 'cursor' | 'limit'>, signal?: AbortSignal) => client.summary(f, opt(signal)),
  batch: (bodies: Parameters<CrucibleClient['batch']>[0]) => client.batch(bodies),
  cancel: (id: string) => client.cancel(id),
  syntaxCheck: (code: string, signal?: AbortSignal) => client.syntaxCheck(code, opt(signal)),
  queue: () => client.queue(),
  workers: () => client.workers(),
  stats: (minutes: number, bucketS: number) => client.stats(minutes, bucketS),
  artifacts: (id: string, signal?: AbortSignal) => client.artifactList(id, opt(signal)),
  audit: (query: string) => client.audit(query),
  auditVerify: () => client.auditVerify(),
  authConfig: () => client.json<AuthConfig>('GET', '/api/auth/config'),
  me: () => client.json<WhoAmI>('GET', '/api/auth/me'),
  keySignIn: (key: string) => client.json<WhoAmI>('POST', '/api/auth/key-sign-in', { key }),
  signOut: () => client.json<SignedOut>('POST', '/api/auth/sign-out'),
  sessions: (status: SessionStatus | undefined, limit: number, signal?: AbortSignal) =>
    client.listSessions({ ...opt(signal), limit, ...(status ? { status } : {}) }),
  session: (id: string, signal?: AbortSignal) => client.getSession(id, opt(signal)),
  sessionExec: (session: SessionInfo, input: ExecInput) => client.session(session).exec(input),
  endSession: (session: SessionInfo) => client.session(session).end(),
};

/** Where one artifact's bytes are served (for links and inline images). */
export const artifactUrl = (id: string, path: string) => CrucibleClient.artifactPath(id, path);
