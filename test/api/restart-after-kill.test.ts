/**
 * A supervisor (systemd, Kubernetes) restarts a crashed server at once, before the dead process is
 * even reaped: the data-directory lock must already be free, every time, and nothing acknowledged
 * may be lost. 50 rounds of: submit, SIGKILL the whole process group, start again immediately.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Evaluation, EvaluationList } from '../../src/domain/evaluation.js';
import { api, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

const ROUNDS = 50;

describe('restart right after SIGKILL (embedded mode)', () => {
  const dataDir = tempDir();
  let current: ServerProcess | null = null;
  afterAll(async () => {
    current?.killGroup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(`succeeds ${ROUNDS} times in a row and keeps every acknowledged evaluation`, async () => {
    const acknowledged: string[] = [];
    // No local worker: the evaluations stay queued, so each restart also has a growing queue to recover.
    const start = () => spawnServer(['--data-dir', dataDir, '--workers', '0'], {}, { ownGroup: true });
    current = await start();
    for (let round = 0; round < ROUNDS; round++) {
      const submitted = await api<Evaluation>(current.url, 'POST', '/api/evaluations', { code: `print(${round})`, tags: ['restart-loop'] });
      expect(submitted.status).toBe(202);
      acknowledged.push(submitted.body.id);
      current.killGroup();
      // No wait for the old process to be reaped: this is the race a pid-file lock lost.
      current = await start();
    }
    const listed = await api<EvaluationList>(current.url, 'GET', '/api/evaluations?tags=restart-loop&limit=200');
    expect(listed.body.items.map((e) => e.id).sort()).toEqual([...acknowledged].sort());
    expect(listed.body.items.every((e) => e.status === 'queued')).toBe(true);
  }, 240_000);

  it('refuses a second live server on the same data directory, naming the holder', async () => {
    await expect(spawnServer(['--data-dir', dataDir, '--workers', '0'])).rejects.toThrow(/in use by another Crucible server \(pid \d+\)/);
  });
});
