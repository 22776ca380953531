/** `crucible run | status | list | cancel`: talk to a running server over its HTTP API. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { isTerminal, type CreateEvaluationInput, type EvaluationStatus } from '../../domain/evaluation.js';
import { ApiError, CrucibleClient } from '../../client/index.js';
import { cliExitCode, summaryRow, verdictLine } from '../../client/terminal-format.js';
import { Spinner } from '../spinner.js';
import { artifactTarget, programFromPaths, readSource } from '../program-files.js';

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got "${v}"`);
  return n;
};
const collect = (v: string, all: string[]) => [...all, v];

function client(cmd: Command): CrucibleClient {
  const opts = cmd.optsWithGlobals<{ server: string }>();
  return new CrucibleClient(opts.server, { apiKey: process.env.CRUCIBLE_API_KEY || undefined });
}

function reportAndExit(err: unknown): never {
  if (err instanceof ApiError) {
    process.stderr.write(`crucible: ${err.message}${err.code && err.status ? ` (${err.code}, HTTP ${err.status})` : ''}\n`);
    if (err.code === 'unreachable') process.stderr.write('  is `crucible serve` running? (set --server or CRUCIBLE_URL)\n');
    if (Array.isArray(err.details))
      for (const d of err.details as Array<{ path?: string[]; message?: string }>) process.stderr.write(`  - ${(d.path ?? []).join('.')}: ${d.message}\n`);
  } else {
    process.stderr.write(`crucible: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(2);
}

/** Downloads every artifact of an evaluation into `dir`; returns how many. */
async function saveArtifacts(api: CrucibleClient, id: string, dir: string): Promise<number> {
  const list = await api.artifactList(id);
  for (const artifact of list.items) {
    const target = artifactTarget(dir, artifact.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, await api.artifact(id, artifact.path));
  }
  const dropped = list.dropped.length + list.dropped_more;
  if (dropped > 0) process.stderr.write(`crucible: ${dropped} file(s) of /sandbox/out were not collected (see GET /api/evaluations/${id}/artifacts)\n`);
  return list.items.length;
}

export function registerClientCommands(program: Command): void {
  program
    .command('run')
    .description('Submit a Python program, stream its output live, and exit with its exit code')
    .argument(
      '<paths...>',
      'one Python file (- for standard input) run as main.py; or several files (the first runs; paths relative to the current directory); or a directory (its files; main.py runs)',
    )
    .option('--entrypoint <path>', 'the file among them to run with python')
    .option('--command <argv>', 'run this command line in /sandbox instead (split at spaces), e.g. "python3 -m unittest"')
    .option('--artifacts <dir>', 'save the files the program leaves in /sandbox/out here')
    .option('--timeout-s <s>', 'wall-clock limit in seconds', num)
    .option('--memory-mb <mb>', 'memory limit in MiB', num)
    .option('--cpus <n>', 'CPU share, e.g. 0.5', num)
    .option('--max-processes <n>', 'process/thread limit', num)
    .option('--max-output-bytes <n>', 'bytes kept of each output stream', num)
    .option('--sandbox <backend>', 'bubblewrap (default) or gvisor')
    .option('--stdin <file>', 'file fed to the program on standard input')
    .option('--tag <tag>', 'tag (repeatable)', collect, [])
    .option('--json', 'print the final evaluation as JSON instead of streaming')
    .action(async (paths: string[], flags: Record<string, unknown>, cmd: Command) => {
      const api = client(cmd);
      const spinner = new Spinner();
      try {
        const program = programFromPaths(paths);
        const command = typeof flags.command === 'string' ? flags.command.split(' ').filter(Boolean) : undefined;
        const input: CreateEvaluationInput = {
          ...program,
          ...(typeof flags.entrypoint === 'string' ? { entrypoint: flags.entrypoint } : {}),
          ...(command ? { command, entrypoint: undefined } : {}),
          stdin: typeof flags.stdin === 'string' ? readSource(flags.stdin) : undefined,
          timeout_s: flags.timeoutS as number | undefined,
          memory_mb: flags.memoryMb as number | undefined,
          cpus: flags.cpus as number | undefined,
          max_processes: flags.maxProcesses as number | undefined,
          max_output_bytes: flags.maxOutputBytes as number | undefined,
          sandbox: flags.sandbox as CreateEvaluationInput['sandbox'],
          tags: flags.tag as string[],
        };
        const created = await api.submit(input);
        const abort = new AbortController();
        let cancelling = false;
        process.on('SIGINT', () => {
          if (cancelling) process.exit(130);
          cancelling = true;
          spinner.stop();
          process.stderr.write(`\ncrucible: cancelling ${created.id} (Ctrl-C again to leave it running)\n`);
          api.cancel(created.id).catch(() => undefined);
        });
        if (!flags.json) {
          process.stderr.write(`crucible: ${created.id} queued${created.waiting_reason ? ` (${created.waiting_reason})` : ''}\n`);
          spinner.update('queued');
          for await (const event of api.events(created.id, { signal: abort.signal })) {
            if (event.type === 'status') {
              if (isTerminal(event.data.status)) spinner.stop();
              else spinner.update(event.data.status);
            } else if (event.type === 'stdout' || event.type === 'stderr') {
              spinner.stop();
              (event.type === 'stdout' ? process.stdout : process.stderr).write(event.data.text);
            }
          }
          spinner.stop();
        }
        const final = await api.get(created.id);
        if (typeof flags.artifacts === 'string') {
          const saved = await saveArtifacts(api, final.id, flags.artifacts);
          if (!flags.json) process.stderr.write(`crucible: ${saved} artifact(s) saved in ${flags.artifacts}\n`);
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
        else {
          if (final.stdout_truncated || final.stderr_truncated) process.stderr.write('crucible: output was truncated at the limit\n');
          process.stderr.write(`crucible: ${final.id} ${verdictLine(final)}\n`);
        }
        process.exit(cliExitCode(final));
      } catch (err) {
        spinner.stop();
        reportAndExit(err);
      }
    });

  program
    .command('status')
    .description('Show one evaluation')
    .argument('<id>')
    .option('--json', 'print the whole evaluation as JSON')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
      try {
        const e = await client(cmd).get(id);
        if (flags.json) process.stdout.write(`${JSON.stringify(e, null, 2)}\n`);
        else {
          process.stdout.write(
            `${e.id}  [${e.tags.join(', ')}]\ncreated ${e.created_at}  started ${e.started_at ?? '-'}  finished ${e.finished_at ?? '-'}\n${verdictLine(e)}\n`,
          );
          if (e.waiting_reason) process.stdout.write(`waiting: ${e.waiting_reason}\n`);
          if (e.stdout) process.stdout.write(`--- stdout${e.stdout_truncated ? ' (truncated)' : ''} ---\n${e.stdout}${e.stdout.endsWith('\n') ? '' : '\n'}`);
          if (e.stderr) process.stdout.write(`--- stderr${e.stderr_truncated ? ' (truncated)' : ''} ---\n${e.stderr}${e.stderr.endsWith('\n') ? '' : '\n'}`);
        }
      } catch (err) {
        reportAndExit(err);
      }
    });

  program
    .command('list')
    .description('List evaluations, newest first')
    .option('--status <statuses>', 'comma-separated statuses')
    .option('--tag <tag>', 'only evaluations with this tag (repeatable: all must match)', collect, [])
    .option('-q, --query <text>', 'text search')
    .option('--limit <n>', 'how many', num, 20)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(async (flags: { status?: string; tag: string[]; query?: string; limit: number; cursor?: string; json?: boolean }, cmd: Command) => {
      try {
        const page = await client(cmd).list({
          // Passed on as typed; the server refuses an unknown status with a message naming it.
          status: flags.status?.split(',') as EvaluationStatus[] | undefined,
          tags: flags.tag,
          q: flags.query,
          limit: flags.limit,
          cursor: flags.cursor,
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        else {
          for (const e of page.items) process.stdout.write(`${summaryRow(e)}\n`);
          if (page.next_cursor) process.stdout.write(`(more: --cursor ${page.next_cursor})\n`);
        }
      } catch (err) {
        reportAndExit(err);
      }
    });

  program
    .command('cancel')
    .description('Cancel a queued evaluation or kill a running one')
    .argument('<id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      try {
        const e = await client(cmd).cancel(id);
        process.stdout.write(`${e.id} ${verdictLine(e)}\n`);
      } catch (err) {
        reportAndExit(err);
      }
    });
}
