/**
 * Binary-safe evaluation I/O through the API, on both sandboxes: stdin_base64 carries any bytes
 * (NUL, 0xff…) to the program, and GET /api/evaluations/{id}/stdout|stderr return the bytes the
 * program wrote exactly, while the JSON keeps readable text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { REQUEST_BOUNDS } from '../../src/domain/limits.js';
import { CrucibleClient } from '../../src/client/index.js';
import { api, startTestServer } from '../helpers/server.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const ECHO_REVERSED = 'import sys\ndata = sys.stdin.buffer.read()\nsys.stdout.buffer.write(data[::-1])\nsys.stderr.buffer.write(b"\\x00err\\xff")';

async function bytesOf(url: string, id: string, stream: 'stdout' | 'stderr'): Promise<{ status: number; type: string | null; body: Buffer }> {
  const res = await fetch(`${url}/api/evaluations/${id}/${stream}`);
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

describe('binary-safe evaluation I/O', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let sandboxes: string[] = [];
  beforeAll(async () => {
    server = await startTestServer({ workers: 2, sandboxes: ['bubblewrap', 'gvisor'] });
    const config = await api<{ sandboxes: { name: string; available: boolean }[] }>(server.url, 'GET', '/api/config');
    sandboxes = config.body.sandboxes.filter((s) => s.available).map((s) => s.name);
  });
  afterAll(() => server?.stop());

  it.for(['bubblewrap', 'gvisor'])('%s: every byte goes in through stdin_base64 and comes back out exactly', async (sandbox, ctx) => {
    if (!sandboxes.includes(sandbox)) ctx.skip(`${sandbox} is not available here`);
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', {
      code: ECHO_REVERSED,
      stdin_base64: ALL_BYTES.toString('base64'),
      sandbox,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'completed', stdin: null, stdin_base64: ALL_BYTES.toString('base64') });
    // The JSON shows readable text: bytes that are not UTF-8 (and NUL) as U+FFFD.
    expect(r.body.stderr).toBe('\ufffderr\ufffd');
    const out = await bytesOf(server.url, r.body.id, 'stdout');
    expect(out.status).toBe(200);
    expect(out.type).toBe('application/octet-stream');
    expect(out.body.equals(Buffer.from(ALL_BYTES).reverse())).toBe(true);
    expect((await bytesOf(server.url, r.body.id, 'stderr')).body.equals(Buffer.from([0, ...Buffer.from('err'), 0xff]))).toBe(true);
  });

  it('serves the 16 MiB raw stdout of a run byte for byte', { timeout: 180_000 }, async () => {
    // Every byte value, and each MiB marked by its first byte, so a lost, repeated or reordered piece shows.
    const code = ['import sys', 'block = bytes(range(256)) * 4096', 'for i in range(16):', '    sys.stdout.buffer.write(bytes([i]) + block[1:])'].join('\n');
    const block = Buffer.from(Array.from({ length: 256 * 4096 }, (_, i) => i % 256));
    const expected = Buffer.concat(Array.from({ length: 16 }, (_, i) => Buffer.concat([Buffer.from([i]), block.subarray(1)])));
    const ended = await new CrucibleClient(server.url).run({ code, max_output_bytes: 16 * 1024 * 1024, timeout_s: 60 });
    expect(ended).toMatchObject({ status: 'completed', stdout_truncated: false });
    const out = await bytesOf(server.url, ended.id, 'stdout');
    expect(out.status).toBe(200);
    expect(out.body.length).toBe(expected.length);
    expect(out.body.equals(expected)).toBe(true);
  });

  it('text output comes back as its UTF-8 bytes', async () => {
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', { code: 'print("héllo €")', stdin: 'ignored' });
    expect(r.body).toMatchObject({ stdout: 'héllo €\n', stdin: 'ignored', stdin_base64: null });
    expect((await bytesOf(server.url, r.body.id, 'stdout')).body.toString('utf8')).toBe('héllo €\n');
    expect((await bytesOf(server.url, r.body.id, 'stderr')).body.length).toBe(0);
  });

  it('refuses stdin with stdin_base64, malformed base64, and more than the stdin bound', async () => {
    const bad = async (body: Record<string, unknown>) => {
      const r = await api<{ error: { code: string; details: { path: string[] }[] } }>(server.url, 'POST', '/api/evaluations', { code: 'pass', ...body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      return r.body.error.details.map((d) => d.path.join('.'));
    };
    expect(await bad({ stdin: 'a', stdin_base64: 'YQ==' })).toContain('stdin_base64');
    expect(await bad({ stdin_base64: 'not base64!' })).toContain('stdin_base64');
    expect(await bad({ stdin_base64: 'YQ' })).toContain('stdin_base64');
    expect(await bad({ stdin_base64: Buffer.alloc(REQUEST_BOUNDS.stdin_bytes + 3).toString('base64') })).toContain('stdin_base64');
  });

  it('answers 404 for the output of an evaluation that does not exist', async () => {
    const r = await bytesOf(server.url, 'ev_00000000000000000000000000', 'stdout');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({ error: { code: 'not_found' } });
  });
});
