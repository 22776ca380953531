/**
 * How crucible-init takes its program (native/sandbox-init.c): a bundle whose length comes first,
 * so the program starts as soon as its bytes are in, without waiting for the end of the stream;
 * and a bundle that is cut short or malformed is a set-up error, never a partial program. Init is
 * run directly here (as an ordinary process, with its status and program fds as pipes), the way a
 * sandbox runs it as PID 1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { nativeHelpers } from '../../src/sandbox/native.js';
import { programBundle } from '../../src/sandbox/run/program-bundle.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startInit(): { status: string[]; stdout: string[]; program: Writable; exited: Promise<number | null> } {
  const workdir = mkdtempSync(join(tmpdir(), 'crucible-init-test-'));
  dirs.push(workdir);
  const child = spawn(nativeHelpers().init, ['3', '4', workdir], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  // Init closes the program fd once it has the bundle: what we still hold of it may see a reset.
  for (const stream of child.stdio) stream?.on('error', () => undefined);
  const [out, statusFd, programFd] = [child.stdio[1], child.stdio[3], child.stdio[4]] as [Readable, Readable, Writable];
  const status: string[] = [];
  const stdout: string[] = [];
  statusFd.on('data', (b: Buffer) => status.push(b.toString()));
  out.on('data', (b: Buffer) => stdout.push(b.toString()));
  // Its exit code once the output it wrote has been read too ('exit' can come before the last data).
  const drained = (stream: Readable) => new Promise((resolve) => stream.once('close', resolve));
  const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const exited = Promise.all([code, drained(out), drained(statusFd)]).then(([c]) => c);
  return { status, stdout, program: programFd, exited };
}

const spec = (code: string) => ({ code, environment: 'python' as const, limits: { ...DEFAULT_LIMITS, max_artifacts: 0 }, runId: 'bundle-test' });

describe('crucible-init: the program bundle', () => {
  it('starts the program once the bundle is in, with its stream still open', async () => {
    const init = startInit();
    init.program.write(programBundle(spec('print("in", flush=True)'), '/usr/bin/python3'));
    // Not ended: the length said where the bundle stops.
    expect(await init.exited).toBe(0);
    expect(init.stdout.join('')).toBe('in\n');
    expect(init.status.join('')).toMatch(/^ready\nstarted \d+\nexit 0 \d+\n$/);
    init.program.destroy();
  });

  it.each([
    ['cut short', (b: Buffer) => b.subarray(0, b.length - 3), /truncated bundle/],
    ['without its length', (b: Buffer) => b.subarray(b.indexOf('\n') + 1), /bad bundle header/],
    ['longer than init takes', (b: Buffer) => Buffer.concat([Buffer.from('bundle 70000000000\n'), b]), /larger than the maximum/],
  ])('refuses a bundle %s, before anything runs', async (_name, mangle, error) => {
    const init = startInit();
    init.program.end(mangle(programBundle(spec('print("ran")'), '/usr/bin/python3')));
    expect(await init.exited).toBe(125);
    expect(init.status.join('')).toMatch(error);
    expect(init.status.join('')).not.toMatch(/started/);
    expect(init.stdout.join('')).toBe('');
  });
});
