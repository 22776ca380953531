/**
 * Sessions scaled out: real PostgreSQL and Redis, `crucible serve --workers 0` API instances and
 * `crucible worker` child processes. A session lives on a worker; any API instance relays its
 * execs and files over Redis (bytes exact, output streamed), an API instance dying ends nothing,
 * and a worker dying ends its sessions as worker_lost within a bound, with requests answered by
 * a clear error rather than left hanging.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecResult, Session } from '../../src/domain/session.js';
import { ScaleOutDeployment } from '../helpers/scale-out.js';
import { api, waitFor } from '../helpers/server.js';

const ENV = { environment: 'python', sandbox: 'bubblewrap' };

async function createSession(url: string): Promise<Session> {
  const res = await api<Session>(url, 'POST', '/api/sessions', ENV);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status, JSON.stringify(res.body)).toBe('ready');
  return res.body;
}

async function exec(url: string, id: string, body: Record<string, unknown>): Promise<ExecResult> {
  const res = await api<ExecResult>(url, 'POST', `/api/sessions/${id}/exec`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const fileUrl = (url: string, id: string, path: string) => `${url}/api/sessions/${id}/files?path=${encodeURIComponent(path)}`;

describe('sessions on scale-out workers', () => {
  let deployment = new ScaleOutDeployment();
  afterEach(async () => {
    await deployment.cleanup();
    deployment = new ScaleOutDeployment();
  });

  it('a session on a worker, reached from two API instances: exec, streamed output, files of MiBs exact, events; a killed API ends nothing; a killed worker ends it as worker_lost', async () => {
    const first = await deployment.startApi();
    const second = await deployment.startApi();
    const worker = await deployment.startWorker({ concurrency: 1 });

    const session = await createSession(first.url);
    expect(session.worker).toBe(worker.id);

    // Relayed from the other API instance: argv, stdin bytes in, raw bytes out.
    const binary = await exec(second.url, session.id, {
      cmd: ['sh', '-c', 'cat; printf "\\000\\377end"'],
      stdin_base64: Buffer.from([1, 0, 255]).toString('base64'),
      output_encoding: 'base64',
    });
    expect(binary.reason).toBe('completed');
    expect(Buffer.from(binary.stdout_base64!, 'base64')).toEqual(Buffer.concat([Buffer.from([1, 0, 255, 0, 255]), Buffer.from('end')]));

    // The streaming form: output events as they come, then the result.
    const streamed = await fetch(`${first.url}/api/sessions/${session.id}/exec?stream=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cmd: ['sh', '-c', 'echo a; sleep 0.3; echo b >&2'] }),
    }).then((r) => r.text());
    expect(streamed).toMatch(/event: stdout\ndata: \{"text":"a\\n"\}/);
    expect(streamed).toMatch(/event: stderr\ndata: \{"text":"b\\n"\}/);
    expect(streamed.indexOf('event: stdout')).toBeLessThan(streamed.indexOf('event: result'));
    expect(streamed).toMatch(/event: result\ndata: .*"reason":"completed"/);

    // A few MiB written through one API instance, read back through the other, byte for byte.
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const put = await fetch(fileUrl(first.url, session.id, 'data/blob.bin'), { method: 'PUT', body: new Uint8Array(content) });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ path: 'data/blob.bin', size: content.length, sha256 });
    const got = await fetch(fileUrl(second.url, session.id, 'data/blob.bin'));
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(content)).toBe(true);
    expect((await exec(second.url, session.id, { cmd: ['sha256sum', 'data/blob.bin'] })).stdout).toContain(sha256);
    // A host's error crosses the link with its code.
    const missing = await api<{ error: { code: string } }>(second.url, 'GET', `/api/sessions/${session.id}/files?path=nope`);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'file_not_found']);

    // An API instance dying ends no session: the worker holds it, the other instance still reaches it.
    await first.kill('SIGKILL');
    expect((await exec(second.url, session.id, { cmd: ['echo', 'still here'] })).stdout).toBe('still here\n');

    // An exec in progress when the worker is killed answers an error within the link's bound.
    const inFlight = api<{ error: { code: string } }>(second.url, 'POST', `/api/sessions/${session.id}/exec`, { cmd: ['sleep', '60'], timeout_s: 120 });
    await new Promise((r) => setTimeout(r, 1000));
    await worker.kill('SIGKILL');
    const killedAt = Date.now();
    const interrupted = await inFlight;
    expect([interrupted.status, interrupted.body.error.code]).toEqual([503, 'session_unavailable']);

    // The heartbeats stop: the reaper ends the session as worker_lost (3 s liveness window here).
    const ended = await waitFor(
      'session ended',
      async () => {
        const s = await api<Session>(second.url, 'GET', `/api/sessions/${session.id}`);
        return s.body.status === 'ended' && s.body;
      },
      20_000,
      200,
    );
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(ended).toMatchObject({ ended_reason: 'worker_lost' });
    expect(ended.message).toContain(worker.id);
    const after = await api<{ error: { code: string; message: string } }>(second.url, 'POST', `/api/sessions/${session.id}/exec`, { cmd: ['true'] });
    expect([after.status, after.body.error.code]).toEqual([409, 'session_ended']);
    expect(after.body.error.message).toContain('worker_lost');
    const read = await api<{ error: { code: string } }>(second.url, 'GET', `/api/sessions/${session.id}/files?path=data/blob.bin`);
    expect([read.status, read.body.error.code]).toEqual([409, 'session_ended']);

    // The transcript, in order, ends with the reason.
    const events = await fetch(`${second.url}/api/sessions/${session.id}/events`).then((r) => r.text());
    const types = [...events.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(types).toEqual(['status', 'exec', 'exec', 'file_write', 'file_read', 'exec', 'exec', 'status']);
    expect(events).toContain(`"sha256":"${sha256}"`);
    expect(events).toContain('"ended_reason":"worker_lost"');
  }, 120_000);

  it('placement on the least loaded live worker; a stopped worker ends its sessions as worker_shutdown; no worker: sandbox_unavailable', async () => {
    const { url } = await deployment.startApi();
    const none = await api<{ error: { code: string } }>(url, 'POST', '/api/sessions', ENV);
    expect([none.status, none.body.error.code]).toEqual([400, 'sandbox_unavailable']);

    const a = await deployment.startWorker({ concurrency: 1 });
    const b = await deployment.startWorker({ concurrency: 1 });
    const placed = [await createSession(url), await createSession(url)];
    expect(placed.map((s) => s.worker).sort()).toEqual([a.id, b.id].sort());

    const onA = placed.find((s) => s.worker === a.id)!;
    await a.kill('SIGTERM');
    expect(a.child.exitCode).toBe(0);
    const stopped = await api<Session>(url, 'GET', `/api/sessions/${onA.id}`);
    expect(stopped.body).toMatchObject({ status: 'ended', ended_reason: 'worker_shutdown' });
    const onB = placed.find((s) => s.worker === b.id)!;
    expect((await exec(url, onB.id, { cmd: ['echo', 'b'] })).stdout).toBe('b\n');
  }, 90_000);
});
