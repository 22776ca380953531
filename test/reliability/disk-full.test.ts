/**
 * The data directory fills up (a small tmpfs mounted for the test): submissions get a clear 507,
 * nothing accepted is lost or corrupted, reads keep working, and once space returns (the tmpfs is
 * grown) the server carries on by itself: the evaluations that ran meanwhile get their verdicts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { isTerminal, type Evaluation } from '../../src/domain/evaluation.js';
import { api, spawnServer, tempDir, waitFor, type ServerProcess } from '../helpers/server.js';
import { readSse } from '../helpers/sse.js';

const isRoot = process.getuid?.() === 0;
/** Each evaluation stores ~768 KiB of stdout (and its live events): a few fill 8 MiB. */
const CHATTY = 'import sys\nfor i in range(768):\n    sys.stdout.write(f"{i:06d}" + "x" * 1017 + "\\n")\n';

describe.skipIf(!isRoot)('full data directory (embedded mode)', () => {
  const mountPoint = tempDir('crucible-full-');
  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.kill('SIGKILL');
    try {
      execFileSync('umount', [mountPoint]);
    } catch {
      /* not mounted */
    }
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers 507 storage_full, keeps serving reads, loses nothing, and recovers when space returns', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mountPoint]);
    const dataDir = path.join(mountPoint, 'data');
    server = await spawnServer(['--data-dir', dataDir, '--workers', '1']);
    const url = server.url;

    const accepted: string[] = [];
    let refused: { status: number; body: { error: { code: string; message: string } }; headers: Headers } | null = null;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await api<Evaluation & { error: { code: string; message: string } }>(url, 'POST', '/api/evaluations', {
        code: CHATTY,
        tags: ['disk-full'],
        max_output_bytes: 1 << 20,
      });
      if (r.status === 202) accepted.push(r.body.id);
      else refused = r;
      // Give the worker time to write the output that fills the disk.
      if (i % 3 === 2) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(refused, 'the disk never filled up').not.toBeNull();
    expect(refused!.status, `${JSON.stringify(refused!.body)}\n${server.output().slice(-3000)}`).toBe(507);
    expect(refused!.body.error.code).toBe('storage_full');
    expect(refused!.headers.get('retry-after')).toBeTruthy();
    expect(accepted.length).toBeGreaterThan(0);

    // Reads keep working while the disk is full, and the server is alive.
    expect((await api(url, 'GET', '/healthz')).status).toBe(200);
    for (const id of accepted) expect((await api<Evaluation>(url, 'GET', `/api/evaluations/${id}`)).status).toBe(200);
    expect((await api(url, 'GET', '/api/evaluations?tags=disk-full')).status).toBe(200);

    // Space returns: no restart, no operator action beyond freeing space.
    execFileSync('mount', ['-o', 'remount,size=256m', mountPoint]);
    const after = await waitFor(
      'a submission accepted again',
      async () => {
        const r = await api<Evaluation>(url, 'POST', '/api/evaluations?wait=true', { code: 'print("space is back")', tags: ['disk-full'] });
        return r.status === 200 && r.body;
      },
      30_000,
      500,
    );
    expect(after.stdout).toBe('space is back\n');

    // Every acknowledged evaluation finishes with its whole output: nothing lost, nothing stuck.
    const finals = await waitFor(
      'every accepted evaluation terminal',
      async () => {
        const all = await Promise.all(accepted.map(async (id) => (await api<Evaluation>(url, 'GET', `/api/evaluations/${id}`)).body));
        return all.every((e) => isTerminal(e.status)) && all;
      },
      150_000,
      1000,
    );
    for (const e of finals) {
      expect(e.status, `${e.id}: ${e.message}`).toBe('completed');
      expect(e.stdout.length).toBe(768 * 1024);
      // The live events that could not be written while the disk was full were kept and written
      // afterwards: replaying the stream gives the whole output, in order, without a gap.
      const events = await readSse(`${url}/api/evaluations/${e.id}/events`);
      const streamed = events
        .filter((m) => m.event === 'stdout')
        .map((m) => (m.data as { data: { text: string } }).data.text)
        .join('');
      expect(streamed).toBe(e.stdout);
      expect(events.map((m) => Number(m.id))).toEqual(events.map((_, i) => i + 1));
    }
    await server.kill('SIGTERM');
    server = null;
    const db = new BetterSqlite3(path.join(dataDir, 'crucible.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, 240_000);
});
