/**
 * deploy/grafana/crucible.json (and the alert rules) name only metrics a live Crucible really
 * exports: every PromQL expression's metric names are compared with a /metrics scrape of a real
 * server that has run evaluations (so every histogram and labelled counter has appeared).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployDir } from '../helpers/ops-tools.js';
import { exportedMetricNames } from '../helpers/prometheus-text.js';
import { metricNames } from '../helpers/promql-names.js';

interface Panel {
  title?: string;
  type: string;
  targets?: Array<{ expr: string }>;
}

const dashboard = JSON.parse(fs.readFileSync(path.join(deployDir, 'grafana/crucible.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: Array<{ query?: { query: string } | string }> };
};
const expressions = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
const alertExpressions = [...fs.readFileSync(path.join(deployDir, 'prometheus/alerts.yml'), 'utf8').matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map(
  (m, i) => ({
    where: `alert rule ${i + 1}`,
    expr: m[1]!.replace(/^\|/, ''),
  }),
);
/** Series Prometheus itself adds for every target. */
const PROMETHEUS_OWN = new Set(['up']);

describe('metrics named by the dashboard and the alerts exist', () => {
  let exported = new Set<string>();
  beforeAll(async () => {
    exported = (await exportedMetricNames()).all;
  });

  it('the PromQL name extraction works on the shapes we use', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, sandbox) (rate(crucible_run_seconds_bucket{status!="ok",x=~"$y"}[$__rate_interval])))')).toEqual([
      'crucible_run_seconds_bucket',
    ]);
    expect(metricNames('sum(a_total{r="x"}) / sum by (s) (rate(b_total[5m])) > 0.05')).toEqual(['a_total', 'b_total']);
    expect(metricNames('max by (instance) (process_resident_memory_bytes) / 1e9')).toEqual(['process_resident_memory_bytes']);
  });

  it('the dashboard has the panels the issue asks for', () => {
    const titles = dashboard.panels.map((p) => p.title ?? '').join('\n');
    for (const topic of [/Finished evaluations/, /Failure reasons/, /Queue wait/, /Run time/, /Waiting per environment/, /Workers/, /sandboxes/i])
      expect(titles).toMatch(topic);
    expect(expressions.length).toBeGreaterThan(20);
  });

  it('every dashboard expression reads only exported metrics', () => {
    const missing = expressions.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((n) => !exported.has(n) && !PROMETHEUS_OWN.has(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(missing).toEqual([]);
    for (const { expr } of expressions) expect(metricNames(expr).length, expr).toBeGreaterThan(0);
  });

  it('every alert expression reads only exported metrics', () => {
    expect(alertExpressions.length).toBeGreaterThanOrEqual(7);
    const missing = alertExpressions.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((n) => !exported.has(n) && !PROMETHEUS_OWN.has(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(missing).toEqual([]);
  });

  it('the environment variable is filled from an exported metric', () => {
    const variable = dashboard.templating.list.find((v) => typeof v.query === 'object');
    const query = (variable!.query as { query: string }).query;
    expect(exported.has(/label_values\((\w+),/.exec(query)![1]!)).toBe(true);
  });
});
