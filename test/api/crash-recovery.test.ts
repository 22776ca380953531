/**
 * SIGKILL the server while evaluations are queued and running, start it again on the same data
 * directory: nothing is lost, nothing stays running, and no sandbox of the dead server survives.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { isTerminal } from '../../src/domain/evaluation.js';
import { processesWithMarker } from '../helpers/processes.js';
import { api, spawnServer, tempDir, waitFor, type ServerProcess } from '../helpers/server.js';

describe('crash recovery (embedded mode)', () => {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.kill('SIGKILL');
  });

  it('finishes every evaluation after a SIGKILL and restart, with no sandbox left behind', async () => {
    const dataDir = tempDir();
    const marker = `crucible-crash-marker-${randomBytes(4).toString('hex')}`;
    // Runs ~3 s, under a process name the host can see; a double-forked child tries to outlive it.
    const slow = [
      'import os',
      'if os.fork() == 0:',
      '    os.setsid()',
      '    if os.fork() == 0:',
      `        os.execv("/usr/bin/python3", ["python3", "-c", "import time; time.sleep(60)", "${marker}-daemon"])`,
      '    os._exit(0)',
      `os.execv("/usr/bin/python3", ["python3", "-c", "import time\\nprint('slept', flush=True)\\ntime.sleep(3)\\nprint('done')", "${marker}"])`,
    ].join('\n');
    const first = await spawnServer(['--data-dir', dataDir, '--workers', '2']);
    servers.push(first);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await api<Evaluation>(first.url, 'POST', '/api/evaluations', { code: slow, tags: ['crash'] })).body.id);
    for (let i = 0; i < 4; i++) ids.push((await api<Evaluation>(first.url, 'POST', '/api/evaluations', { code: `print(${i})`, tags: ['crash'] })).body.id);
    await waitFor('two sandboxes running', async () => processesWithMarker(marker).length >= 2, 20_000);

    await first.kill('SIGKILL');
    // The dead server's sandboxes die with it (parent-death signal + PID namespace).
    await waitFor('sandboxes of the dead server gone', async () => processesWithMarker(marker).length === 0, 5_000);

    const second = await spawnServer(['--data-dir', dataDir, '--workers', '2']);
    servers.push(second);
    const finals = await waitFor(
      'all terminal after restart',
      async () => {
        const all = await Promise.all(ids.map(async (id) => (await api<Evaluation>(second.url, 'GET', `/api/evaluations/${id}`)).body));
        return all.every((e) => isTerminal(e.status)) && all;
      },
      60_000,
      250,
    );
    expect(finals.map((e) => e.status)).toEqual(Array(6).fill('completed'));
    for (const e of finals.slice(0, 2)) {
      expect(e.stdout).toContain('done');
    }
    expect(finals.some((e) => e.attempts >= 2)).toBe(true);
    const running = await api<{ items: unknown[] }>(second.url, 'GET', '/api/evaluations?status=provisioning,running');
    expect(running.body.items).toEqual([]);
    await waitFor('no sandbox processes after the runs', async () => processesWithMarker(marker).length === 0, 10_000);
    await second.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);
});
