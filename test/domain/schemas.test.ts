import { describe, expect, it } from 'vitest';
import { CreateEvaluationRequest, ListEvaluationsQuery } from '../../src/domain/evaluation.js';
import { DEFAULT_LIMITS, LIMIT_BOUNDS } from '../../src/domain/limits.js';

describe('request schemas', () => {
  it('fills defaults', () => {
    const r = CreateEvaluationRequest.parse({ code: 'print(1)' });
    expect(r).toMatchObject({ environment: 'python', sandbox: 'bubblewrap', tags: [], metadata: {} });
  });

  it('rejects limits outside their bounds with a message naming the bound', () => {
    const r = CreateEvaluationRequest.safeParse({ code: 'x', timeout_s: LIMIT_BOUNDS.timeout_s.max + 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe(`timeout_s must be at most ${LIMIT_BOUNDS.timeout_s.max} s`);
  });

  it('rejects unknown fields, empty code and bad tags', () => {
    expect(CreateEvaluationRequest.safeParse({ code: 'x', timeout: 3 }).success).toBe(false);
    expect(CreateEvaluationRequest.safeParse({ code: '' }).success).toBe(false);
    expect(CreateEvaluationRequest.safeParse({ code: 'x', tags: ['has space'] }).success).toBe(false);
    expect(CreateEvaluationRequest.safeParse({ code: 'x', memory_mb: 1.5 }).success).toBe(false);
  });

  it('parses list filters', () => {
    expect(ListEvaluationsQuery.parse({ status: 'completed,failed', tags: 'a,b', limit: '10' })).toMatchObject({
      status: ['completed', 'failed'],
      tags: ['a', 'b'],
      limit: 10,
    });
    expect(ListEvaluationsQuery.safeParse({ status: 'done' }).success).toBe(false);
  });

  it('has consistent defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({
      timeout_s: 30,
      memory_mb: 512,
      cpus: 1,
      max_processes: 64,
      max_output_bytes: 1_048_576,
      scratch_mb: 64,
      max_artifacts: 20,
      max_artifact_bytes: 16_777_216,
    });
  });
});
