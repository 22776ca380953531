/** `crucible demo`: run the curated scenarios and report expected vs actual; non-zero if any misbehaved. */
import type { Command } from 'commander';
import { formatResult, formatSummary } from '../../demo/report.js';
import { runDemo, selectScenarios } from '../../demo/runner.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the demo scenarios (normal programs, limits, environments and attacks) against a server and check each behaved as documented')
    .option('--start', 'start a temporary server in this process instead of using --server')
    .option('--only <names>', 'comma-separated scenario names')
    .option('--list', 'list the scenarios and exit')
    .option('--probe-data-dir <dir>', "the server's data directory, which the filesystem attack tries to read (default ./.crucible, or the started server's)")
    .option('--no-evidence', "don't print the attack programs' output")
    .option('--json', 'print the results as JSON')
    .action(async (flags: { start?: boolean; only?: string; list?: boolean; probeDataDir?: string; evidence: boolean; json?: boolean }, cmd: Command) => {
      try {
        const only = flags.only?.split(',').filter(Boolean);
        if (flags.list) {
          for (const s of selectScenarios(only)) process.stdout.write(`${s.name.padEnd(22)} ${s.kind.padEnd(11)} ${s.expected}\n`);
          return;
        }
        const { server } = cmd.optsWithGlobals<{ server: string }>();
        const report = await runDemo({
          server,
          start: flags.start,
          only,
          dataDir: flags.probeDataDir,
          onResult: flags.json ? undefined : (r) => process.stdout.write(`${formatResult(r, flags.evidence)}\n`),
        });
        if (flags.json) {
          const results = report.results.map((r) => ({
            name: r.scenario.name,
            ok: r.ok,
            failures: r.failures,
            evaluation: r.run?.evaluation ?? null,
            host: r.run?.host ?? null,
          }));
          process.stdout.write(`${JSON.stringify({ ...report, results }, null, 2)}\n`);
        } else process.stdout.write(`\n${formatSummary(report)}\n`);
        process.exitCode = report.ok ? 0 : 1;
      } catch (err) {
        process.stderr.write(`crucible demo: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 2;
      }
    });
}
