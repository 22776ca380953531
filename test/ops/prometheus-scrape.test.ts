/**
 * A real Prometheus scrapes a real Crucible (embedded API + local worker) through the shipped scrape
 * configuration; the series the dashboards and alerts use are read back through its query API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { missingTool } from '../helpers/ops-tools.js';
import { startPrometheus, testConfig, waitForQuery, type PrometheusServer } from '../helpers/prometheus-server.js';
import { ScaleOutDeployment, submit, waitAllTerminal } from '../helpers/scale-out.js';
import { api, freePort, startTestServer } from '../helpers/server.js';

const skip = missingTool('prometheus', 'prometheus');

describe.skipIf(skip)(`a real Prometheus scraping Crucible${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    server = await startTestServer({ workers: 2 });
    prometheus = await startPrometheus(testConfig({ 'crucible-api': [new URL(server.url).host], 'crucible-worker': [] }));
  });
  afterAll(async () => {
    await prometheus?.stop();
    await server?.stop();
  });

  it('reads back evaluations, latencies, queue and workers through PromQL', async () => {
    await waitForQuery(prometheus, 'up{job="crucible-api"}', (v) => v === 1);
    const run = async (code: string) => (await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', { code })).body;
    const done = await Promise.all([run('print(1)'), run('print(2)'), run('import sys; sys.exit(2)')]);
    expect(done.map((e) => e.status)).toEqual(['completed', 'completed', 'failed']);

    await waitForQuery(
      prometheus,
      'sum(crucible_evaluations_finished_total{status="completed",reason="exit_zero",environment="python",sandbox="bubblewrap"})',
      (v) => v === 2,
    );
    await waitForQuery(prometheus, 'sum(crucible_evaluations_finished_total{status="failed",reason="exit_nonzero"})', (v) => v === 1);
    await waitForQuery(prometheus, 'sum(crucible_evaluations_submitted_total{environment="python"})', (v) => v === 3);
    const p95 = await waitForQuery(prometheus, 'histogram_quantile(0.95, sum by (le) (crucible_run_seconds_bucket))', (v) => v > 0 && v < 30);
    expect(p95).toHaveLength(1);
    // python is built wherever a server runs; other environments' series read 0 where they are not.
    await waitForQuery(prometheus, 'max by (environment) (crucible_workers{alive="true",environment="python"})', (v) => v === 1);
    await waitForQuery(prometheus, 'max by (environment) (crucible_queue_waiting)', (v) => v === 0);
    await waitForQuery(prometheus, 'sum(crucible_http_request_duration_seconds_count{route="/api/evaluations",method="POST"})', (v) => v === 3);
    await waitForQuery(prometheus, 'nodejs_eventloop_lag_seconds', (v) => v >= 0);

    // The alert rules loaded and evaluate against these series: healthy, so nothing fires.
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; state: string }> }> };
    };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.name)).toContain('CrucibleNoLiveWorker');
    expect(all.filter((r) => r.state === 'firing').map((r) => r.name)).toEqual([]);
  });
});

describe.skipIf(skip)(`a real Prometheus scraping a scale-out deployment (API and worker jobs)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const deployment = new ScaleOutDeployment();
  let prometheus: PrometheusServer | undefined;
  afterAll(async () => {
    await prometheus?.stop();
    await deployment.cleanup();
  });

  it('scrapes the worker on its --metrics-port and the API on its port, each under its job', async () => {
    const apiServer = await deployment.startApi();
    const metricsPort = await freePort();
    await deployment.startWorker({ concurrency: 1, env: { CRUCIBLE_METRICS_PORT: String(metricsPort) } });
    prometheus = await startPrometheus(testConfig({ 'crucible-api': [new URL(apiServer.url).host], 'crucible-worker': [`127.0.0.1:${metricsPort}`] }));
    await waitForQuery(prometheus, 'sum by (job) (up)', (v) => v === 1);

    const e = await submit(apiServer.url, { code: 'print(1)' });
    expect((await waitAllTerminal(apiServer.url, [e.id], 30_000))[0]!.status).toBe('completed');

    // Runs and sandbox starts are the worker's; submissions and the deployment's gauges the API's.
    await waitForQuery(prometheus, 'sum by (job) (crucible_evaluations_finished_total{status="completed"})', (v) => v === 1);
    expect((await prometheus.query('sum by (job) (crucible_evaluations_finished_total)'))[0]!.metric.job).toBe('crucible-worker');
    await waitForQuery(prometheus, 'sum by (job) (crucible_sandbox_start_seconds_count{job="crucible-worker",outcome="ok"})', (v) => v === 1);
    await waitForQuery(prometheus, 'sum by (job) (crucible_evaluations_submitted_total{job="crucible-api"})', (v) => v === 1);
    await waitForQuery(prometheus, 'max by (job) (crucible_workers{alive="true",environment="python"})', (v) => v === 1);
    expect((await prometheus.query('max by (job) (crucible_workers)'))[0]!.metric.job).toBe('crucible-api');
  });
});
