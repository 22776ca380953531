/**
 * Builds environments with scripts/build-environment.sh (debootstrap + apt as root; see it for
 * the layout, locking and resumption), streaming its progress lines.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Environment } from '../../domain/evaluation.js';
import type { BuildProgress, EnvironmentBuilder } from '../../ports/environments.js';
import { BUILD_SCRIPT, defaultEnvironmentsDir } from './paths.js';

export class ScriptEnvironmentBuilder implements EnvironmentBuilder {
  constructor(private readonly dir: string = defaultEnvironmentsDir()) {}

  build(name: Environment, options: { update?: boolean; force?: boolean } & BuildProgress = {}): Promise<void> {
    const args = [BUILD_SCRIPT, name, ...(options.update ? ['--update'] : []), ...(options.force ? ['--force'] : [])];
    const child = spawn('bash', args, { env: { ...process.env, CRUCIBLE_ENVIRONMENTS_DIR: this.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (lines.length > 30) lines.shift();
        options.onLine?.(line);
      });
    }
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`building ${name} failed (exit ${code}):\n${lines.join('\n')}`));
      });
    });
  }
}
