/**
 * Files in, files out over the HTTP API, with real sandboxes, on both stores: the embedded
 * server (SQLite) and a scale-out server (PostgreSQL + Redis, its worker writing the artifacts
 * through the storage port). Validation of multi-file requests, the artifacts list and the bytes
 * with their headers, 404s, and project scoping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR, type Role } from '../../src/domain/access.js';
import type { ArtifactList } from '../../src/domain/artifacts.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { REQUEST_BOUNDS } from '../../src/domain/limits.js';
import { bothStores, type TestServer } from '../helpers/both-stores.js';
import { api, startTestServer } from '../helpers/server.js';
import { PNG_WRITER } from '../sandbox/fixtures/png-writer.js';

function expectError(r: { status: number; body: unknown }, status: number, code: string): void {
  expect({ status: r.status, code: (r.body as { error?: { code?: string } }).error?.code }).toEqual({ status, code });
}

const PLOT_PROGRAM = `${PNG_WRITER}
import os
out = os.environ["CRUCIBLE_OUTPUT_DIR"]
write_png(out + "/plot.png")
open(out + "/report.html", "w").write("<html><script>alert(document.cookie)</script></html>")
open(out + "/image.svg", "w").write('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
for i in range(3):
    open(f"{out}/extra{i}.txt", "w").write(str(i))
print("done")
`;

for (const store of bothStores()) {
  describe(`files and artifacts over the API: ${store.name}`, () => {
    let server: TestServer;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ server, cleanup } = await store.start());
    }, 60_000);
    afterAll(async () => cleanup?.(), 60_000);

    const submit = (body: object) => api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', body);

    it('runs a multi-file package with a command and returns its files with the evaluation', async () => {
      const files = [
        { path: 'pkg/__init__.py', content: '' },
        { path: 'pkg/__main__.py', content: 'from .greet import hello\nprint(hello("files"))\n' },
        { path: 'pkg/greet.py', content: 'def hello(name):\n    return f"hello {name}"\n' },
      ];
      const r = await submit({ files, command: ['python3', '-m', 'pkg'] });
      expect(r.status).toBe(200);
      expect(r.body.stdout).toBe('hello files\n');
      expect(r.body.command).toEqual(['python3', '-m', 'pkg']);
      expect(r.body.entrypoint).toBeNull();
      const again = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${r.body.id}`);
      expect(again.body.files).toEqual(files.map((f) => ({ ...f, encoding: 'utf-8' })));
      expect(again.body.command).toEqual(['python3', '-m', 'pkg']);
    }, 60_000);

    it('collects artifacts: a PNG inline, HTML and SVG as attachments, all with nosniff and a sandboxing CSP', async () => {
      const r = await submit({ code: PLOT_PROGRAM, max_artifacts: 4 });
      expect(r.body.stdout).toBe('done\n');
      expect(r.body.limits.max_artifacts).toBe(4);
      const list = await api<ArtifactList>(server.url, 'GET', `/api/evaluations/${r.body.id}/artifacts`);
      expect(list.status).toBe(200);
      expect(list.body.items.map((a) => [a.path, a.content_type])).toEqual([
        ['extra0.txt', 'text/plain; charset=utf-8'],
        ['extra1.txt', 'text/plain; charset=utf-8'],
        ['extra2.txt', 'text/plain; charset=utf-8'],
        ['image.svg', 'text/plain; charset=utf-8'],
      ]);
      expect(list.body.dropped).toEqual([
        { path: 'plot.png', size_bytes: expect.any(Number), reason: 'max_artifacts' },
        { path: 'report.html', size_bytes: 52, reason: 'max_artifacts' },
      ]);
      expect(list.body.dropped_more).toBe(0);

      const all = await submit({ code: PLOT_PROGRAM });
      const png = await fetch(`${server.url}/api/evaluations/${all.body.id}/artifacts/plot.png`);
      expect(png.status).toBe(200);
      expect(png.headers.get('content-type')).toBe('image/png');
      expect(png.headers.get('content-disposition')).toMatch(/^inline; filename="plot.png"/);
      expect(png.headers.get('x-content-type-options')).toBe('nosniff');
      expect(png.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      const bytes = Buffer.from(await png.arrayBuffer());
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      const listed = await api<ArtifactList>(server.url, 'GET', `/api/evaluations/${all.body.id}/artifacts`);
      const meta = listed.body.items.find((a) => a.path === 'plot.png')!;
      expect(meta.size_bytes).toBe(bytes.length);
      const { createHash } = await import('node:crypto');
      expect(meta.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));

      for (const name of ['report.html', 'image.svg']) {
        const res = await fetch(`${server.url}/api/evaluations/${all.body.id}/artifacts/${name}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
        expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${name}"`));
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
        expect(await res.text()).toContain('<script>');
      }
    }, 60_000);

    it('404s: an unknown artifact has its own code; an unknown evaluation is not_found', async () => {
      const r = await submit({ code: 'print(1)' });
      const missing = await api(server.url, 'GET', `/api/evaluations/${r.body.id}/artifacts/nope.png`);
      expectError(missing, 404, 'artifact_not_found');
      const escape = await api(server.url, 'GET', `/api/evaluations/${r.body.id}/artifacts/..%2F..%2Fetc%2Fpasswd`);
      expectError(escape, 404, 'artifact_not_found');
      expectError(await api(server.url, 'GET', '/api/evaluations/ev_nope/artifacts'), 404, 'not_found');
      expectError(await api(server.url, 'GET', '/api/evaluations/ev_nope/artifacts/a.txt'), 404, 'not_found');
      const empty = await api<ArtifactList>(server.url, 'GET', `/api/evaluations/${r.body.id}/artifacts`);
      expect(empty.body).toEqual({ items: [], dropped: [], dropped_more: 0 });
    }, 60_000);
  });
}

describe("artifacts follow the evaluation's access rules", () => {
  let server: TestServer;
  afterAll(async () => server?.stop(), 60_000);

  it("another project's caller gets 404 not_found for the list and the bytes; the own project reads them", async () => {
    server = await startTestServer({ auth: 'required' });
    const make = (role: Role, project: string) => server.platform.access.createKey(ANONYMOUS_ACTOR, { name: `${role}@${project}`, role, project });
    const owner = { authorization: `Bearer ${(await make('researcher', 'alpha')).key}` };
    const colleague = { authorization: `Bearer ${(await make('viewer', 'alpha')).key}` };
    const stranger = { authorization: `Bearer ${(await make('researcher', 'beta')).key}` };
    const r = await api<Evaluation>(
      server.url,
      'POST',
      '/api/evaluations?wait=true',
      { code: 'open("/sandbox/out/secret.txt", "w").write("alpha only")' },
      owner,
    );
    expect(r.status).toBe(200);
    const list = `/api/evaluations/${r.body.id}/artifacts`;
    expect((await api<ArtifactList>(server.url, 'GET', list, undefined, colleague)).body.items.map((a) => a.path)).toEqual(['secret.txt']);
    expect((await api(server.url, 'GET', `${list}/secret.txt`, undefined, colleague)).body).toBe('alpha only');
    expectError(await api(server.url, 'GET', list, undefined, stranger), 404, 'not_found');
    expectError(await api(server.url, 'GET', `${list}/secret.txt`, undefined, stranger), 404, 'not_found');
    expectError(await api(server.url, 'GET', `${list}/secret.txt`), 401, 'unauthenticated');
  }, 60_000);
});

describe('multi-file requests: validation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workers: 0 });
  }, 60_000);
  afterAll(async () => server?.stop(), 60_000);

  const expect400 = async (body: object, message: string | RegExp) => {
    const r = await api<{ error: { code: string; message: string } }>(server.url, 'POST', '/api/evaluations', body);
    expectError(r, 400, 'invalid_request');
    expect(r.body.error.message).toMatch(message);
  };

  it('refuses paths outside the working directory, duplicates, too many, too big, and nothing to run', async () => {
    const py = (path: string) => ({ path, content: 'print(1)' });
    await expect400({ files: [py('../evil.py')] }, /must not contain \.\./);
    await expect400({ files: [py('a/../../evil.py')] }, /must not contain \.\./);
    await expect400({ files: [py('/etc/evil.py')] }, /must be relative/);
    await expect400({ files: [py('a//b.py')] }, /empty segments/);
    await expect400({ files: [py('./main.py')] }, /\. segments/);
    await expect400({ files: [py('main.py'), py('main.py')] }, /"main.py" is given more than once/);
    await expect400({ code: 'print(1)', files: [py('main.py')] }, /code is main.py already/);
    await expect400({ files: [py('a'), py('a/b.py')], command: ['true'] }, /also a directory/);
    await expect400({ files: Array.from({ length: REQUEST_BOUNDS.files + 1 }, (_, i) => py(`f${i}.py`)) }, /at most 100 files/);
    const big = 'x'.repeat(REQUEST_BOUNDS.files_bytes / 2 + 1);
    await expect400({ files: [py('main.py'), { path: 'a.txt', content: big }, { path: 'b.txt', content: big }] }, /files must total at most 2097152 bytes/);
    await expect400({ files: [py('main.py'), { path: 'a.txt', content: 'x'.repeat(1024 * 1024 + 1) }], scratch_mb: 1 }, /raise scratch_mb/);
    await expect400({ files: [{ path: 'a.bin', content: 'not base64!', encoding: 'base64' }] }, /must be standard base64/);
    await expect400({ files: [{ path: 'a.txt', content: 'nul\u0000' }] }, /encoding "base64"/);
    await expect400({}, /give code .* or files/);
    await expect400({ files: [py('helper.py')] }, /there is no main.py to run/);
    await expect400({ files: [py('a.py')], entrypoint: 'b.py' }, /entrypoint "b.py" is not one of the files/);
    await expect400({ files: [py('a.py')], entrypoint: 'a.py', command: ['python3', 'a.py'] }, /not both/);
    await expect400({ files: [py('a.py')], command: [] }, /command must name a program/);
  });

  it('publishes the bounds in /api/config', async () => {
    const config = await api<{ request_bounds: Record<string, number>; limits: Record<string, { default: number }> }>(server.url, 'GET', '/api/config');
    expect(config.body.request_bounds).toMatchObject({ files: 100, files_bytes: 2_097_152, file_path_bytes: 255, command_args: 64 });
    expect(config.body.limits.max_artifacts!.default).toBe(20);
    expect(config.body.limits.max_artifact_bytes!.default).toBe(16 * 1024 * 1024);
  });
});
