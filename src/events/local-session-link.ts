/**
 * SessionLink inside one process (embedded mode): the hosts served here are called directly, so
 * bytes and errors pass through untouched. A host that is not (or no longer) served here answers
 * `session_unavailable`, as an unreachable worker does over Redis.
 */
import { unavailable } from '../domain/errors.js';
import type { SessionHostOps, SessionLink } from '../ports/session-link.js';

export function createLocalSessionLink(): SessionLink {
  const hosts = new Map<string, SessionHostOps>();
  const to = (host: string): SessionHostOps => {
    const ops = hosts.get(host);
    if (!ops) throw unavailable('session_unavailable', `the process holding the session (${host}) is not running`);
    return ops;
  };
  return {
    start: async (host, session) => to(host).start(session),
    exec: async (host, id, request, onOutput) => to(host).exec(id, request, onOutput),
    writeFile: async (host, id, path, content) => to(host).writeFile(id, path, content),
    readFile: async (host, id, path, maxBytes) => to(host).readFile(id, path, maxBytes),
    end: async (host, id, reason, message) => to(host).end(id, reason, message),
    async serve(hostId, ops) {
      hosts.set(hostId, ops);
      return {
        async close() {
          if (hosts.get(hostId) === ops) hosts.delete(hostId);
        },
      };
    },
    async close() {
      hosts.clear();
    },
  };
}
