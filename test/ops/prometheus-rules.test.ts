/** The shipped Prometheus configuration and alert rules: promtool's checks and the rules' unit tests. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployDir, missingTool, tool } from '../helpers/ops-tools.js';

const dir = path.join(deployDir, 'prometheus');
const skip = missingTool('promtool', 'prometheus');

describe.skipIf(skip)(`deploy/prometheus with promtool${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('alerts.yml passes promtool check rules', async () => {
    const r = await tool('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('prometheus.yml (with its rule file) passes promtool check config', async () => {
    const r = await tool('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('the alerts fire (and stay quiet) as alerts.test.yml expects', async () => {
    const r = await tool('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
  });

  it('every alert is unit-tested', async () => {
    const { readFileSync } = await import('node:fs');
    const alerts = [...readFileSync(path.join(dir, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tested = new Set([...readFileSync(path.join(dir, 'alerts.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });
});
