/** The `crucible` command as a user runs it: the built CLI against a real server. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], options: { server?: string; stdin?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...(options.server ? ['--server', options.server] : []), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crucible ${args.join(' ')} did not finish: ${stdout} ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

describe('crucible CLI', () => {
  let server: ServerProcess;
  const dir = tempDir('crucible-cli-');
  const file = (name: string, code: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, code);
    return p;
  };

  beforeAll(async () => {
    server = await spawnServer(['--data-dir', path.join(dir, 'data'), '--workers', '2']);
  });
  afterAll(async () => {
    await server?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints help for every command', async () => {
    for (const args of [
      ['--help'],
      ['serve', '--help'],
      ['worker', '--help'],
      ['run', '--help'],
      ['status', '--help'],
      ['list', '--help'],
      ['cancel', '--help'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: crucible');
    }
  });

  it('runs a file, streams its output and exits with its exit code', async () => {
    const r = await runCli(
      ['run', file('exit3.py', 'import sys\nprint("to stdout")\nprint("to stderr", file=sys.stderr)\nsys.exit(3)'), '--tag', 'cli', '--timeout-s', '5'],
      { server: server.url },
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('to stdout\n');
    expect(r.stderr).toContain('to stderr');
    expect(r.stderr).toMatch(/failed · exit 3 · exit_nonzero/);
  });

  it('runs a directory with --command, several files with the first as entrypoint, and saves --artifacts', async () => {
    const project = path.join(dir, 'project');
    fs.mkdirSync(path.join(project, 'pkg'), { recursive: true });
    fs.mkdirSync(path.join(project, '__pycache__'));
    fs.writeFileSync(path.join(project, '__pycache__', 'junk.pyc'), Buffer.from([0, 1, 2]));
    fs.writeFileSync(path.join(project, 'pkg', '__init__.py'), '');
    fs.writeFileSync(
      path.join(project, 'pkg', '__main__.py'),
      'import os\nprint(sorted(os.listdir(".")))\nopen("out/result.txt", "w").write("42")\nopen("out/raw.bin", "wb").write(bytes([0, 255]))\n',
    );
    fs.writeFileSync(path.join(project, 'blob.bin'), Buffer.from([0, 159, 255]));
    const saved = path.join(dir, 'saved');
    const r = await runCli(['run', project, '--command', 'python3 -m pkg', '--artifacts', saved], { server: server.url });
    expect(r.stderr).toContain('2 artifact(s) saved');
    expect(r.stdout).toBe("['blob.bin', 'out', 'pkg']\n");
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(saved, 'result.txt'), 'utf8')).toBe('42');
    expect([...fs.readFileSync(path.join(saved, 'raw.bin'))]).toEqual([0, 255]);

    const main = file('first.py', 'import helper\nhelper.hi()');
    const helper = file('helper.py', 'def hi():\n    print("hi from helper")');
    const two = await runCli(['run', main, helper], { server: server.url });
    expect(two.stdout).toBe('hi from helper\n');
    expect(two.code).toBe(0);
  });

  it('feeds --stdin and a program from standard input', async () => {
    const input = file('input.txt', 'hello from stdin\n');
    const r = await runCli(['run', '-', '--stdin', input], { server: server.url, stdin: 'import sys\nprint(sys.stdin.read().upper(), end="")' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('HELLO FROM STDIN\n');
  });

  it('exits 124 on a timeout and 137 on an OOM, explaining why', async () => {
    const loop = await runCli(['run', file('loop.py', 'print("spinning", flush=True)\nwhile True: pass'), '--timeout-s', '1'], { server: server.url });
    expect(loop.code).toBe(124);
    expect(loop.stdout).toBe('spinning\n');
    expect(loop.stderr).toContain('Time limit exceeded');
    const oom = await runCli(['run', file('oom.py', 'x = bytearray(400 * 1024 * 1024)'), '--memory-mb', '64'], { server: server.url });
    expect(oom.code).toBe(137);
    expect(oom.stderr).toContain('Memory limit exceeded (64 MiB)');
  });

  it('lists, shows and cancels evaluations', async () => {
    const list = await runCli(['list', '--tag', 'cli', '--json'], { server: server.url });
    expect(list.code).toBe(0);
    const page = JSON.parse(list.stdout) as { items: Array<{ id: string; status: string }> };
    expect(page.items.length).toBeGreaterThanOrEqual(1);
    const id = page.items[0]!.id;
    const status = await runCli(['status', id], { server: server.url });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(id);
    expect(status.stdout).toContain('--- stdout ---');
    const cancel = await runCli(['cancel', id], { server: server.url });
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toContain('already ended');
  });

  it('rejects bad limits with the server’s explanation and exit code 2', async () => {
    const r = await runCli(['run', file('ok.py', 'print(1)'), '--memory-mb', '999999'], { server: server.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('memory_mb must be at most');
  });

  it('says clearly when no server is reachable', async () => {
    const r = await runCli(['list'], { server: 'http://127.0.0.1:9' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot reach the Crucible server');
  });
});
