/**
 * The behaviour every sandbox backend must show, as real programs in the real sandbox. Each
 * backend's test file registers this suite with a factory; a backend whose health() says it is
 * unavailable is skipped with the reason shown.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../src/domain/limits.js';
import type { RunCallbacks, RunResult, SandboxBackend } from '../../src/ports/sandbox.js';

/** Room for the kernel's force-charges past a memory limit (a few pages; a runtime's own memory is megabytes). */
const FORCED_CHARGE_SLACK_BYTES = 64 * 4096;

export interface SuiteOptions {
  /** Extra time a run of this backend may take (slow start-up). */
  slowMs: number;
  /**
   * Reasons a fork bomb may end with. gVisor enforces the process limit inside its own kernel,
   * where the host cannot see the refusals, so there the bomb ends as exit_nonzero.
   */
  forkBombReasons?: string[];
  /** The backend reports the program's raw wait status (sys.exit(137) is not mistaken for SIGKILL). */
  rawExitStatus?: boolean;
  /** Time, memory and the memory limit are the program's own, not the runtime's (see docs/sandbox.md). */
  programMetrics?: boolean;
  /** The scratch tmpfs has an inode cap (an inode flood is ENOSPC, not oom). */
  inodeCap?: boolean;
}

let runCounter = 0;

/**
 * `now()` stops this process's event loop for `ms` the first time it is called, as a busy
 * server's would be, and sleeps meanwhile: a spinning loop would also starve the test files
 * running beside this one.
 */
function stallOnce(ms: number): { now: () => void; done: boolean } {
  const stall = {
    done: false,
    now: () => {
      if (stall.done) return;
      stall.done = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    },
  };
  return stall;
}

export function registerSandboxSuite(name: string, create: () => Promise<SandboxBackend>, opts: SuiteOptions = { slowMs: 0 }): void {
  describe(`sandbox: ${name}`, () => {
    let backend: SandboxBackend;
    let skipReason: string | null = null;
    let listener: Server;
    let port = 0;
    let dataDir: string;

    const run = (code: string, limits: Partial<Limits> = {}, extra: { stdin?: string } & RunCallbacks = {}): Promise<RunResult> => {
      const { stdin, ...callbacks } = extra;
      return backend.run(
        { code, stdin, environment: 'python', limits: { ...DEFAULT_LIMITS, timeout_s: 10, ...limits }, runId: `t${process.pid}-${runCounter++}` },
        callbacks,
      );
    };
    /** `it` that is skipped at run time (visibly, with the reason) when the backend is unavailable. */
    const test = (title: string, fn: () => Promise<void>, timeoutMs = 20_000) =>
      it(
        title,
        async (ctx) => {
          if (skipReason) ctx.skip(`${name} unavailable: ${skipReason}`);
          await fn();
        },
        timeoutMs + opts.slowMs,
      );

    beforeAll(async () => {
      process.env.CRUCIBLE_SECRET_TOKEN = 'hunter2-do-not-leak';
      backend = await create();
      const health = await backend.health();
      if (!health.ok) {
        skipReason = health.detail;
        console.warn(`[sandbox suite] skipping ${name}: ${health.detail}`);
      }
      dataDir = mkdtempSync(join(tmpdir(), 'crucible-server-data-'));
      writeFileSync(join(dataDir, 'secret.txt'), 'server secret');
      listener = createServer((s) => s.end('host service\n'));
      await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
      port = (listener.address() as { port: number }).port;
    }, 120_000);

    afterAll(async () => {
      delete process.env.CRUCIBLE_SECRET_TOKEN;
      listener?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      await backend?.close?.();
    }, 60_000);

    test('runs a program: exit 0 with its stdout', async () => {
      const r = await run('print("hello", 6 * 7)');
      expect(r.reason).toBe('exit_zero');
      expect(r.exit_code).toBe(0);
      expect(r.stdout).toBe('hello 42\n');
      expect(r.stderr).toBe('');
    });

    // A warm sandbox starts `python3 main.py` before its program is known (crucible-init --ahead);
    // a command that is not exactly that argv runs cold. Both must look the same from inside.
    const PROBE = [
      'import os, sys, threading',
      'print("argv", sys.argv)',
      'print("main", __file__, __name__, __spec__, type(__loader__).__name__, sys.path)',
      'print("modules", sorted(sys.modules))',
      'print("fds", sorted(os.listdir("/proc/self/fd")))',
      'print("env", sorted(os.environ.items()))',
      'print("cwd", os.getcwd(), os.getuid(), os.getgid(), os.getppid(), threading.active_count())',
      'print("stdin", repr(sys.stdin.read()))',
      'print("files", sorted(os.listdir(".")), open("data/x.txt").read())',
      'raise ValueError("the end")',
    ].join('\n');
    const runProgram = (command?: string[]) =>
      backend.run({
        code: PROBE,
        files: [{ path: 'data/x.txt', content: 'payload', encoding: 'utf-8' }],
        command,
        stdin: 'to stdin',
        environment: 'python',
        limits: { ...DEFAULT_LIMITS, timeout_s: 10 },
        runId: `t${process.pid}-${runCounter++}`,
      });

    test('Python started ahead runs main.py exactly as a cold `python3 main.py` does', async () => {
      const ahead = await runProgram();
      const cold = await runProgram(['python3', 'main.py']);
      for (const r of [ahead, cold]) {
        expect(r.reason).toBe('exit_nonzero');
        expect(r.exit_code).toBe(1);
        expect(r.stdout).toContain("argv ['main.py']");
        expect(r.stdout).toContain("stdin 'to stdin'");
        expect(r.stdout).toContain('payload');
        expect(r.stdout).not.toContain('CRUCIBLE_AHEAD');
        expect(r.stderr).toBe(
          'Traceback (most recent call last):\n  File "/sandbox/main.py", line 10, in <module>\n    raise ValueError("the end")\nValueError: the end\n',
        );
      }
      expect(ahead.stdout).toBe(cold.stdout);
    });

    test('a command that is not `python3 main.py` shows nothing of the Python started ahead', async () => {
      const r = await backend.run({
        code: 'print("not run")',
        command: ['python3', '-c', 'import os; print(2, sorted(os.listdir("/proc/self/fd")))'],
        environment: 'python',
        limits: { ...DEFAULT_LIMITS, timeout_s: 10 },
        runId: `t${process.pid}-${runCounter++}`,
      });
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe("2 ['0', '1', '2', '3']\n");
      expect(r.stderr).toBe('');
    });

    test('max_processes 1 still runs a program (Python started ahead, files written by init)', async () => {
      const r = await run('print(sum(range(10)))', { max_processes: 1 });
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe('45\n');
    });

    // docs/sandbox.md, "Output buffering": PYTHONUNBUFFERED made line-buffered by the site hook.
    test('Python output is line-buffered: in the program and its child Pythons, fully unbuffered under -u', async () => {
      const modes = 'import sys; print(sys.stdout.line_buffering, sys.stdout.write_through, sys.stderr.line_buffering)';
      const code = [
        'import subprocess, sys',
        modes,
        'def child(*flags):',
        `    return subprocess.run([sys.executable, *flags, "-c", ${JSON.stringify(modes)}], capture_output=True, text=True).stdout.strip()`,
        'print("child", child())',
        'print("child -u", child("-u"))',
        'print("no newline at the end", end="")',
      ].join('\n');
      const r = await run(code);
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe('True False True\nchild True False True\nchild -u False True False\nno newline at the end');
      expect(r.stderr).toBe('');
    });

    test('a program killed at its timeout keeps every complete line it printed without flushing', async () => {
      const code = 'import sys\nfor i in range(3):\n    print("line", i)\nprint("to stderr", file=sys.stderr)\nwhile True:\n    pass';
      const r = await run(code, { timeout_s: 1 });
      expect(r.reason).toBe('timeout');
      expect(r.stdout).toBe('line 0\nline 1\nline 2\n');
      expect(r.stderr).toBe('to stderr\n');
    });

    test('sys.exit(3) is exit_nonzero with exit code 3', async () => {
      const r = await run('import sys\nsys.exit(3)');
      expect(r.reason).toBe('exit_nonzero');
      expect(r.exit_code).toBe(3);
      expect(r.signal).toBeNull();
    });

    test('sys.exit(137) is told apart from a SIGKILL where the backend can (see docs/sandbox.md)', async () => {
      const r = await run('import sys\nsys.exit(137)');
      if (opts.rawExitStatus) {
        expect(r.reason).toBe('exit_nonzero');
        expect(r.exit_code).toBe(137);
      } else {
        expect(['exit_nonzero', 'signal']).toContain(r.reason);
      }
    });

    test('machine-specific files under /usr/local and /usr/etc are hidden; no core dumps', async () => {
      const code = `
import os, resource
print("local", sorted(os.listdir("/usr/local")) if os.path.isdir("/usr/local") else None)
print("npmrc", os.path.exists("/usr/local/etc/npmrc"))
print("usr etc", sorted(os.listdir("/usr/etc")) if os.path.isdir("/usr/etc") else None)
print("core", resource.getrlimit(resource.RLIMIT_CORE))
`;
      const r = await run(code);
      expect(r.stdout).toContain('npmrc False');
      expect(r.stdout).not.toMatch(/cuda|terraform/);
      // /usr/etc holds configuration such as npm's global npmrc on some hosts: empty or absent.
      expect(r.stdout).toMatch(/usr etc (None|\[\])\n/);
      expect(r.stdout).toContain('core (0, 0)');
    });

    test('a syntax error exits 1 with the traceback on stderr', async () => {
      const r = await run('def broken(:\n  pass');
      expect(r.exit_code).toBe(1);
      expect(r.reason).toBe('exit_nonzero');
      expect(r.stderr).toContain('SyntaxError');
    });

    test('threads and multiprocessing work; /dev/shm is bounded like /tmp (ENOSPC, not a memory fill)', async () => {
      const code = `
import multiprocessing, threading
t = threading.Thread(target=print, args=("thread ran",)); t.start(); t.join()
q = multiprocessing.Queue(); q.put("via shm"); print(q.get())
with multiprocessing.Pool(2) as pool: print("pool", pool.map(abs, [-1, -2, -3]))
${fillProgram('/dev/shm/fill')}`;
      const r = await run(code, { scratch_mb: 8, memory_mb: 256 });
      expect(r.stdout).toBe('thread ran\nvia shm\npool [1, 2, 3]\nfull ENOSPC\n');
      expect(r.reason).toBe('exit_zero');
    });

    test('stdin is fed to the program', async () => {
      const r = await run('import sys\nsys.stdout.write(sys.stdin.read().upper())', {}, { stdin: 'echo me\nline 2' });
      expect(r.stdout).toBe('ECHO ME\nLINE 2');
    });

    test('a program that never reads a large stdin still ends normally', async () => {
      const r = await run('print("ignored stdin")', {}, { stdin: 'x'.repeat(2_000_000) });
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe('ignored stdin\n');
    });

    test('binary and invalid UTF-8 output does not break anything; multi-byte characters survive chunking', async () => {
      const r = await run('import sys\nsys.stdout.buffer.write(bytes(range(256)))\nsys.stderr.write("é€😀" * 50000)');
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toContain('\uFFFD');
      expect(r.stderr).toBe('é€😀'.repeat(50000));
    });

    test('no network: a listening host port on 127.0.0.1 cannot be reached, DNS fails, only lo exists', async () => {
      const code = `
import socket
try:
    s = socket.create_connection(("127.0.0.1", ${port}), timeout=2)
    print("CONNECTED", s.recv(100))
except OSError as e:
    print("connect failed", e)
try:
    socket.getaddrinfo("example.com", 80)
    print("DNS RESOLVED")
except OSError as e:
    print("dns failed", e)
ifaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
print("ifaces", ifaces)
`;
      const r = await run(code);
      expect(r.stdout).toContain('connect failed');
      expect(r.stdout).not.toContain('CONNECTED');
      expect(r.stdout).toContain('dns failed');
      expect(r.stdout).toContain("ifaces ['lo']");
    });

    test('the root and /usr are read-only', async () => {
      const code = `
for path in ["/usr/pwned", "/pwned", "/etc/pwned", "/usr/lib/python3.11/os.py"]:
    try:
        open(path, "a").write("x")
        print("WROTE", path)
    except OSError as e:
        print("refused", path, e.errno)
`;
      const r = await run(code);
      expect(r.stdout).not.toContain('WROTE');
      expect(r.stdout.match(/refused/g)).toHaveLength(4);
    });

    test('/tmp is writable and bounded: filling it ends in ENOSPC', async () => {
      const code = `
open("/tmp/ok.txt", "w").write("fine")
print("read back", open("/tmp/ok.txt").read())
${fillProgram('/tmp/fill')}`;
      const r = await run(code, { scratch_mb: 8 });
      expect(r.stdout).toContain('read back fine');
      expect(r.stdout).toContain('full ENOSPC');
    });

    test('host secrets are unreadable: /etc/shadow, /root, a server data dir, the server environment', async () => {
      const code = `
import os
for path in ["/etc/shadow", "/root", ${JSON.stringify(dataDir)}, ${JSON.stringify(join(dataDir, 'secret.txt'))}, "/work", "/home"]:
    try:
        if os.path.isdir(path):
            # an empty directory of the sandbox's own root (e.g. /home in gVisor's rootfs) is fine
            if os.listdir(path):
                print("LISTED", path, os.listdir(path))
        else:
            print("READ", path, open(path).read()[:20])
    except OSError as e:
        print("denied", path)
print("env", sorted(os.environ))
print("token" , "hunter2" in str(os.environ))
`;
      const r = await run(code);
      expect(r.stdout).not.toMatch(/LISTED|READ/);
      expect(r.stdout).toContain('token False');
      expect(r.stdout).not.toContain('CRUCIBLE_SECRET_TOKEN');
      expect(r.stdout).not.toContain('hunter2');
    });

    test("the sandbox's root carries none of the host's identity: name, resolver, apt mirror", async () => {
      const secrets = hostIdentityStrings();
      const code = `
import os
secrets = ${JSON.stringify(secrets)}
for top in ["/etc", "/var"]:
    for root, dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read(1 << 20).decode("latin-1")
            except OSError:
                continue
            for s in secrets:
                if s in data:
                    print("FOUND", repr(s), "in", path)
try:
    print("hostname file", repr(open("/etc/hostname").read().strip()))
except OSError:
    pass
print("scanned")
`;
      const r = await run(code, { timeout_s: 30 });
      expect(r.stdout).not.toContain('FOUND');
      expect(r.stdout).not.toContain(`hostname file '${hostname()}'`);
      expect(r.stdout).toMatch(/scanned\n$/);
    }, 40_000);

    test('host processes are invisible and cannot be signalled', async () => {
      const code = `
import os, signal
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("pids", pids)
print("host visible", ${process.pid} in pids)
try:
    os.kill(${process.pid}, signal.SIGKILL)
    print("KILLED HOST")
except OSError as e:
    print("kill failed", type(e).__name__)
`;
      const r = await run(code);
      expect(r.stdout).toContain('host visible False');
      expect(r.stdout).toContain('kill failed');
      expect(r.stdout).not.toContain('KILLED HOST');
      // The test process (the "host") is alive to check this.
      expect(process.kill(process.pid, 0)).toBe(true);
    });

    test('no privileges: mount, unshare, setuid and ptrace fail', async () => {
      const code = `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("mount", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno())
print("unshare", libc.unshare(0x10000000), ctypes.get_errno())
try:
    os.setuid(0)
    print("SETUID OK")
except OSError as e:
    print("setuid failed", e.errno)
print("uid", os.getuid(), os.geteuid())
`;
      const r = await run(code);
      expect(r.stdout).toMatch(/mount -1 \d+/);
      expect(r.stdout).toMatch(/unshare -1 \d+/);
      expect(r.stdout).toContain('setuid failed');
      expect(r.stdout).not.toContain('uid 0 ');
    });

    test('a fork bomb is contained by the process limit and the host is fine afterwards', async () => {
      const bomb = `
import os, time
children = 0
try:
    while True:
        os.fork()
        children += 1
except OSError as e:
    print("fork refused", type(e).__name__, flush=True)
    time.sleep(0.2)
    raise
`;
      const started = Date.now();
      const r = await run(bomb, { max_processes: 16, timeout_s: 5 });
      expect(Date.now() - started).toBeLessThan(10_000 + opts.slowMs);
      expect(opts.forkBombReasons ?? ['pids_limit', 'timeout']).toContain(r.reason);
      expect(r.stdout).toContain('fork refused');
      // Where the host sees the refusals (not gVisor, which refuses inside its own kernel), a
      // timeout must still say that the process limit was hit.
      if (r.reason === 'timeout' && !opts.forkBombReasons) expect(r.message).toMatch(/forks were refused at the process limit \(max_processes 16\)/);
      const after = await run('print("still fine")');
      expect(after.stdout).toBe('still fine\n');
    }, 30_000);

    test('a child fork-bombing beside a printing parent: never an exit code the program did not exit with', async () => {
      // Found by replaying Piston's tests: under gVisor runsc itself died (Go runtime, exit 2)
      // when the host task limit refused it threads, reported as the program's "exit 2".
      const code = `
import os, time
if os.fork() == 0:
    while True:
        try:
            os.fork()
        except OSError:
            pass
for i in range(15):
    print("parent alive", i, flush=True)
    time.sleep(0.1)
`;
      for (const max_processes of [8, 32]) {
        const r = await run(code, { max_processes, timeout_s: 4 });
        expect(r.stdout).toContain('parent alive 0');
        expect([0, null]).toContain(r.exit_code);
        if (r.reason === 'platform_error') expect(r.message).toMatch(/runtime/);
        else expect(['exit_zero', 'timeout', 'oom', 'pids_limit']).toContain(r.reason);
        if (r.reason === 'exit_zero') expect(r.stdout).toContain('parent alive 14');
      }
    }, 30_000);

    test('a fork bomb that keeps forking until the timeout says the process limit refused forks', async () => {
      if (opts.forkBombReasons) return; // gVisor refuses inside its own kernel: the host never sees it
      const bomb = 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass';
      const r = await run(bomb, { max_processes: 16, timeout_s: 1 });
      expect(r.reason).toBe('timeout');
      expect(r.message).toMatch(/forks were refused at the process limit \(max_processes 16\)/);
    });

    test('an inode flood in /tmp and /dev/shm ends in ENOSPC, not oom', async () => {
      if (!opts.inodeCap) return; // gVisor's tmpfs ignores nr_inodes (docs/sandbox.md)
      const code = `
import errno
for d in ("/tmp", "/dev/shm"):
    n = 0
    try:
        while True:
            open(f"{d}/f{n}", "w").close()
            n += 1
    except OSError as e:
        print(d, "stopped", errno.errorcode[e.errno], n > 1000)
`;
      const r = await run(code, { memory_mb: 128, scratch_mb: 8 });
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe('/tmp stopped ENOSPC True\n/dev/shm stopped ENOSPC True\n');
    });

    test('the host kernel command line and boot id are not shown; /proc/sys is not writable', async () => {
      const code = `
import glob
for p in ("/proc/cmdline", "/proc/sys/kernel/random/boot_id"):
    try:
        print(p, repr(open(p).read()))
    except OSError as e:
        print(p, "unreadable", e.errno)
for p in sorted(glob.glob("/proc/sys/kernel/shm*") + glob.glob("/proc/sys/kernel/msgm*") + ["/proc/sys/kernel/sem"] + glob.glob("/proc/sys/fs/mqueue/*")):
    try:
        with open(p, "w") as f:
            f.write("1")
        print("WROTE", p)
    except OSError:
        pass
`;
      const r = await run(code);
      expect(r.reason).toBe('exit_zero');
      const hostCmdline = readFileSync('/proc/cmdline', 'utf8').trim();
      const hostBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      expect(r.stdout).not.toContain(hostCmdline);
      expect(r.stdout).not.toContain(hostBootId);
      expect(r.stdout).not.toContain('WROTE');
    });

    test('a memory bomb ends with reason oom', async () => {
      const r = await run('chunks = []\nwhile True:\n    chunks.append(b"x" * (16 << 20))', { memory_mb: 128 });
      expect(r.reason).toBe('oom');
      expect(r.metrics.peak_memory_bytes).toBeGreaterThan(64 << 20);
      // On the limit the user set: the runtime's own memory is neither counted nor granted (the
      // runtime alone holds ~20 MB). The kernel lets a task it is killing finish its allocations
      // past the limit (memcg force-charges), so the peak it records may pass the limit by a few
      // pages: seen once, by one page.
      if (opts.programMetrics) expect(r.metrics.peak_memory_bytes).toBeLessThanOrEqual((128 << 20) + FORCED_CHARGE_SLACK_BYTES);
    });

    test('a program that SIGKILLs itself is reason signal, not oom', async () => {
      const r = await run('import os, signal\nos.kill(os.getpid(), signal.SIGKILL)');
      expect(r.reason).toBe('signal');
      expect(r.signal).toBe('SIGKILL');
    });

    test('exit codes 129-255 are exit codes; a real signal death is a signal', async () => {
      if (!opts.rawExitStatus) return; // this backend build cannot tell them apart (docs/sandbox.md)
      for (const code of [129, 130, 137, 143, 159, 255]) {
        const r = await run(`import sys\nsys.exit(${code})`);
        expect([r.reason, r.exit_code, r.signal]).toEqual(['exit_nonzero', code, null]);
      }
      const term = await run('import os, signal\nos.kill(os.getpid(), signal.SIGTERM)');
      expect([term.reason, term.exit_code, term.signal]).toEqual(['signal', null, 'SIGTERM']);
    }, 40_000);

    test("the program cannot forge its ending: init's status fd is out of reach, init ignores its signals", async () => {
      const code = `
import os, signal
for path in ("/proc/1/fd/3", "/proc/1/fd/1"):
    try:
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, b"exit 0\\n")
        print("WROTE", path)
    except OSError as e:
        print("blocked", path, e.errno)
for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
    try:
        os.kill(1, sig)
    except OSError as e:
        print("kill refused", e.errno)
for fd in range(3, 64):
    try:
        os.write(fd, b"exit 0\\n")
        print("WROTE fd", fd)
    except OSError:
        pass
raise SystemExit(7)
`;
      const r = await run(code);
      expect(r.stdout).not.toContain('WROTE');
      expect([r.reason, r.exit_code]).toEqual(['exit_nonzero', 7]);
    });

    test('an infinite loop times out and keeps the output printed before', async () => {
      const started = Date.now();
      const r = await run('print("before the loop", flush=True)\nwhile True:\n    pass', { timeout_s: 1 });
      expect(r.reason).toBe('timeout');
      expect(r.stdout).toBe('before the loop\n');
      expect(Date.now() - started).toBeLessThan(5000 + opts.slowMs);
      // Killed at the limit it names, not a start-up grace later.
      if (opts.programMetrics) {
        expect(r.metrics.wall_ms!).toBeGreaterThanOrEqual(950);
        expect(r.metrics.wall_ms!).toBeLessThan(1400);
      }
    });

    test('a double-forked daemon does not outlive the run', async () => {
      const marker = `crucible-daemon-${process.pid}-${Date.now()}`;
      const code = `
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "${marker}"])
    os._exit(0)
time.sleep(0.3)
print("parent done")
`;
      const r = await run(code);
      expect(r.stdout).toContain('parent done');
      await new Promise((res) => setTimeout(res, 200));
      expect(hostProcessesWith(marker)).toEqual([]);
    });

    test('an output flood is truncated and killed with output_limit', async () => {
      const r = await run('import sys\nwhile True:\n    sys.stdout.write("x" * 65536)', { max_output_bytes: 4096 });
      expect(r.reason).toBe('output_limit');
      expect(r.stdout_truncated).toBe(true);
      expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(4096);
      expect(r.stdout).toMatch(/^x+\n…\[crucible: \d+ bytes omitted\]…\nx+$/);
    });

    test('output past the limit is truncated without killing a program that stops', async () => {
      const r = await run('print("y" * 10000)\nprint("done")', { max_output_bytes: 2048 });
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout_truncated).toBe(true);
      expect(r.stdout).toBe(`${'y'.repeat(1024)}\n…[crucible: ${10006 - 1024 - 960} bytes omitted]…\n${'y'.repeat(954)}\ndone\n`);
    });

    test('the end of a long output (the traceback) is kept after the gap', async () => {
      const code = 'for i in range(30000):\n    print(f"line {i}")\nraise RuntimeError("the real problem")';
      const r = await run(code, { max_output_bytes: 65536 });
      expect(r.reason).toBe('exit_nonzero');
      expect(r.stdout_truncated).toBe(true);
      expect(r.stdout.startsWith('line 0\nline 1\n')).toBe(true);
      expect(r.stdout).toMatch(/\n…\[crucible: \d+ bytes omitted\]…\n/);
      expect(r.stdout.endsWith('line 29998\nline 29999\n')).toBe(true);
      expect(r.stderr).toContain('RuntimeError: the real problem');
    });

    test('peak memory of a 120 MB allocation is reported between 100 MB and the limit', async () => {
      const r = await run('data = b"x" * (120 << 20)\nprint(len(data))', { memory_mb: 512 });
      expect(r.reason).toBe('exit_zero');
      expect(r.metrics.peak_memory_bytes).toBeGreaterThan(100 << 20);
      expect(r.metrics.peak_memory_bytes).toBeLessThanOrEqual(512 << 20);
    });

    test("peak memory is the program's even when a busy server reads its start late", async () => {
      // The server's event loop is blocked from just after the code is sent until the program has
      // allocated and ended: its "started" line is read late, which must not move the baseline.
      const stall = stallOnce(800);
      const r = await run('data = b"x" * (120 << 20)\nprint(len(data))', { memory_mb: 512 }, { onSample: stall.now, sampleIntervalMs: 1 });
      expect(stall.done).toBe(true);
      expect(r.reason).toBe('exit_zero');
      expect(r.metrics.peak_memory_bytes).toBeGreaterThan(100 << 20);
      expect(r.metrics.peak_memory_bytes).toBeLessThanOrEqual(512 << 20);
    });

    test("wall time is the program's even when a busy server reads its end late", async () => {
      // The server's event loop is blocked from the program's first output until well after it ended.
      const stall = stallOnce(1200);
      const r = await run('import time\nprint("a", flush=True)\ntime.sleep(0.3)', {}, { onStdout: stall.now });
      expect(stall.done).toBe(true);
      expect(r.reason).toBe('exit_zero');
      expect(r.metrics.wall_ms!).toBeGreaterThanOrEqual(295);
      expect(r.metrics.wall_ms!).toBeLessThan(900);
    });

    test('time.sleep(1) reports about 1000 ms wall time and little CPU', async () => {
      const r = await run('import time\ntime.sleep(1)');
      expect(r.metrics.wall_ms).toBeGreaterThanOrEqual(950);
      expect(r.metrics.wall_ms).toBeLessThan(2000 + opts.slowMs);
      expect(r.metrics.cpu_ms).toBeGreaterThan(0);
      expect(r.metrics.cpu_ms).toBeLessThan(400 + opts.slowMs);
    });

    test('callbacks that throw do not break the run', async () => {
      const boom = () => {
        throw new Error('caller bug');
      };
      const r = await run('print("still here")', {}, { onStart: boom, onStdout: boom, onStderr: boom, onSample: boom, sampleIntervalMs: 10 });
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe('still here\n');
    });

    test('live samples arrive while the program runs', async () => {
      const samples: number[] = [];
      let started = false;
      const r = await run(
        'import time\nx = b"x" * (30 << 20)\ntime.sleep(0.7)',
        {},
        {
          sampleIntervalMs: 100,
          onSample: (s) => samples.push(s.memory_bytes),
          onStart: () => (started = true),
        },
      );
      expect(r.reason).toBe('exit_zero');
      expect(started).toBe(true);
      expect(samples.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...samples)).toBeGreaterThan(20 << 20);
    });

    test('cancellation through the AbortSignal kills the run with reason cancelled', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300 + opts.slowMs);
      const started = Date.now();
      const r = await run('import time\nprint("waiting", flush=True)\ntime.sleep(30)', {}, { signal: controller.signal });
      expect(r.reason).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(5000 + opts.slowMs);
    });

    test('a sandbox killed from outside mid-run ends as platform_error, and the next run is fine', async () => {
      const marker = `crucible-outside-${process.pid}-${Date.now()}`;
      const code = `import os, sys\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", "${marker}"])`;
      let started = false;
      const pending = run(code, {}, { onStart: () => (started = true) });
      const deadline = Date.now() + 10_000 + opts.slowMs;
      // Kill the supervisor processes (everything in the run's process tree that is not the program).
      let victims: number[] = [];
      while (Date.now() < deadline) {
        const program = hostProcessesWith(marker);
        if (started && (program.length > 0 || name === 'gvisor')) {
          victims = supervisorsOf(program[0] ?? null);
          if (victims.length) break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const pid of victims) process.kill(pid, 'SIGKILL');
      const r = await pending;
      expect(victims.length).toBeGreaterThan(0);
      expect(['platform_error', 'signal']).toContain(r.reason);
      if (name === 'bubblewrap') expect(r.reason).toBe('platform_error');
      await new Promise((res) => setTimeout(res, 300));
      expect(hostProcessesWith(marker)).toEqual([]);
      const after = await run('print("next")');
      expect(after.stdout).toBe('next\n');
    }, 30_000);

    test('no cgroup directory of a finished run is left behind', async () => {
      await backend.close?.();
      const leftovers = crucibleCgroupsOf(process.pid);
      expect(leftovers).toEqual([]);
      backend = await create(); // the remaining hooks close it again
    });
  });
}

/**
 * Strings that point at this host's network: its resolvers' addresses and the hosts of its apt
 * mirrors (public Debian defaults excepted, the sandbox may name those).
 */
function hostIdentityStrings(): string[] {
  const found = new Set<string>();
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  for (const m of read('/etc/resolv.conf').matchAll(/^nameserver\s+(\S+)/gm)) found.add(m[1]!);
  let sources = read('/etc/apt/sources.list');
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) sources += `\n${read(`/etc/apt/sources.list.d/${f}`)}`;
  } catch {
    // no sources.list.d
  }
  for (const m of sources.matchAll(/(?:^URIs:\s*|^deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?)(?:[a-z+]+:\/\/)?([^/\s:]+)/gm)) {
    if (!/(^|\.)debian\.org$/.test(m[1]!)) found.add(m[1]!);
  }
  return [...found];
}

/** Host processes whose command line carries the marker. */
/** Python that writes 1 MiB blocks to `path` (64 MiB at most) and prints "full <errno>" or "NO LIMIT". */
export function fillProgram(path: string): string {
  return `
import errno
try:
    with open(${JSON.stringify(path)}, "wb") as f:
        for _ in range(64):
            f.write(b"\\0" * (1 << 20))
            f.flush()
    print("NO LIMIT")
except OSError as e:
    print("full", errno.errorcode[e.errno])
`;
}

/** Host processes whose /proc/<pid>/<file> satisfies `test` (those that exit meanwhile do not). */
function hostProcessesWhere(file: 'cmdline' | 'comm', test: (text: string, pid: number) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (test(readFileSync(`/proc/${entry}/${file}`, 'utf8'), Number(entry))) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export function hostProcessesWith(marker: string): number[] {
  return hostProcessesWhere('cmdline', (cmdline) => cmdline.includes(marker));
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** A server's sandbox spawners (see src/sandbox/run/spawner.ts). */
export function spawnersOf(serverPid: number): number[] {
  return hostProcessesWhere('comm', (comm, pid) => comm.startsWith('crucible-spawn') && parentOf(pid) === serverPid);
}

/** Whether `pid` was started for us: by this process directly or by one of its spawners. */
function launchedByUs(pid: number): boolean {
  const parent = parentOf(pid);
  return parent === process.pid || (parent !== null && spawnersOf(process.pid).includes(parent));
}

/**
 * The launcher (started by us or our spawner) that supervises a run: found from the program's
 * host pid by walking up its parents, or, for gVisor (the program lives inside gVisor's kernel,
 * invisible on the host), as the launched process that runs a runsc bundle.
 */
function supervisorsOf(programPid: number | null): number[] {
  if (programPid !== null) {
    for (let pid: number | null = programPid; pid !== null && pid > 1; pid = parentOf(pid)) {
      if (launchedByUs(pid)) return [pid];
    }
    return [];
  }
  return hostProcessesWhere('cmdline', (cmdline, pid) => cmdline.includes('--bundle') && launchedByUs(pid));
}

/** cgroup directories owned by this process (crucible/p<pid>-*) in any hierarchy. */
export function crucibleCgroupsOf(pid: number): string[] {
  const found: string[] = [];
  for (const root of ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`)]) {
    try {
      for (const inst of readdirSync(`${root}/crucible`)) if (inst.startsWith(`p${pid}-`)) found.push(`${root}/crucible/${inst}`);
    } catch {
      // no crucible dir in this hierarchy
    }
  }
  return found;
}
