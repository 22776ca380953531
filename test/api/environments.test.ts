/**
 * The environment catalogue over HTTP, against a real server whose worker serves the
 * environments built on this host: contents, status, workers, SBOM, and submissions naming them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycloneDxBom, EnvironmentList, EnvironmentView } from '../../src/domain/environments.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { FileEnvironmentCatalogue } from '../../src/sandbox/environments/catalogue.js';
import { api, startTestServer } from '../helpers/server.js';

type ErrorReply = { error: { code: string; message: string; details?: unknown } };
const catalogue = new FileEnvironmentCatalogue();

describe('GET /api/environments', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({ workers: 1 });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('lists every environment with its Python, packages, status, limits, sandboxes and the workers serving it', async (ctx) => {
    if (!catalogue.rootfs('python')) ctx.skip('the python environment is not built here (bash scripts/setup.sh)');
    const { status, body } = await api<EnvironmentList>(server.url, 'GET', '/api/environments');
    expect(status).toBe(200);
    expect(body.items.map((e) => e.name)).toEqual(['python', 'python-data', 'python-ml', 'python-3.13']);
    const python = body.items[0]!;
    expect(python).toMatchObject({ status: 'ready', suite: 'bookworm', build_command: 'crucible env build python', error: null });
    expect(python.python_version).toMatch(/^3\.11\.\d+$/);
    expect(python.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(python.size_bytes).toBeGreaterThan(50_000_000);
    expect(python.packages).toContainEqual({ name: 'python3', version: expect.stringMatching(/^3\.11/) });
    expect(python.default_limits.memory_mb).toBe(512);
    expect(python.max_limits.memory_mb).toBe(4096);
    expect(python.sandboxes).toContain('bubblewrap');
    const { body: workers } = await api<{ workers: Array<{ id: string }> }>(server.url, 'GET', '/api/workers');
    expect(python.workers).toEqual(workers.workers.map((w) => w.id));
    const ml = body.items[2]!;
    expect(ml.default_limits.memory_mb).toBe(2048);
    for (const item of body.items) {
      // Each is served exactly when it is built here (this server's one worker serves what is built).
      const built = catalogue.rootfs(item.name) !== null;
      expect(item.status === 'ready', item.name).toBe(built);
      expect(item.workers.length > 0, item.name).toBe(built);
    }
  });

  it('one environment by name; an unknown name is 404 environment_not_found listing the known ones', async () => {
    const one = await api<EnvironmentView>(server.url, 'GET', '/api/environments/python-3.13');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: 'python-3.13', suite: 'trixie' });
    expect(one.body.python_version).toMatch(/^3\.13/);
    const missing = await api<ErrorReply>(server.url, 'GET', '/api/environments/python-2.7');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('environment_not_found');
    expect(missing.body.error.message).toContain('python, python-data, python-ml, python-3.13');
  });

  it('the SBOM is CycloneDX 1.5 with every locked package, its purl and Debian source', async (ctx) => {
    if (!catalogue.rootfs('python')) ctx.skip('the python environment is not built here');
    const { status, body, headers } = await api<CycloneDxBom>(server.url, 'GET', '/api/environments/python/sbom');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('application/vnd.cyclonedx+json');
    expect(body).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1 });
    expect(body.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const lock = JSON.parse(readFileSync(`${catalogue.dir}/python/lock.json`, 'utf8')) as { packages: unknown[] };
    expect(body.components).toHaveLength(lock.packages.length);
    const python3 = body.components.find((c) => c.name === 'python3')!;
    expect(python3.purl).toMatch(/^pkg:deb\/debian\/python3@3\.11[^?]*\?arch=amd64&distro=debian-12$/);
    expect(python3.properties).toContainEqual({ name: 'debian:source', value: 'python3-defaults' });
    // A name of an environment not built here has no SBOM on this host.
    const unbuilt = (['python-ml', 'python-data', 'python-3.13'] as const).find((e) => !catalogue.rootfs(e));
    if (unbuilt) {
      const r = await api<ErrorReply>(server.url, 'GET', `/api/environments/${unbuilt}/sbom`);
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('environment_not_built');
    }
  });

  it('a submission runs in the environment it names; an unknown one is 400 unknown_environment', async (ctx) => {
    if (!catalogue.rootfs('python-3.13')) ctx.skip('the python-3.13 environment is not built here');
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', {
      code: 'import sys\nprint(sys.version_info[:2])',
      environment: 'python-3.13',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ environment: 'python-3.13', status: 'completed', stdout: '(3, 13)\n' });
    const bad = await api<ErrorReply>(server.url, 'POST', '/api/evaluations', { code: 'print(1)', environment: 'ruby' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('unknown_environment');
  }, 60_000);

  it('a submission for an environment built on no live worker is accepted and waits, saying how to build it', async (ctx) => {
    const unbuilt = (['python-ml', 'python-data', 'python-3.13'] as const).find((e) => !catalogue.rootfs(e));
    if (!unbuilt) ctx.skip('every environment is built here (the service test covers this case)');
    const r = await api<{ status: string; waiting_reason: string }>(server.url, 'POST', '/api/evaluations', { code: 'print(1)', environment: unbuilt });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('queued');
    expect(r.body.waiting_reason).toContain(`crucible env build ${unbuilt}`);
  });

  it('the OpenAPI document describes the environment endpoints', async () => {
    const { body } = await api<{ paths: Record<string, unknown> }>(server.url, 'GET', '/docs/json');
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/api/environments', '/api/environments/{name}', '/api/environments/{name}/sbom']));
  });
});
