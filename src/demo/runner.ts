/**
 * Runs the demo scenarios against a Crucible server (a given URL, or one started in this process
 * on a free loopback port with a temporary data directory): submits every scenario tagged
 * `demo:<name>`, follows each over SSE (timing the stdout events), reads the final evaluation,
 * observes the host, and checks every expectation.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../main/config.js';
import { startServer, type RunningServer } from '../main/roles.js';
import { CrucibleClient } from '../client/index.js';
import type { Environment } from '../domain/evaluation.js';
import { HostProbes } from './host.js';
import { scenarios as allScenarios } from './scenarios/index.js';
import type { Scenario, ScenarioResult } from './types.js';

export interface DemoOptions {
  /** URL of a running server; ignored with `start`. */
  server?: string;
  /** Start a server in this process (temporary data directory, removed afterwards). */
  start?: boolean;
  /** Scenario names to run (default all). */
  only?: string[];
  /** The data directory of the server to probe for (default: the started server's, or ./.crucible). */
  dataDir?: string;
  /** Limit on one scenario, submission to verdict. */
  scenarioTimeoutMs?: number;
  /** Called as each scenario finishes (progress). */
  onResult?: (result: ScenarioResult) => void;
}

export interface DemoReport {
  server: string;
  startedServer: boolean;
  results: ScenarioResult[];
  ok: boolean;
  durationMs: number;
}

/** Set in the started server's environment; a sandboxed program must not be able to read it. */
const CANARY_ENV = 'CRUCIBLE_DEMO_SERVER_SECRET';

export function selectScenarios(only?: string[]): Scenario[] {
  if (!only?.length) return allScenarios;
  const unknown = only.filter((n) => !allScenarios.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${allScenarios.map((s) => s.name).join(', ')}`);
  return allScenarios.filter((s) => only.includes(s.name));
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const selected = selectScenarios(options.only);
  const t0 = performance.now();
  let server: RunningServer | null = null;
  let tempDir: string | null = null;
  let probes: HostProbes | null = null;
  try {
    let url = options.server ?? 'http://127.0.0.1:8080';
    let dataDir = path.resolve(options.dataDir ?? '.crucible');
    if (options.start) {
      tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crucible-demo-'));
      dataDir = options.dataDir ?? tempDir;
      process.env[CANARY_ENV] = `secret-${randomBytes(8).toString('hex')}`;
      server = await startServer(resolveConfig({ dataDir: tempDir, logLevel: 'warn', sandboxes: ['bubblewrap'] }), { host: '127.0.0.1', port: 0 });
      url = server.url;
    }
    probes = await HostProbes.open(dataDir, CANARY_ENV);
    const client = new CrucibleClient(url);
    const probe = probes;
    const unserved = await unservedEnvironments(client, selected);
    const results = await Promise.all(
      selected.map(async (scenario) => {
        const skipped = scenario.environment && unserved.get(scenario.environment);
        const result = skipped
          ? { scenario, run: null, failures: [], skipped, ok: true }
          : await runScenario(client, scenario, probe, options.scenarioTimeoutMs ?? 90_000);
        options.onResult?.(result);
        return result;
      }),
    );
    return { server: url, startedServer: Boolean(server), results, ok: results.every((r) => r.ok), durationMs: performance.now() - t0 };
  } finally {
    await probes?.close();
    if (server) {
      await server.stop();
      delete process.env[CANARY_ENV];
    }
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * Why each environment the scenarios need cannot run on this server: no live worker serves it (a
 * submission would wait in the queue until one does). Read once, before anything is submitted.
 */
async function unservedEnvironments(client: CrucibleClient, scenarios: Scenario[]): Promise<Map<Environment, string>> {
  const needed = new Set(scenarios.flatMap((s) => (s.environment ? [s.environment] : [])));
  const unserved = new Map<Environment, string>();
  if (!needed.size) return unserved;
  for (const env of (await client.environments()).items) {
    if (needed.has(env.name) && env.workers.length === 0)
      unserved.set(env.name, `no worker serves the ${env.name} environment (build it: ${env.build_command})`);
  }
  return unserved;
}

async function runScenario(client: CrucibleClient, scenario: Scenario, probes: HostProbes, timeoutMs: number): Promise<ScenarioResult> {
  const abort = AbortSignal.timeout(timeoutMs);
  try {
    const t0 = performance.now();
    const created = await client.submit({
      ...scenario.request(probes.host),
      ...(scenario.environment ? { environment: scenario.environment } : {}),
      tags: ['demo', `demo:${scenario.name}`],
      metadata: { demo: scenario.name },
    });
    const stdoutArrivalsMs: number[] = [];
    const stdoutEmittedAtMs: number[] = [];
    for await (const event of client.events(created.id, { signal: abort })) {
      if (event.type !== 'stdout') continue;
      stdoutArrivalsMs.push(performance.now() - t0);
      stdoutEmittedAtMs.push(Date.parse(event.at));
    }
    const evaluation = await client.get(created.id);
    const run = {
      evaluation,
      stdoutArrivalsMs,
      stdoutEmittedAtMs,
      host: await probes.observe(client.baseUrl),
      artifacts: await client.artifacts(created.id),
      artifactBytes: (path: string) => client.artifact(created.id, path, { signal: abort }),
    };
    const failures = await scenario.check(run, probes.host);
    return { scenario, run, failures, ok: failures.length === 0 };
  } catch (err) {
    const why = abort.aborted ? `no verdict within ${timeoutMs} ms` : err instanceof Error ? err.message : String(err);
    return { scenario, run: null, failures: [`could not run: ${why}`], ok: false };
  }
}
