/**
 * Attack scenarios: each program tries to reach past the sandbox and prints what it tried and
 * what happened (BLOCKED / ESCAPED / SEEN lines). The demo also checks the host side: nothing
 * connected to its listener, its sentinel process is alive, no process of the run survived it.
 */
import { contains, hostUnharmed, nothingEscaped, that, verdict } from '../checks.js';
import { ATTACK_PRELUDE, py } from '../python.js';
import type { Scenario } from '../types.js';

const attack = (body: string) => `${ATTACK_PRELUDE}\n${body}`;

export const attackScenarios: Scenario[] = [
  {
    name: 'network-exfiltration',
    title: 'Network exfiltration',
    kind: 'attack',
    attack: {
      tries: 'TCP connect to a port the demo listens on at host 127.0.0.1, to the internet, UDP, IPv6 and raw packet sockets',
      stoppedBy: 'seccomp (only AF_UNIX sockets: EAFNOSUPPORT) and a private network namespace with only `lo`',
    },
    expected: 'completed; every connection attempt blocked; the host listener accepted 0 connections',
    request: (host) => ({
      code: attack(String.raw`
import socket
attempt("TCP connect to host 127.0.0.1:${host.listenerPort} (the demo's listener)", lambda: socket.create_connection(("127.0.0.1", ${py(host.listenerPort)}), timeout=2))
attempt("TCP connect to 1.1.1.1:443", lambda: socket.create_connection(("1.1.1.1", 443), timeout=2))
attempt("UDP datagram to 8.8.8.8:53", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)))
attempt("IPv6 TCP socket", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
attempt("raw packet socket (AF_PACKET)", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
observe("network interfaces", lambda: [l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]])
`),
    }),
    check: (run) => [
      ...verdict(run, 'completed', 'exit_zero', 0),
      ...nothingEscaped(run, 5),
      ...that(run.host.listenerConnections === 0, `the host listener accepted ${run.host.listenerConnections} connection(s)`),
    ],
  },
  {
    name: 'dns',
    title: 'DNS lookup',
    kind: 'attack',
    attack: {
      tries: 'resolve a public name (getaddrinfo), find a nameserver in /etc/resolv.conf or other hosts in /etc/hosts, send a raw DNS query',
      stoppedBy:
        "no resolver in the environment's read-only root (an empty resolv.conf, only loopback names in /etc/hosts), no network namespace route, seccomp refuses AF_INET sockets",
    },
    expected: 'completed; name resolution and DNS queries blocked (DNS tunnelling is a classic exfiltration channel)',
    request: () => ({
      code: attack(String.raw`
import socket
attempt("getaddrinfo('example.com')", lambda: socket.getaddrinfo("example.com", 443))
def nameservers():
    servers = [line for line in open("/etc/resolv.conf").read().splitlines() if line.startswith("nameserver")]
    if not servers:
        raise LookupError("no nameserver configured")
    return servers

def other_hosts():
    names = {w for line in open("/etc/hosts").read().splitlines() if not line.startswith("#") for w in line.split()[1:]}
    others = names - {"localhost", "sandbox", "ip6-localhost", "ip6-loopback"}
    if not others:
        raise LookupError("only loopback names")
    return sorted(others)

attempt("find a nameserver in /etc/resolv.conf", nameservers)
attempt("find other hosts in /etc/hosts", other_hosts)
attempt("UDP DNS query to 1.1.1.1:53", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", ("1.1.1.1", 53)))
`),
    }),
    check: (run) => [...verdict(run, 'completed', 'exit_zero', 0), ...nothingEscaped(run, 4)],
  },
  {
    name: 'fork-bomb',
    title: 'Fork bomb',
    kind: 'attack',
    attack: {
      tries: 'every process forks forever to exhaust the host process table and CPU',
      stoppedBy: 'pids cgroup (max_processes 32: fork fails with EAGAIN), CPU quota, wall-clock timeout kills the whole PID namespace',
    },
    expected: 'timeout after 3 s with fork refused (BlockingIOError) inside; the host and the server stay healthy',
    request: () => ({
      code: String.raw`
import os
root = os.getpid()
print("fork bomb: every process forks forever", flush=True)
reported = False
while True:
    try:
        os.fork()
    except OSError as e:
        if os.getpid() == root and not reported:
            reported = True
            print(f"BLOCKED fork: {type(e).__name__}: {e}", flush=True)
`,
      timeout_s: 3,
      max_processes: 32,
    }),
    check: (run) => [...verdict(run, 'timeout', 'timeout'), ...contains(run, 'stdout', 'BLOCKED fork: BlockingIOError'), ...hostUnharmed(run)],
  },
  {
    name: 'filesystem-probe',
    title: 'Filesystem probing and secrets',
    kind: 'attack',
    attack: {
      tries: "write to /, /usr and /etc; read /etc/shadow, /root, /home, the server's data directory (SQLite database) and the server's environment",
      stoppedBy: "mount namespace whose root is the environment's own read-only Debian tree (none of the host's files), unprivileged uid, clean environment",
    },
    expected: "completed; every write and secret read blocked; the server's environment variable is absent",
    request: (host) => ({
      code: attack(String.raw`
DATA = ${py(host.dataDir)}
CANARY = ${py(host.canaryEnv)}

def find_canary():
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            if CANARY.encode() in open(f"/proc/{pid}/environ", "rb").read():
                return f"found in /proc/{pid}/environ"
        except OSError:
            pass
    raise LookupError("not in any visible process environment")

attempt("write /pwned", lambda: open("/pwned", "w").write("x"))
attempt("write /usr/bin/pwned", lambda: open("/usr/bin/pwned", "w").write("x"))
attempt("append to /etc/passwd", lambda: open("/etc/passwd", "a").write("x"))
attempt("read /etc/shadow", lambda: open("/etc/shadow").read()[:60])
attempt("list /root", lambda: os.listdir("/root"))
def host_entries(path):
    entries = os.listdir(path)
    if not entries:
        raise LookupError(f"{path} is the environment's own empty directory")
    return entries

attempt("list /home", lambda: host_entries("/home"))
attempt(f"list the server's data dir {DATA}", lambda: os.listdir(DATA))
attempt(f"read {DATA}/crucible.db", lambda: open(f"{DATA}/crucible.db", "rb").read(16))
attempt(f"read the server's env var {CANARY}", lambda: os.environ[CANARY])
attempt(f"find {CANARY} in /proc/*/environ", find_canary)
observe("visible /", lambda: sorted(os.listdir("/")))
observe("own environment", lambda: sorted(os.environ))
`),
    }),
    check: (run) => [...verdict(run, 'completed', 'exit_zero', 0), ...nothingEscaped(run, 10)],
  },
  {
    name: 'privilege-escalation',
    title: 'Privilege escalation',
    kind: 'attack',
    attack: {
      tries: 'setuid(0), mount, unshare a user or mount namespace, chroot, ptrace PID 1, write a kernel sysctl',
      stoppedBy: 'unprivileged uid (65534) with no capabilities and no_new_privs; seccomp denies mount/unshare/ptrace; /proc/sys read-only',
    },
    expected: 'completed; every call fails with EPERM/EROFS; identity shows uid 65534 with CapEff 0',
    request: () => ({
      code: attack(String.raw`
import ctypes
libc = ctypes.CDLL(None, use_errno=True)

def call(name, *args):
    if getattr(libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise PermissionError(err, os.strerror(err))
    return "succeeded"

observe("identity", lambda: f"uid={os.getuid()} euid={os.geteuid()} gid={os.getgid()} groups={os.getgroups()}")
observe("privileges", lambda: ", ".join(l.split()[0] + l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapBnd", "NoNewPrivs", "Seccomp:"))))
attempt("setuid(0)", lambda: os.setuid(0))
attempt("mount a tmpfs on /tmp", lambda: call("mount", b"none", b"/tmp", b"tmpfs", 0, None))
attempt("unshare(CLONE_NEWUSER)", lambda: call("unshare", 0x10000000))
attempt("unshare(CLONE_NEWNS)", lambda: call("unshare", 0x00020000))
attempt("chroot('/tmp')", lambda: os.chroot("/tmp"))
attempt("ptrace(PTRACE_ATTACH, 1)", lambda: call("ptrace", 16, 1, None, None))
attempt("write /proc/sys/kernel/core_pattern", lambda: open("/proc/sys/kernel/core_pattern", "w").write("|/tmp/x"))
`),
    }),
    check: (run) => [...verdict(run, 'completed', 'exit_zero', 0), ...nothingEscaped(run, 7), ...contains(run, 'stdout', 'uid=65534')],
  },
  {
    name: 'process-escape',
    title: 'Seeing and killing host processes',
    kind: 'attack',
    attack: {
      tries: "list the host's processes, signal the server, SIGKILL a host process the demo started, read its command line",
      stoppedBy: 'PID namespace (host PIDs do not exist inside) with a fresh /proc; unprivileged uid',
    },
    expected: "completed; only the sandbox's own processes are visible; the host sentinel process is still alive afterwards",
    request: (host) => ({
      code: attack(String.raw`
import signal
SENTINEL = ${py(host.sentinelPid)}
observe("visible processes", lambda: {p: open(f"/proc/{p}/comm").read().strip() for p in os.listdir("/proc") if p.isdigit()})
attempt(f"SIGKILL host process {SENTINEL}", lambda: os.kill(SENTINEL, signal.SIGKILL))
attempt(f"read /proc/{SENTINEL}/cmdline", lambda: open(f"/proc/{SENTINEL}/cmdline").read())
`),
    }),
    check: (run) => [
      ...verdict(run, 'completed', 'exit_zero', 0),
      ...nothingEscaped(run, 2),
      ...that(run.host.sentinelAlive, 'the host sentinel process was killed'),
    ],
  },
  {
    name: 'daemon',
    title: 'A daemon that tries to outlive its run',
    kind: 'attack',
    attack: {
      tries: 'double-fork + setsid a process that sleeps 120 s, then exit at once',
      stoppedBy:
        'crucible-init is PID 1 of the PID namespace: when the program exits, the namespace and every process in it are killed; the launcher reaps every descendant and the cgroup is emptied',
    },
    expected: "completed at once (not after 120 s); afterwards no host process carries the daemon's marker",
    request: (host) => ({
      code: String.raw`
import os, time
marker = ${py(`crucible-demo-daemon-${host.nonce}`)}
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/usr/bin/python3", ["python3", "-c", "import time; time.sleep(120)", marker])
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.3)
alive = [p for p in os.listdir("/proc") if p.isdigit() and marker.encode() in open(f"/proc/{p}/cmdline", "rb").read()]
print(f"daemon started by double fork + setsid (pid {alive}), tagged {marker}; the program exits now", flush=True)
`,
    }),
    check: (run) => [
      ...verdict(run, 'completed', 'exit_zero', 0),
      ...contains(run, 'stdout', 'daemon started'),
      ...that(!run.evaluation.stdout.includes('(pid [])'), 'the daemon never started, so this proves nothing'),
      ...that(run.host.leftoverProcesses === 0, `${run.host.leftoverProcesses} process(es) of the run survived it on the host`),
      ...that((run.evaluation.metrics.wall_ms ?? 0) < 10_000, `the run should end when the program exits, took ${run.evaluation.metrics.wall_ms} ms`),
    ],
  },
  {
    name: 'disk-fill',
    title: 'Filling the disk',
    kind: 'attack',
    attack: {
      tries: 'write to /tmp until the disk is full, then to the read-only root, then to /dev/shm and the working directory /sandbox',
      stoppedBy:
        'the only writable places are memory-backed and inside the sandbox: /tmp, /dev/shm and the working directory /sandbox are tmpfs mounts of scratch_mb each (ENOSPC), counted in the memory cgroup; the root is read-only; the host disk is never reached',
    },
    expected:
      'ENOSPC after 16 MiB in /tmp and /dev/shm (15 in /sandbox, which holds the program too), /var/tmp and /usr read-only; the program completes; the host disk is never touched',
    request: () => ({
      code: attack(String.raw`
def fill(path):
    written = 0
    try:
        with open(path, "wb") as f:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
                written += 1
    except OSError as e:
        raise OSError(e.errno, f"{e.strerror} after {written} MiB") from None

attempt("fill /tmp", lambda: fill("/tmp/fill"))
os.remove("/tmp/fill")
attempt("write /var/tmp/fill", lambda: fill("/var/tmp/fill"))
attempt("write /usr/fill", lambda: fill("/usr/fill"))
attempt("fill /dev/shm", lambda: fill("/dev/shm/fill"))
os.remove("/dev/shm/fill")
attempt("fill /sandbox", lambda: fill("/sandbox/fill"))
`),
      scratch_mb: 16,
      memory_mb: 128,
    }),
    check: (run) => [
      ...verdict(run, 'completed', 'exit_zero', 0),
      ...nothingEscaped(run, 5),
      ...that(
        // /sandbox also holds the program itself, so its last whole MiB may not fit.
        (run.evaluation.stdout.match(/No space left on device after 1[56] MiB/g) ?? []).length === 3,
        '/tmp, /dev/shm and /sandbox must each end in ENOSPC at the scratch size',
      ),
    ],
  },
];
