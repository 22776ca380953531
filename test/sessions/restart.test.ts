/**
 * A server that crashes while holding sessions: on restart every session it held is ended with
 * reason worker_lost (never left looking alive), and no process of the old sandboxes survives.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Session } from '../../src/domain/session.js';
import { api, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

describe('sessions across a server crash (embedded mode)', () => {
  const dataDir = tempDir();
  let current: ServerProcess | undefined;
  afterAll(() => {
    current?.killGroup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the sessions of a killed server end as worker_lost, and their processes are gone', async () => {
    const start = () => spawnServer(['--data-dir', dataDir, '--workers', '1'], {}, { ownGroup: true });
    current = await start();
    const created = await api<Session>(current.url, 'POST', '/api/sessions', {});
    expect(created.status).toBe(201);
    const marker = `7${Math.floor(Math.random() * 1e6)}`;
    await api(current.url, 'POST', `/api/sessions/${created.body.id}/exec`, { cmd: ['sh', '-c', `sleep ${marker} >/dev/null 2>&1 &`] });
    current.killGroup();
    current = await start();
    const after = await api<Session>(current.url, 'GET', `/api/sessions/${created.body.id}`);
    expect(after.body).toMatchObject({ status: 'ended', ended_reason: 'worker_lost' });
    expect(after.body.message).toMatch(/restarted or crashed/);
    // The launcher dies with its server (--die-with-parent): nothing of the old sandbox is left.
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps).not.toContain(`sleep ${marker}`);
  }, 60_000);
});
