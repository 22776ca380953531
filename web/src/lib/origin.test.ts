import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../../../src/domain/evaluation';
import { programText } from './compare';
import { evaluationToDraft, originOf, rerunRequest } from './draft-request';

const base = {
  id: 'ev_B',
  code: 'print(1)\n',
  files: [],
  entrypoint: 'main.py',
  command: null,
  name: 'run b',
  stdin: null,
  stdin_base64: null,
  environment: 'python',
  sandbox: 'bubblewrap',
  tags: ['sweep'],
  metadata: { model: 'm', forked_from: 'ev_A', rerun_of: 'ev_X' },
  limits: { timeout_s: 5, memory_mb: 64, cpus: 1, max_processes: 8, max_output_bytes: 1024, scratch_mb: 8, max_artifacts: 1, max_artifact_bytes: 1024 },
} as unknown as Evaluation;

describe('where a run came from', () => {
  it('a fork records the run it was forked from, not the origin that run had', () => {
    const draft = evaluationToDraft(base);
    expect(draft.metadata).toEqual([
      { key: 'model', value: 'm' },
      { key: 'forked_from', value: 'ev_B' },
    ]);
  });

  it('a re-run keeps program, settings, tags and name, and records what it re-runs', () => {
    const req = rerunRequest(base);
    expect(req).toMatchObject({ code: 'print(1)\n', name: 'run b', tags: ['sweep'], timeout_s: 5, memory_mb: 64 });
    expect(req.metadata).toEqual({ model: 'm', rerun_of: 'ev_B' });
  });

  it('reads the origin from the metadata, a fork before a re-run', () => {
    expect(originOf(base)).toEqual({ kind: 'fork', id: 'ev_A' });
    expect(originOf({ metadata: { rerun_of: 'ev_X' } })).toEqual({ kind: 'rerun', id: 'ev_X' });
    expect(originOf({ metadata: { forked_from: 7 } })).toBeNull();
  });
});

describe('programText', () => {
  it('joins main.py, the files under their paths and what runs, so one diff shows every change', () => {
    const text = programText({
      code: 'import helper',
      files: [
        { path: 'helper.py', content: 'X = 1', encoding: 'utf-8' },
        { path: 'data.bin', content: 'AAAA', encoding: 'base64' },
      ],
      command: null,
      entrypoint: 'main.py',
    } as unknown as Evaluation);
    expect(text).toBe('import helper\n# ── helper.py ──\nX = 1\n# ── data.bin ──\n(binary, 3 bytes)\n# runs: python main.py\n');
  });
});
