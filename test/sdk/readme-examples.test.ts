/**
 * Keeps the SDK READMEs honest: every ```python / ```ts block of sdk/python/README.md and
 * sdk/typescript/README.md is run against a real server. In each README the first block is the
 * set-up (imports, the client); every other block runs after it, on its own. A block preceded by
 * `<!-- needs: sessions -->` or `<!-- needs: artifacts -->` is skipped while the server has no such
 * route. The TypeScript blocks import the built package (`@crucible/sdk`, through its exports map)
 * and are type-checked against its published .d.ts before they run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startTestServer } from '../helpers/server.js';
import { anyEvaluationId, missingRoute, runProcess } from './support.js';

type Need = 'sessions' | 'artifacts';

interface Example {
  code: string;
  /** Line of the opening fence, for failure messages. */
  line: number;
  needs: Need | null;
}

/** The fenced blocks of one language in a README, with their `needs` markers. */
function examplesOf(readme: string, language: string): Example[] {
  const lines = fs.readFileSync(path.join(repoRoot, readme), 'utf8').split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```' + language) continue;
    const end = lines.indexOf('```', i + 1);
    const marker = /^<!-- needs: (sessions|artifacts) -->$/.exec(lines[i - 1] ?? '');
    examples.push({ code: lines.slice(i + 1, end).join('\n'), line: i + 1, needs: (marker?.[1] as Need | undefined) ?? null });
    i = end;
  }
  return examples;
}

const python = examplesOf('sdk/python/README.md', 'python');
const typescript = examplesOf('sdk/typescript/README.md', 'ts');

describe('SDK README examples', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let work: string;
  const missing: Record<Need, string | null> = { sessions: null, artifacts: null };

  beforeAll(async () => {
    server = await startTestServer();
    missing.sessions = await missingRoute(server.url, '/api/sessions');
    missing.artifacts = await missingRoute(server.url, `/api/evaluations/${await anyEvaluationId(server.url)}/artifacts`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'crucible-sdk-readme-'));
    // A project that installed the TypeScript SDK: node_modules/@crucible/sdk is the package folder.
    const packageDir = path.join(repoRoot, 'sdk/typescript');
    if (!fs.existsSync(path.join(packageDir, 'dist/client/index.js'))) throw new Error('sdk/typescript/dist is missing: run `npm run build` first');
    fs.mkdirSync(path.join(work, 'node_modules/@crucible'), { recursive: true });
    fs.symlinkSync(packageDir, path.join(work, 'node_modules/@crucible/sdk'));
    for (const dep of ['zod', '@types']) fs.symlinkSync(path.join(repoRoot, 'node_modules', dep), path.join(work, 'node_modules', dep));
    fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ type: 'module' }));
    fs.writeFileSync(
      path.join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], lib: ['ES2023', 'DOM'] },
        include: ['*.mts'],
      }),
    );
    const [setup, ...rest] = typescript;
    rest.forEach((ex, i) => fs.writeFileSync(path.join(work, `example-${i + 1}.mts`), `${setup!.code}\n${ex.code}\n`));
  });

  afterAll(async () => {
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('has a set-up block and examples in each README', () => {
    expect(python.length).toBeGreaterThan(4);
    expect(typescript.length).toBeGreaterThan(4);
  });

  it('type-checks the TypeScript examples against the built package', { timeout: 300_000 }, async () => {
    const typecheck = await runProcess(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', work], { cwd: work, timeoutMs: 290_000 });
    expect(typecheck.code, typecheck.output).toBe(0);
  });

  const [pythonSetup, ...pythonExamples] = python;
  it.for(pythonExamples.map((ex) => [ex.line, ex] as const))('runs sdk/python/README.md example at line %i', async ([, ex], ctx) => {
    if (ex.needs && missing[ex.needs]) return ctx.skip(`${ex.needs}: ${missing[ex.needs]}`);
    const file = path.join(work, `example-${ex.line}.py`);
    fs.writeFileSync(file, `${pythonSetup!.code}\n${ex.code}\n`);
    const run = await runProcess('/usr/bin/python3', [file], {
      env: { PYTHONPATH: path.join(repoRoot, 'sdk/python/src'), CRUCIBLE_URL: server.url, CRUCIBLE_API_KEY: '', PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(run.code, run.output).toBe(0);
  });

  const typescriptExamples = typescript.slice(1);
  it.for(typescriptExamples.map((ex, i) => [ex.line, ex, i + 1] as const))('runs sdk/typescript/README.md example at line %i', async ([, ex, n], ctx) => {
    if (ex.needs && missing[ex.needs]) return ctx.skip(`${ex.needs}: ${missing[ex.needs]}`);
    const run = await runProcess(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join(work, `example-${n}.mts`)], {
      cwd: work,
      env: { CRUCIBLE_URL: server.url, CRUCIBLE_API_KEY: '' },
    });
    expect(run.code, run.output).toBe(0);
  });
});
