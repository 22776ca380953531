/**
 * Files in, files out, in real sandboxes on both backends: multi-file programs with an
 * entrypoint or a command, and the artifacts a program leaves in /sandbox/out, including the
 * hostile cases (a symlink to /etc/passwd, 10 000 tiny files, a 1 GiB sparse file, a fifo).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../src/domain/limits.js';
import type { ProgramFile } from '../../src/domain/program-files.js';
import type { RunResult, SandboxBackend, SandboxSpec } from '../../src/ports/sandbox.js';
import { BubblewrapBackend } from '../../src/sandbox/bubblewrap/backend.js';
import { GvisorBackend } from '../../src/sandbox/gvisor/backend.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
import { PNG_WRITER } from './fixtures/png-writer.js';

let counter = 0;

function suite(name: string, create: () => SandboxBackend, slowMs: number): void {
  describe(`files and artifacts: ${name}`, () => {
    let backend: SandboxBackend;
    let skip: string | null = null;
    beforeAll(async () => {
      backend = create();
      const health = await backend.health();
      if (!health.ok) skip = health.detail;
      else await backend.warm?.();
    }, 60_000);
    afterAll(async () => backend?.close?.(), 60_000);

    const run = (program: Partial<SandboxSpec>, limits: Partial<Limits> = {}): Promise<RunResult> =>
      backend.run({
        code: '',
        environment: 'python',
        runId: `fa${process.pid}-${counter++}`,
        ...program,
        limits: { ...DEFAULT_LIMITS, timeout_s: 20, ...limits },
      });
    const test = (title: string, fn: () => Promise<void>, timeoutMs = 30_000) =>
      it(
        title,
        async (ctx) => {
          if (skip) ctx.skip(`${name} unavailable: ${skip}`);
          await fn();
        },
        timeoutMs + slowMs,
      );
    const text = (path: string, content: string): ProgramFile => ({ path, content, encoding: 'utf-8' });

    test('a package run as a module with a command, in a writable working directory', async () => {
      const r = await run({
        files: [
          text('pkg/__init__.py', ''),
          text(
            'pkg/__main__.py',
            'from pkg.util import double\nimport os\nprint(double(21), os.getcwd())\nopen("written.txt", "w").write("ok")\nprint(open("written.txt").read())\n',
          ),
          text('pkg/util.py', 'def double(x):\n    return 2 * x\n'),
          { path: 'data.bin', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' },
        ],
        command: ['python3', '-m', 'pkg'],
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('42 /sandbox\nok\n');
      expect(r.reason).toBe('exit_zero');
    });

    test('code is main.py next to the files; unittest runs as a command', async () => {
      const both = await run({
        code: 'import helper, pathlib\nprint(helper.NAME, pathlib.Path("data.bin").read_bytes().hex())\n',
        files: [text('helper.py', 'NAME = "helper"\n'), { path: 'data.bin', content: 'AAH/', encoding: 'base64' }],
      });
      expect(both.stdout).toBe('helper 0001ff\n');
      const tests = await run({
        files: [
          text('calc.py', 'def add(a, b):\n    return a + b\n'),
          text(
            'test_calc.py',
            'import unittest\nfrom calc import add\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n',
          ),
        ],
        command: ['python3', '-m', 'unittest', '-q'],
      });
      expect(tests.reason).toBe('exit_zero');
      expect(tests.stderr).toContain('Ran 1 test');
      const entry = await run({ files: [text('app/run.py', 'import sys\nprint(sys.argv[0])\n')], entrypoint: 'app/run.py' });
      expect(entry.stdout).toBe('app/run.py\n');
    });

    test('a command that does not exist is the program failing, not the platform', async () => {
      const r = await run({ files: [text('a.py', '')], command: ['no-such-command'] });
      expect(r.reason).toBe('exit_nonzero');
      expect(r.exit_code).toBe(127);
      expect(r.stderr).toBe('crucible: cannot run no-such-command: No such file or directory\n');
    });

    test('a PNG and an HTML file come back as artifacts with their hashes and types', async () => {
      const r = await run({
        code: `${PNG_WRITER}\nimport os\nout = os.environ["CRUCIBLE_OUTPUT_DIR"]\nwrite_png(os.path.join(out, "plot.png"))\nos.makedirs(out + "/sub")\nopen(out + "/sub/page.html", "w").write("<script>alert(1)</script>")\nprint(out)\n`,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('/sandbox/out\n');
      const items = r.artifacts!.items;
      expect(items.map((a) => [a.path, a.content_type])).toEqual([
        ['plot.png', 'image/png'],
        ['sub/page.html', 'text/plain; charset=utf-8'],
      ]);
      expect(Buffer.from(items[1]!.content).toString()).toBe('<script>alert(1)</script>');
      expect(items[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(r.artifacts!.dropped).toEqual([]);
    });

    test('limits: the files beyond max_artifacts and max_artifact_bytes are listed as dropped', async () => {
      const r = await run(
        {
          code: 'import os\nfor i in range(5):\n    open(f"/sandbox/out/f{i}.txt", "w").write("x" * 100)\nopen("/sandbox/out/z.bin", "wb").write(b"y" * 5000)\n',
        },
        { max_artifacts: 3, max_artifact_bytes: 250 },
      );
      expect(r.artifacts!.items.map((a) => a.path)).toEqual(['f0.txt', 'f1.txt']);
      expect(r.artifacts!.dropped).toEqual([
        { path: 'f2.txt', size_bytes: 100, reason: 'max_artifact_bytes' },
        { path: 'f3.txt', size_bytes: 100, reason: 'max_artifact_bytes' },
        { path: 'f4.txt', size_bytes: 100, reason: 'max_artifact_bytes' },
        { path: 'z.bin', size_bytes: 5000, reason: 'max_artifact_bytes' },
      ]);
      const none = await run({ code: 'open("/sandbox/out/a", "w").write("a")' }, { max_artifacts: 0 });
      expect(none.artifacts).toBeUndefined();
    });

    test('hostile: a symlink to /etc/passwd, a fifo, a 1 GiB sparse file and a dangling daemon', async () => {
      const started = performance.now();
      const r = await run(
        {
          code: [
            'import os, subprocess',
            'os.symlink("/etc/passwd", "/sandbox/out/passwd")',
            'os.symlink("/etc", "/sandbox/out/etc")',
            'os.mkfifo("/sandbox/out/fifo")',
            'with open("/sandbox/out/sparse.bin", "wb") as f:',
            '    f.truncate(1 << 30)',
            'open("/sandbox/out/small.txt", "w").write("small")',
            // A daemon that keeps rewriting a file after the program ends: killed before collection.
            'subprocess.Popen(["python3", "-c", "import time\\nwhile True:\\n    open(\'/sandbox/out/small.txt\', \'w\').write(\'daemon\' * 1000)\\n    time.sleep(0.001)"])',
          ].join('\n'),
        },
        { scratch_mb: 16 },
      );
      expect(r.reason).toBe('exit_zero');
      expect(performance.now() - started).toBeLessThan(15_000 + slowMs);
      expect(r.artifacts!.items.map((a) => a.path)).toEqual(['small.txt']);
      expect(r.artifacts!.dropped).toEqual([
        { path: 'etc', size_bytes: null, reason: 'not_a_regular_file' },
        { path: 'fifo', size_bytes: null, reason: 'not_a_regular_file' },
        { path: 'passwd', size_bytes: null, reason: 'not_a_regular_file' },
        { path: 'sparse.bin', size_bytes: 1 << 30, reason: 'max_artifact_bytes' },
      ]);
    });

    // Python started ahead gets its files written by init with the program's identity, the cold
    // path by the program's own process (native/sandbox-init.c): the same files, owners and errors.
    test("files are the program's own, and a failure to write them ends the run alike, ahead or cold", async () => {
      const files = [text('data/x.txt', 'payload')];
      const code = [
        'import os',
        'for p in ("data", "data/x.txt", "out"):',
        '    st = os.stat(p)',
        '    print(p, st.st_uid == os.getuid(), st.st_gid == os.getgid(), oct(st.st_mode))',
        'open("data/x.txt", "a").write("+")',
        'open("data/y.txt", "w").write("y")',
        'print(open("data/x.txt").read())',
      ].join('\n');
      const ahead = await run({ code, files });
      const cold = await run({ code, files, command: ['python3', 'main.py'] });
      for (const r of [ahead, cold]) {
        expect(r.reason).toBe('exit_zero');
        expect(r.stdout).toBe('data True True 0o40755\ndata/x.txt True True 0o100644\nout True True 0o40755\npayload+\n');
      }
      // Larger than the working directory's tmpfs: "No space left on device" while writing.
      const big = [text('big.txt', 'x'.repeat(3 * 1024 * 1024))];
      const aheadFull = await run({ code: 'print("not run")', files: big }, { scratch_mb: 2 });
      const coldFull = await run({ code: 'print("not run")', files: big, command: ['python3', 'main.py'] }, { scratch_mb: 2 });
      expect(aheadFull.stdout).toBe('');
      expect([aheadFull.reason, aheadFull.message]).toEqual([coldFull.reason, coldFull.message]);
      expect(aheadFull.message).toContain('big.txt');
    });

    test('an output directory replaced by a link or made unreadable is reported as such, not as empty', async () => {
      const link = await run({ code: 'import os\nos.rmdir("/sandbox/out")\nos.symlink("/etc", "/sandbox/out")' });
      const unreadable = await run({ code: 'import os\nos.chmod("/sandbox/out", 0)' });
      const empty = await run({ code: 'pass' });
      for (const r of [link, unreadable]) {
        expect(r.reason).toBe('exit_zero');
        expect(r.artifacts!.items).toEqual([]);
        expect(r.artifacts!.dropped).toEqual([{ path: 'out', size_bytes: null, reason: 'not_a_regular_file' }]);
      }
      expect(empty.artifacts!.items).toEqual([]);
      expect(empty.artifacts!.dropped).toEqual([]);
    });

    test('hostile: 10 000 tiny files are bounded (20 kept, 100 listed, the rest counted)', async () => {
      const started = performance.now();
      const r = await run({ code: 'for i in range(10000):\n    open(f"/sandbox/out/{i:05}", "w").write("t")\n' }, { scratch_mb: 64 });
      expect(r.reason).toBe('exit_zero');
      expect(performance.now() - started).toBeLessThan(20_000 + slowMs);
      expect(r.artifacts!.items).toHaveLength(20);
      expect(r.artifacts!.items[0]!.path).toBe('00000');
      expect(r.artifacts!.dropped).toHaveLength(100);
      expect(r.artifacts!.dropped[0]).toEqual({ path: '00020', size_bytes: 1, reason: 'max_artifacts' });
      expect(r.artifacts!.dropped_more).toBe(10000 - 20 - 100);
    }, 60_000);
  });
}

suite('bubblewrap', () => new BubblewrapBackend({ cgroups: cgroupDriver() }), 0);
suite('gvisor', () => new GvisorBackend({ cgroups: cgroupDriver() }), 5000);
