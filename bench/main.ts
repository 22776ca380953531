/**
 * `npm run bench`: every benchmark of the platform, each figure next to its baseline measured in
 * the same run. Prints a table and writes bench-results/latest.{json,md,svg}.
 *
 *   npm run bench                                   # everything (~7 minutes on 2 cores)
 *   npm run bench -- --only humaneval,latency       # some sections
 *   npm run bench -- --quick                        # small counts, for development
 *   npm run bench -- --no-postgres --out DIR
 *   npm run bench -- --only soak --soak-minutes 10  # a longer soak (default 5 minutes)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { environmentsBench } from './environments.js';
import { hotPathBench } from './hot-path.js';
import { humanevalBench } from './humaneval.js';
import { latencyBench } from './latency.js';
import { loadBench } from './load.js';
import { outputMemoryBench } from './output-memory.js';
import { overflowBench } from './overflow.js';
import { markdownTable, svgChart, textTable } from './lib/report.js';
import type { Section } from './lib/section.js';
import { sandboxSection } from './sandbox-section.js';
import { sessionsBench } from './sessions-section.js';
import { scaleBench } from './scale.js';
import { serverCpuBench } from './server-cpu.js';
import { scaleOutBench } from './scale-out.js';
import { soakBench } from './soak.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    'soak-minutes': { type: 'string' },
    out: { type: 'string', default: path.resolve(import.meta.dirname, '../bench-results') },
  },
});
const quick = args.quick;

const BENCHES: Record<string, () => Promise<Section>> = {
  sandbox: () => sandboxSection({ runs: quick ? 10 : 40 }),
  environments: () => environmentsBench({ runs: quick ? 5 : 20, importRuns: quick ? 3 : 5, workload: quick ? 12 : 40 }),
  'hot-path': () => hotPathBench({ evaluations: quick ? 100 : 500, postgres: !args['no-postgres'] }),
  'server-cpu': () => serverCpuBench({ evaluations: quick ? 100 : 300 }),
  humaneval: () => humanevalBench({ rounds: quick ? 1 : 2, limit: quick ? 20 : undefined }),
  latency: () => latencyBench({ requests: quick ? 30 : 200 }),
  load: () =>
    loadBench({
      levels: quick
        ? [{ submitters: 10, each: 3 }]
        : [
            { submitters: 10, each: 20 },
            { submitters: 50, each: 6 },
            { submitters: 100, each: 4 },
          ],
    }),
  'output-memory': () => outputMemoryBench(),
  overflow: () => overflowBench({ depth: quick ? 10 : 50, submissions: quick ? 30 : 200 }),
  sessions: () => sessionsBench(quick ? { execs: 30, starts: 5, fileReps: 2, budgetS: 30 } : { execs: 300, starts: 20, fileReps: 5, budgetS: 90 }),
  scale: () => scaleBench({ rows: quick ? 10_000 : 100_000, baselineRows: 1_000, postgres: !args['no-postgres'] }),
  'scale-out': () => scaleOutBench(quick ? { latencyRuns: 5, batch: 10 } : { latencyRuns: 15, batch: 40 }),
  soak: () => soakBench({ minutes: Number(args['soak-minutes'] ?? (quick ? 1 : 5)) }),
};

const selected = args.only
  ? args.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : Object.keys(BENCHES);
const unknown = selected.filter((s) => !(s in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

const machine = {
  cpus: os.availableParallelism(),
  cpu_model: os.cpus()[0]?.model ?? 'unknown',
  memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  kernel: os.release(),
  os: fs.existsSync('/etc/debian_version') ? `Debian ${fs.readFileSync('/etc/debian_version', 'utf8').trim()}` : os.platform(),
  node: process.version,
  load_average_at_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
};
const startedAt = new Date();
const t0 = performance.now();
console.log(
  `Crucible benchmarks: ${selected.join(', ')}${quick ? ' (quick)' : ''} on ${machine.cpus} × ${machine.cpu_model}, ${machine.os}, load ${machine.load_average_at_start.join(' ')}`,
);

const sections: Section[] = [];
const failures: string[] = [];
for (const name of selected) {
  const t = performance.now();
  process.stdout.write(`\n▶ ${name} … `);
  try {
    const section = await BENCHES[name]!();
    sections.push(section);
    console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);
    console.log(textTable([section]));
  } catch (err) {
    failures.push(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    console.log(`FAILED\n  ${err instanceof Error ? err.message : String(err)}`);
  }
}

const durationS = Math.round((performance.now() - t0) / 100) / 10;
fs.mkdirSync(args.out, { recursive: true });
const result = { started_at: startedAt.toISOString(), duration_s: durationS, quick, machine, selected, sections, failures };
fs.writeFileSync(path.join(args.out, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
fs.writeFileSync(
  path.join(args.out, 'latest.md'),
  `Measured ${startedAt.toISOString()} on ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gib} GiB, ${machine.os}, kernel ${machine.kernel}, Node ${machine.node} (${durationS} s).\n\n${markdownTable(sections)}\n`,
);
fs.writeFileSync(
  path.join(args.out, 'latest.svg'),
  svgChart(sections, `Crucible vs baseline, same run (${startedAt.toISOString().slice(0, 10)}, ${machine.cpus} cores)`),
);
console.log(`\nAll sections in ${durationS} s. Results: ${path.relative(process.cwd(), args.out) || '.'}/latest.{json,md,svg}`);
if (failures.length) {
  console.error(`\n${failures.length} benchmark(s) failed:\n${failures.join('\n')}`);
  process.exitCode = 1;
}
