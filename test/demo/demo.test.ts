/**
 * The demo suite as an integration test: every scenario (normal programs, limits, attacks) runs
 * against a real server with the real sandbox and must behave exactly as documented.
 */
import { describe, expect, it } from 'vitest';
import { formatResult } from '../../src/demo/report.js';
import { runDemo } from '../../src/demo/runner.js';
import { scenarios } from '../../src/demo/scenarios/index.js';

describe('crucible demo', () => {
  it('every scenario behaves as documented', async () => {
    const report = await runDemo({ start: true, scenarioTimeoutMs: 45_000 });
    const failed = report.results.filter((r) => !r.ok).map((r) => formatResult(r, true));
    expect(failed, failed.join('\n')).toEqual([]);
    expect(report.results.map((r) => r.scenario.name).sort()).toEqual(scenarios.map((s) => s.name).sort());
    // Every submission carried its demo tag (what `crucible list --tag demo:<name>` finds).
    for (const r of report.results) expect(r.run?.evaluation.tags).toContain(`demo:${r.scenario.name}`);
  }, 60_000);

  it('rejects unknown scenario names before starting anything', async () => {
    await expect(runDemo({ start: true, only: ['no-such-scenario'] })).rejects.toThrow(/unknown scenario/);
  });
});
