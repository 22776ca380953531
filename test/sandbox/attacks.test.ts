/**
 * Attacks on the bubblewrap sandbox that the shared suite does not cover, each as a real program
 * in a real sandbox: reaching other sandboxes through what the kernel accounts per host user,
 * and system calls the filter must refuse (or, for clone3, make libc fall back from).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../src/domain/limits.js';
import { BubblewrapBackend } from '../../src/sandbox/bubblewrap/backend.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
import type { RunCallbacks, RunResult } from '../../src/ports/sandbox.js';
import { hostProcessesWith } from './suite.js';

let backend: BubblewrapBackend;
let skipReason: string | null = null;
let counter = 0;

const run = (code: string, limits: Partial<Limits> = {}, callbacks: RunCallbacks = {}): Promise<RunResult> =>
  backend.run({ code, environment: 'python', limits: { ...DEFAULT_LIMITS, timeout_s: 10, ...limits }, runId: `atk${process.pid}-${counter++}` }, callbacks);

/** Real and effective host uid/gid of a host process (from /proc/PID/status). */
function hostIds(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)![1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

async function waitFor<T>(what: () => T | null | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bubblewrap attacks', () => {
  beforeAll(async () => {
    const cgroups = cgroupDriver();
    backend = new BubblewrapBackend({ cgroups, warmSandboxes: 2 });
    const health = await backend.health();
    if (!health.ok) skipReason = health.detail;
    else await backend.warm();
  }, 60_000);

  afterAll(async () => {
    await backend?.close();
  }, 60_000);

  const test = (title: string, fn: () => Promise<void>, timeoutMs = 30_000) =>
    it(
      title,
      async (ctx) => {
        if (skipReason) ctx.skip(skipReason);
        await fn();
      },
      timeoutMs,
    );

  test('every sandbox runs as a host uid of its own (65534 inside), so per-user kernel limits are not shared', async () => {
    const marker = `crucible-ids-${process.pid}-${Date.now()}`;
    const sleeper = (n: number) =>
      `import os, sys\nprint(os.getuid(), os.getgid(), flush=True)\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", "${marker}-${n}"])`;
    const controller = new AbortController();
    const runs = [0, 1].map((n) => run(sleeper(n), {}, { signal: controller.signal }));
    const pids = await Promise.all([0, 1].map((n) => waitFor(() => hostProcessesWith(`${marker}-${n}`)[0], 10_000)));
    const ids = pids.map(hostIds);
    controller.abort();
    const results = await Promise.all(runs);
    for (const r of results) expect(r.stdout).toBe('65534 65534\n');
    for (const { uid, gid } of ids) {
      expect(uid).not.toBe(0);
      expect(uid).not.toBe(65534); // the host's nobody, which other sandboxes and host services would share
      expect(gid).toBe(uid);
    }
    expect(ids[0]!.uid).not.toBe(ids[1]!.uid);
  });

  test('the system-call filter refuses what reaches past the sandbox, with clean errors; threads still work', async () => {
    const code = `
import ctypes, errno, fcntl, os, pty, termios, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a) for a in args])
    print(name, "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()))
for family, name in [(2, "inet"), (10, "inet6"), (16, "netlink"), (17, "packet"), (40, "vsock"), (38, "alg")]:
    call("socket " + name, 41, family, 2, 0)
call("socket unix", 41, 1, 1, 0)
call("ptrace attach 1", 101, 16, 1, 0, 0)
call("process_vm_readv", 310, 1, 0, 0, 0, 0, 0)
call("keyctl", 250, 0, 0, 0, 0, 0)
call("add_key", 248, 0, 0, 0, 0, 0)
call("bpf", 321, 0, 0, 0)
call("perf_event_open", 298, 0, 0, 0xffffffffffffffff, 0xffffffffffffffff, 0)
call("userfaultfd", 323, 0)
call("io_uring_setup", 425, 1, 0)
call("unshare user", 272, 0x10000000)
call("setns", 308, 0, 0)
call("clone newuser", 56, 0x10000000 | 17, 0, 0, 0, 0)
call("clone3", 435, 0, 0)
call("mount", 165, 0, 0, 0, 0, 0)
call("chroot", 161, 0)
call("personality read_implies_exec", 135, 0x0400000)
call("personality addr_no_randomize", 135, 0x0040000)
call("personality query", 135, 0xffffffff)
call("personality linux", 135, 0)
class RL(ctypes.Structure): _fields_ = [("cur", ctypes.c_ulong), ("max", ctypes.c_ulong)]
low, own, seen = RL(3, 3), RL(512, 512), RL(0, 0)
call("prlimit init nofile", 302, 1, 7, ctypes.addressof(low), 0)
call("prlimit own nofile", 302, 0, 7, ctypes.addressof(own), 0)
call("prlimit read init", 302, 1, 7, 0, ctypes.addressof(seen))
import socket
a, b = socket.socketpair()
for name, fn in [("send oob", lambda: a.send(b"!", socket.MSG_OOB)), ("sendmsg oob", lambda: a.sendmsg([b"!"], [], socket.MSG_OOB)),
                 ("recv oob", lambda: b.recv(1, socket.MSG_OOB)), ("recvmsg oob", lambda: b.recvmsg(1, 0, socket.MSG_OOB))]:
    try:
        fn()
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
a.send(b"in band"); print("unix stream", b.recv(7).decode().replace(" ", "_"))
m, s = pty.openpty()
try:
    fcntl.ioctl(s, termios.TIOCSTI, b"x")
    print("TIOCSTI ok")
except OSError as e:
    print("TIOCSTI", errno.errorcode[e.errno])
t = threading.Thread(target=print, args=("thread ran",)); t.start(); t.join()
`;
    const r = await run(code);
    expect(r.reason).toBe('exit_zero');
    const lines = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.lastIndexOf(' ')), l.slice(l.lastIndexOf(' ') + 1)]),
    );
    for (const family of ['inet', 'inet6', 'netlink', 'packet', 'vsock', 'alg']) expect(lines[`socket ${family}`]).toBe('EAFNOSUPPORT');
    expect(lines['socket unix']).toBe('ok');
    for (const call of [
      'ptrace attach 1',
      'process_vm_readv',
      'keyctl',
      'add_key',
      'bpf',
      'perf_event_open',
      'userfaultfd',
      'io_uring_setup',
      'unshare user',
      'setns',
      'clone newuser',
      'mount',
      'chroot',
      'TIOCSTI',
    ]) {
      expect([call, lines[call]]).toEqual([call, 'EPERM']);
    }
    // clone3's flags are out of the filter's reach: ENOSYS, so libc falls back to clone (threads above).
    expect(lines.clone3).toBe('ENOSYS');
    expect(lines['personality read_implies_exec']).toBe('EPERM');
    expect(lines['personality addr_no_randomize']).toBe('EPERM');
    expect(lines['personality query']).toBe('ok');
    expect(lines['personality linux']).toBe('ok');
    expect(lines.thread).toBe('ran');
    // init's limits are not the program's to lower (prlimit ignores init being non-dumpable).
    expect(lines['prlimit init nofile']).toBe('EPERM');
    expect(lines['prlimit own nofile']).toBe('ok');
    expect(lines['prlimit read init']).toBe('ok');
    // AF_UNIX out-of-band data (CVE-2025-38236's path out of Chrome's sandbox) is refused; the rest works.
    for (const call of ['send oob', 'sendmsg oob', 'recv oob', 'recvmsg oob']) expect([call, lines[call]]).toEqual([call, 'EPERM']);
    expect(lines['unix stream']).toBe('in_band');
  });

  test('a system call of another ABI (x32) kills the program with SIGSYS instead of bypassing the filter', async () => {
    const r = await run(`
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("calling", flush=True)
libc.syscall(ctypes.c_long(0x40000000 | 272), ctypes.c_long(0x10000000))  # x32 unshare(CLONE_NEWUSER)
print("SURVIVED")
`);
    expect(r.stdout).toBe('calling\n');
    expect(r.reason).toBe('signal');
    expect(r.signal).toBe('SIGSYS');
  });

  test('a sandbox that uses up its inotify instances does not take them from a concurrent one', async () => {
    const hog = `
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while libc.inotify_init() >= 0:
    n += 1
print("hogged", n, flush=True)
time.sleep(30)
`;
    const controller = new AbortController();
    let hogged = false;
    const hogRun = run(hog, {}, { signal: controller.signal, onStdout: (t) => (hogged ||= t.includes('hogged')) });
    await waitFor(() => hogged || null, 10_000);
    const victim = await run(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
print("inotify", "ok" if fd >= 0 else os.strerror(ctypes.get_errno()))
`);
    controller.abort();
    const hogResult = await hogRun;
    expect(hogResult.stdout).toMatch(/hogged \d+/);
    expect(victim.stdout).toBe('inotify ok\n');
  });
});
