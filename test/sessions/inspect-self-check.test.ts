/**
 * Inspect's sandbox self-check, replayed through the Python SDK's Inspect-style adapter
 * (sdk/python/src/crucible/inspect_sandbox.py) against a real server, on bubblewrap and on gVisor.
 * Every check passes except the one Crucible refuses by design: running a command as another
 * user (root included) — a session has one unprivileged user.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startTestServer } from '../helpers/server.js';
import { runProcess, type ProcessRun } from '../sdk/support.js';

const REPLAY = path.join(repoRoot, 'test/sessions/inspect-self-check.py');
const SANDBOXES = ['bubblewrap', 'gvisor'] as const;
/** Checks of Inspect's list Crucible refuses on purpose, with what the refusal must say. */
const REFUSED: Record<string, RegExp> = {
  test_exec_as_user: /^FAILED: running as root: cannot run as user root: every command of a Crucible session runs as the sandbox user/,
};
/** Every check of Inspect's list (the current one, plus the two output-limit checks of earlier versions). */
const INSPECT_CHECKS = 43;

let server: Awaited<ReturnType<typeof startTestServer>>;
const runs = new Map<string, Promise<ProcessRun>>();
let available: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ workers: 1, sandboxes: [...SANDBOXES] });
  const config = (await (await fetch(`${server.url}/api/config`)).json()) as { sandboxes: { name: string; available: boolean }[] };
  available = config.sandboxes.filter((s) => s.available).map((s) => s.name);
  // Both replays at once: each is a minute of mostly waiting on its own sandbox.
  for (const sandbox of SANDBOXES.filter((s) => available.includes(s))) {
    runs.set(
      sandbox,
      runProcess('/usr/bin/python3', [REPLAY, server.url, sandbox], {
        env: { PYTHONPATH: path.join(repoRoot, 'sdk/python/src'), PYTHONDONTWRITEBYTECODE: '1' },
        timeoutMs: 240_000,
      }),
    );
  }
}, 60_000);
afterAll(async () => {
  await Promise.allSettled(runs.values());
  await server?.stop();
});

describe.each(SANDBOXES)("Inspect's sandbox self-check on %s", (sandbox) => {
  it('passes every check but the refused ones, which fail saying why', { timeout: 250_000 }, async (ctx) => {
    if (!available.includes(sandbox)) return ctx.skip(`${sandbox} is not available on this host`);
    const run = await runs.get(sandbox)!;
    expect(run.code, run.output).toBe(0);
    const results = JSON.parse(run.output.slice(run.output.indexOf('{'))) as Record<string, true | string>;
    expect(Object.keys(results).filter((name) => name.startsWith('test_')).length).toBe(INSPECT_CHECKS);
    const unexpected = Object.entries(results).filter(([name, result]) => result !== true && !(name in REFUSED));
    expect(unexpected).toEqual([]);
    for (const [name, refusal] of Object.entries(REFUSED)) expect(results[name], name).toMatch(refusal);
  });
});
