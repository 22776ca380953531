/**
 * `crucible env build | list | audit`: build environments on this host (debootstrap + apt, as
 * root), list them with their state here, and audit a lock against its manifest's allowlist.
 */
import type { Command } from 'commander';
import { ENVIRONMENTS, type Environment } from '../../domain/evaluation.js';
import { formatBytes } from '../../domain/format-bytes.js';
import { openEnvironmentTools } from '../../main/environment-tools.js';

const fail = (message: string): never => {
  process.stderr.write(`crucible: ${message}\n`);
  process.exit(1);
};

function knownName(name: string): Environment {
  if (!(ENVIRONMENTS as readonly string[]).includes(name)) fail(`unknown environment "${name}"; known: ${ENVIRONMENTS.join(', ')}`);
  return name as Environment;
}

export function registerEnvCommands(program: Command): void {
  const env = program.command('env').description('Environments (Debian root filesystems programs run on): build, list, audit');

  env
    .command('build')
    .description('Build environments on this host (needs root; does nothing for an up-to-date build; resumes a failed one)')
    .argument('[name]', `one of ${ENVIRONMENTS.join(', ')}`)
    .option('--all', 'build every environment')
    .option('--update', "resolve packages afresh and rewrite the repository's lock (otherwise the locked versions are installed)")
    .option('--force', 'rebuild even when an up-to-date build exists')
    .action(async (name: string | undefined, flags: { all?: boolean; update?: boolean; force?: boolean }) => {
      if (!name && !flags.all) fail('name an environment or pass --all');
      const names = flags.all ? [...ENVIRONMENTS] : [knownName(name!)];
      const { builder } = openEnvironmentTools();
      for (const environment of names) {
        const started = Date.now();
        try {
          await builder.build(environment, { update: flags.update, force: flags.force, onLine: (line) => process.stderr.write(`${line}\n`) });
        } catch (err) {
          fail((err as Error).message);
        }
        process.stderr.write(`${environment}: done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      }
    });

  env
    .command('list')
    .description('Every environment with its state on this host')
    .option('--json', 'print the API view as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { queries, dir } = openEnvironmentTools();
      const { items } = await queries.list();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        return;
      }
      process.stdout.write(`environments on this host (${dir}):\n`);
      for (const e of items) {
        const size = e.size_bytes === null ? '-' : formatBytes(e.size_bytes);
        const digest = e.digest ? e.digest.slice(0, 19) : '-';
        process.stdout.write(
          `${e.name.padEnd(12)} ${e.status.padEnd(9)} python ${e.python_version.padEnd(7)} ${String(e.packages.length).padStart(4)} packages ${size.padStart(9)}  ${digest}\n`,
        );
        if (e.status !== 'ready') process.stdout.write(`${''.padEnd(13)}${e.error ? `${e.error}; ` : ''}build it with: ${e.build_command}\n`);
      }
    });

  env
    .command('audit')
    .description("Print an environment's lock with each package's Debian source, flagging packages outside the manifest's allowlist (exit 1 if any)")
    .argument('<name>', `one of ${ENVIRONMENTS.join(', ')}`)
    .action(async (name: string) => {
      const { queries } = openEnvironmentTools();
      const { rows, from } = await queries.audit(knownName(name)).catch((err: Error) => fail(err.message));
      process.stdout.write(`${name}: ${rows.length} packages (${from === 'built' ? 'as built on this host' : "the repository's lock; not built here"})\n`);
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) {
        const source = `${r.source} ${r.source_version}`;
        process.stdout.write(
          `${r.allowed ? '  ' : '! '}${r.name.padEnd(width)}  ${r.version.padEnd(28)} ${r.priority.padEnd(9)} source ${source}${r.allowed ? '' : '  NOT IN ALLOWLIST'}\n`,
        );
      }
      const flagged = rows.filter((r) => !r.allowed);
      process.stdout.write(
        flagged.length ? `${flagged.length} package(s) outside the allowlist: ${flagged.map((r) => r.name).join(', ')}\n` : 'every package is allowed\n',
      );
      if (flagged.length) process.exit(1);
    });
}
