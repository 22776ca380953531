/**
 * GET /metrics on a real embedded server after real evaluations, and a scale-out worker's own
 * metrics endpoint: the series, their label values, and that no evaluation id ever becomes a label.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import type { StatsResponse } from '../../src/domain/system-views.js';
import { find, scrape, total, type Sample } from '../helpers/prometheus-text.js';
import { freePort, startTestServer, api, waitFor } from '../helpers/server.js';
import { ScaleOutDeployment, submit, waitAllTerminal } from '../helpers/scale-out.js';

const kind = { environment: 'python', sandbox: 'bubblewrap' };

describe('GET /metrics on the API (embedded)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let ids: string[] = [];
  let samples: Sample[] = [];
  let text = '';
  let contentType: string | null = null;

  beforeAll(async () => {
    server = await startTestServer({ workers: 2 });
    const run = async (body: Record<string, unknown>) => (await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', body)).body;
    const results = await Promise.all([
      run({ code: 'print("ok")' }),
      run({ code: 'import sys; sys.exit(3)' }),
      run({ code: 'while True: pass', timeout_s: 1 }),
    ]);
    ids = results.map((e) => e.id);
    expect(results.map((e) => e.status)).toEqual(['completed', 'failed', 'timeout']);
    await api(server.url, 'GET', `/api/evaluations/${ids[0]}`);
    await api(server.url, 'GET', '/no/such/path/abc123');
    ({ samples, text, contentType } = await scrape(`${server.url}/metrics`));
  });
  afterAll(async () => server?.stop());

  it('is Prometheus text', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE crucible_evaluations_finished_total counter');
    expect(text).toContain('# TYPE crucible_queue_wait_seconds histogram');
  });

  it('counts submissions and endings by status, reason, environment and sandbox', () => {
    expect(total(samples, 'crucible_evaluations_submitted_total', kind)).toBe(3);
    expect(total(samples, 'crucible_evaluations_finished_total', { ...kind, status: 'completed', reason: 'exit_zero' })).toBe(1);
    expect(total(samples, 'crucible_evaluations_finished_total', { ...kind, status: 'failed', reason: 'exit_nonzero' })).toBe(1);
    expect(total(samples, 'crucible_evaluations_finished_total', { ...kind, status: 'timeout', reason: 'timeout' })).toBe(1);
  });

  it('has histograms of queue wait, sandbox start, run and end-to-end time', () => {
    expect(total(samples, 'crucible_queue_wait_seconds_count', kind)).toBe(3);
    expect(total(samples, 'crucible_sandbox_start_seconds_count', { sandbox: 'bubblewrap', outcome: 'ok' })).toBe(3);
    expect(total(samples, 'crucible_run_seconds_count', kind)).toBe(3);
    // The timed-out program ran for about its 1 s limit.
    expect(total(samples, 'crucible_run_seconds_sum', { ...kind, status: 'timeout' })).toBeGreaterThanOrEqual(0.9);
    expect(total(samples, 'crucible_end_to_end_seconds_count', kind)).toBe(3);
    expect(find(samples, 'crucible_end_to_end_seconds_bucket', { ...kind, status: 'completed', le: '+Inf' })[0]?.value).toBe(1);
  });

  it('has queue, worker and sandbox gauges read at scrape time', () => {
    expect(find(samples, 'crucible_queue_waiting', { environment: 'python' })[0]?.value).toBe(0);
    expect(find(samples, 'crucible_queue_oldest_age_seconds', { environment: 'python' })[0]?.value).toBe(0);
    expect(find(samples, 'crucible_workers', { environment: 'python', alive: 'true' })[0]?.value).toBe(1);
    expect(find(samples, 'crucible_workers', { environment: 'python', alive: 'false' })[0]?.value).toBe(0);
    expect(find(samples, 'crucible_sandboxes_busy')[0]?.value).toBe(0);
    expect(find(samples, 'crucible_sandboxes_warm', { sandbox: 'bubblewrap' })).toHaveLength(1);
    expect(find(samples, 'crucible_event_streams_open')[0]?.value).toBe(0);
  });

  it('labels HTTP requests by route pattern and status, never by raw URL', () => {
    expect(total(samples, 'crucible_http_request_duration_seconds_count', { method: 'GET', route: '/api/evaluations/:id', status_code: '200' })).toBe(1);
    expect(total(samples, 'crucible_http_request_duration_seconds_count', { method: 'POST', route: '/api/evaluations', status_code: '200' })).toBe(3);
    expect(total(samples, 'crucible_http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).toBe(1);
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    for (const id of ids) expect(labelValues.some((v) => v.includes(id))).toBe(false);
    expect(labelValues.some((v) => v.includes('abc123'))).toBe(false);
  });

  it('measures storage queries and the process', () => {
    expect(total(samples, 'crucible_storage_query_duration_seconds_count', { operation: 'select' })).toBeGreaterThan(0);
    expect(total(samples, 'crucible_storage_query_duration_seconds_count', { operation: 'update' })).toBeGreaterThan(0);
    expect(total(samples, 'crucible_storage_errors_total')).toBe(0);
    expect(find(samples, 'process_resident_memory_bytes')[0]?.value).toBeGreaterThan(10_000_000);
    expect(find(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it('GET /api/stats gives queue-wait and run-time percentiles from the same timestamps', async () => {
    const stats = await api<StatsResponse>(server.url, 'GET', '/api/stats?minutes=5&bucket_s=60');
    const { latency } = stats.body;
    expect(latency).toMatchObject({ count: 3, sampled: false });
    expect(latency.by_sandbox.bubblewrap!.count).toBe(3);
    expect(latency.by_environment.python!.count).toBe(3);
    // Nearest rank: with three runs the p95 is the longest, the timed-out one (started → finished).
    const all = await Promise.all(ids.map(async (id) => (await api<Evaluation>(server.url, 'GET', `/api/evaluations/${id}`)).body));
    const runMs = all.map((e) => Date.parse(e.finished_at!) - Date.parse(e.started_at!)).sort((a, b) => a - b);
    expect(latency.run_ms).toEqual({ p50: runMs[1], p95: runMs[2] });
    // The histogram's sum is over the same numbers.
    expect(total(samples, 'crucible_run_seconds_sum', kind) * 1000).toBeCloseTo(runMs[0]! + runMs[1]! + runMs[2]!, -1);
    const waitMs = all.map((e) => Date.parse(e.started_at!) - Date.parse(e.created_at)).sort((a, b) => a - b);
    expect(latency.queue_wait_ms).toEqual({ p50: waitMs[1], p95: waitMs[2] });
    expect(total(samples, 'crucible_queue_wait_seconds_sum', kind) * 1000).toBeCloseTo(waitMs[0]! + waitMs[1]! + waitMs[2]!, -1);
  });

  it('counts open event streams while they are open', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/evaluations/${ids[0]}/events`, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    // A finished evaluation's stream replays and ends; the global feed stays open.
    const feed = await fetch(`${server.url}/api/events`, { signal: controller.signal });
    expect(feed.status).toBe(200);
    const open = await waitFor('one open stream', async () => {
      const { samples: now } = await scrape(`${server.url}/metrics`);
      return find(now, 'crucible_event_streams_open')[0]?.value === 1 && now;
    });
    expect(find(open, 'crucible_event_streams_open')[0]?.value).toBe(1);
    controller.abort();
    await waitFor('streams closed', async () => find((await scrape(`${server.url}/metrics`)).samples, 'crucible_event_streams_open')[0]?.value === 0);
  });
});

describe('a scale-out worker serves its own /metrics', () => {
  const deployment = new ScaleOutDeployment();
  afterAll(() => deployment.cleanup());

  it('on --metrics-port (127.0.0.1 by default), with its runs and sandboxes', async () => {
    const apiServer = await deployment.startApi();
    const port = await freePort();
    await deployment.startWorker({ concurrency: 1, env: { CRUCIBLE_METRICS_PORT: String(port) } });
    const e = await submit(apiServer.url, { code: 'print(1)' });
    const [done] = await waitAllTerminal(apiServer.url, [e.id], 30_000);
    expect(done!.status).toBe('completed');

    const worker = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(total(worker.samples, 'crucible_evaluations_finished_total', { ...kind, status: 'completed' })).toBe(1);
    expect(total(worker.samples, 'crucible_sandbox_start_seconds_count', { sandbox: 'bubblewrap', outcome: 'ok' })).toBe(1);
    expect(find(worker.samples, 'crucible_sandboxes_busy')[0]?.value).toBe(0);
    expect(total(worker.samples, 'crucible_storage_query_duration_seconds_count')).toBeGreaterThan(0);
    // Queue and worker gauges come from the API instances only (one source of truth per deployment).
    expect(find(worker.samples, 'crucible_queue_waiting')).toHaveLength(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const apiMetrics = await scrape(`${apiServer.url}/metrics`);
    expect(total(apiMetrics.samples, 'crucible_evaluations_submitted_total', kind)).toBe(1);
    expect(find(apiMetrics.samples, 'crucible_workers', { environment: 'python', alive: 'true' })[0]?.value).toBe(1);
  });
});
