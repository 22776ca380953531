/**
 * The Python SDK (sdk/python) against a real server: installed offline with Debian's pip (no
 * PyPI), then its unittest suite run with /usr/bin/python3 against the installed copy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Evaluation, EvaluationList, EvaluationSummary, LimitsSchema, Metrics } from '../../src/domain/evaluation.js';
import { repoRoot, startTestServer } from '../helpers/server.js';
import { anyEvaluationId, missingRoute, runProcess, type ProcessRun } from './support.js';

const PYTHON = '/usr/bin/python3';
const TESTS = path.join(repoRoot, 'sdk/python/tests');

describe('Python SDK', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let work: string;
  let site: string;
  let install: ProcessRun;

  beforeAll(async () => {
    server = await startTestServer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'crucible-sdk-py-'));
    site = path.join(work, 'site');
    // Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    fs.cpSync(path.join(repoRoot, 'sdk/python'), path.join(work, 'src'), {
      recursive: true,
      filter: (p) => !/(__pycache__|\.egg-info|[/\\]build)$/.test(p),
    });
    install = await runProcess(PYTHON, [
      '-m',
      'pip',
      'install',
      '--no-index',
      '--no-build-isolation',
      '--no-cache-dir',
      path.join(work, 'src'),
      '--target',
      site,
    ]);
  });

  afterAll(async () => {
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** One test module of sdk/python/tests, importing the installed package (not the sources). */
  async function unittest(module: string): Promise<ProcessRun & { ran: number; skipped: number }> {
    const run = await runProcess(PYTHON, ['-m', 'unittest', '-v', module], {
      cwd: TESTS,
      env: { PYTHONPATH: site, CRUCIBLE_URL: server.url, CRUCIBLE_API_KEY: '', PYTHONDONTWRITEBYTECODE: '1' },
      timeoutMs: 180_000,
    });
    const ran = Number(/Ran (\d+) tests?/.exec(run.output)?.[1] ?? 0);
    const skipped = Number(/skipped=(\d+)/.exec(run.output)?.[1] ?? 0);
    return { ...run, ran, skipped };
  }

  it('installs with pip offline (no PyPI) as a typed package', () => {
    expect(install.code, install.output).toBe(0);
    expect(fs.existsSync(path.join(site, 'crucible/py.typed'))).toBe(true);
    expect(fs.readdirSync(site).some((f) => /^crucible_sdk-0\.1\.0\.dist-info$/.test(f))).toBe(true);
  });

  it('types what the API returns with the keys of the zod schemas (no drift)', async () => {
    const schemas = { Evaluation, EvaluationSummary, EvaluationList, Limits: LimitsSchema, Metrics };
    const script = `import json, crucible.types as t\nprint(json.dumps({n: sorted(getattr(t, n).__annotations__) for n in ${JSON.stringify(Object.keys(schemas))}}))`;
    const run = await runProcess(PYTHON, ['-c', script], { env: { PYTHONPATH: site } });
    expect(run.code, run.output).toBe(0);
    const python = JSON.parse(run.output) as Record<string, string[]>;
    for (const [name, schema] of Object.entries(schemas)) expect(python[name], name).toEqual(Object.keys(schema.shape).sort());
  });

  for (const module of ['test_evaluations', 'test_transport', 'test_compat']) {
    it(`passes ${module} against the server`, { timeout: 240_000 }, async () => {
      const run = await unittest(module);
      expect(run.code, run.output).toBe(0);
      expect(run.ran, run.output).toBeGreaterThan(0);
      expect(run.skipped, run.output).toBe(0);
    });
  }

  it('passes test_sessions against the server', { timeout: 240_000 }, async (ctx) => {
    const missing = await missingRoute(server.url, '/api/sessions');
    if (missing) return ctx.skip(`sessions: ${missing}`);
    const run = await unittest('test_sessions');
    expect(run.code, run.output).toBe(0);
    expect(run.skipped, run.output).toBe(0);
  });

  it('passes test_artifacts against the server', { timeout: 240_000 }, async (ctx) => {
    const missing = await missingRoute(server.url, `/api/evaluations/${await anyEvaluationId(server.url)}/artifacts`);
    if (missing) return ctx.skip(`artifacts: ${missing}`);
    const run = await unittest('test_artifacts');
    expect(run.code, run.output).toBe(0);
    expect(run.skipped, run.output).toBe(0);
  });
});
