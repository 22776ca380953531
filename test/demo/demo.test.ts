/**
 * The demo suite as an integration test: every scenario (normal programs, limits, environments,
 * attacks) runs against a real server with the real sandbox and must behave exactly as
 * documented. A scenario whose environment is not built on this host is skipped by the demo
 * itself, saying how to build it.
 */
import { describe, expect, it } from 'vitest';
import { formatResult, formatSummary } from '../../src/demo/report.js';
import { runDemo } from '../../src/demo/runner.js';
import { scenarios } from '../../src/demo/scenarios/index.js';
import { rootfsResolver } from '../../src/sandbox/environments/rootfs.js';

const builtHere = rootfsResolver();

describe('crucible demo', () => {
  it('every scenario behaves as documented; those whose environment is not built are skipped saying how to build it', async () => {
    // Every scenario is submitted at once; the later ones wait in the queue behind the python-data
    // imports, so each gets the demo's own limit (submission to verdict) rather than a tight one.
    const report = await runDemo({ start: true, scenarioTimeoutMs: 90_000 });
    const failed = report.results.filter((r) => !r.ok).map((r) => formatResult(r, true));
    expect(failed, failed.join('\n')).toEqual([]);
    expect(report.results.map((r) => r.scenario.name).sort()).toEqual(scenarios.map((s) => s.name).sort());
    for (const r of report.results) {
      const environment = r.scenario.environment;
      if (environment && !builtHere(environment)) {
        expect(r.skipped).toContain(`crucible env build ${environment}`);
        expect(formatResult(r, true)).toMatch(new RegExp(`^SKIP  ${r.scenario.name}`));
        continue;
      }
      expect(r.skipped, r.scenario.name).toBeUndefined();
      // Every submission carried its demo tag (what `crucible list --tag demo:<name>` finds).
      expect(r.run?.evaluation.tags).toContain(`demo:${r.scenario.name}`);
    }
    const skipped = report.results.filter((r) => r.skipped).length;
    expect(formatSummary(report)).toContain(`${report.results.length - skipped}/${report.results.length - skipped} scenarios behaved as documented`);
  }, 150_000);

  it('rejects unknown scenario names before starting anything', async () => {
    await expect(runDemo({ start: true, only: ['no-such-scenario'] })).rejects.toThrow(/unknown scenario/);
  });
});
