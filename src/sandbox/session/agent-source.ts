/** The session agent's source (native/session-agent.py), fed to a session's sandbox as its program. */
import { readFileSync } from 'node:fs';

/** native/ of this checkout (src/sandbox/session or dist/sandbox/session are three levels below the root). */
const AGENT_PATH = new URL('../../../native/session-agent.py', import.meta.url);

let cached: string | null = null;

export function sessionAgentSource(): string {
  cached ??= readFileSync(AGENT_PATH, 'utf8');
  return cached;
}
