/**
 * The cheap reads harnesses poll, compared between two builds in one run: server CPU and storage
 * statements per 1000 GETs of a small finished evaluation (its JSON, its raw /stdout) and of a
 * list by tag, for a server of each build (embedded mode, one worker), rounds interleaved A/B/B/A
 * so the machine's load falls on both alike.
 *
 *   npm run build && tsx bench/reads-ab.ts --baseline /path/to/other/checkout/dist/cli/main.js
 *
 * Prints one line per read and build (median of the rounds) with the load average.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { api } from '../test/helpers/server.js';
import { queryCounts } from './lib/query-counts.js';
import { startBenchServer, type BenchServer } from './lib/server.js';
import { percentile, round } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    gets: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '6' },
  },
});
if (!args.baseline) throw new Error('--baseline <dist/cli/main.js of the build to compare with> is required');
const GETS = Number(args.gets);
const ROUNDS = Number(args.rounds);
/** Requests in flight at once, as a harness polling several evaluations would have. */
const CONCURRENCY = 4;
const TAG = 'bench:reads';

interface Target {
  name: string;
  server: BenchServer;
  paths: Record<string, string>;
}

async function prepare(name: string, cli?: string): Promise<Target> {
  const server = await startBenchServer(['--workers', '1'], cli ? { cli } : {});
  let id = '';
  for (let i = 0; i < 20; i++) {
    const r = await api<{ id: string; status: string }>(server.url, 'POST', '/api/evaluations?wait=true', {
      code: 'import sys\nprint("hello", 42)\nsys.stderr.write("warning\\n")',
      tags: [TAG],
    });
    if (r.status !== 200) throw new Error(`${name}: submit answered ${r.status}`);
    id = r.body.id;
  }
  return {
    name,
    server,
    paths: {
      'GET evaluation': `/api/evaluations/${id}`,
      'GET /stdout': `/api/evaluations/${id}/stdout`,
      'GET list by tag': `/api/evaluations?tags=${TAG}&limit=20`,
    },
  };
}

async function gets(url: string, n: number): Promise<void> {
  let left = n;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) {
        const res = await fetch(url);
        if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
}

async function measure(target: Target, path: string): Promise<{ cpuMs: number; statements: number; ms: number }> {
  const url = `${target.server.url}${path}`;
  const queries = await queryCounts(target.server.url);
  const cpu = target.server.cpuMs();
  const t = performance.now();
  await gets(url, GETS);
  const ms = performance.now() - t;
  const cpuMs = target.server.cpuMs() - cpu;
  const statements = (await queryCounts(target.server.url)).statements - queries.statements;
  return { cpuMs, statements, ms };
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const targets = [await prepare('A (baseline)', args.baseline), await prepare('B (this build)')];
try {
  const results = new Map<string, { cpuMs: number[]; statements: number[]; ms: number[] }>();
  for (const target of targets) for (const path of Object.values(target.paths)) await gets(`${target.server.url}${path}`, 200); // warm-up
  const loads: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const read of Object.keys(targets[0]!.paths)) {
      for (const target of order) {
        const m = await measure(target, target.paths[read]!);
        const key = `${read} | ${target.name}`;
        const entry = results.get(key) ?? { cpuMs: [], statements: [], ms: [] };
        entry.cpuMs.push(m.cpuMs);
        entry.statements.push(m.statements / GETS);
        entry.ms.push(m.ms);
        results.set(key, entry);
      }
    }
    loads.push(os.loadavg()[0]!);
  }
  console.log(
    `${ROUNDS} rounds of ${GETS} GETs per read and build (${CONCURRENCY} in flight), interleaved; load average (1 min) per round: ${loads.map((l) => round(l, 1)).join(' ')}`,
  );
  console.log('read | build | server CPU ms per 1000 GETs (median; min–max) | statements per GET (median) | wall ms per 1000 GETs (median)');
  for (const [key, v] of results) {
    const per1000 = v.cpuMs.map((c) => (c * 1000) / GETS);
    console.log(
      `${key} | ${round(median(per1000))} (${round(Math.min(...per1000))}–${round(Math.max(...per1000))}) | ${round(median(v.statements), 2)} | ${round((median(v.ms) * 1000) / GETS)}`,
    );
  }
} finally {
  for (const target of targets) await target.server.stop();
}
