/*
 * crucible-launch: the privileged first step of every sandbox, run by the server as root.
 *
 *   crucible-launch --parent-pid PID [--cgroup DIR]... [--seccomp-fd N [--seccomp-bpf FILE]]
 *                   [--open-fd N PATH] [--uid U --gid G] [--status-fd N]
 *                   [--scratch DIR SIZE INODES]... -- PROGRAM ARGS...
 *   crucible-launch --print-oci-seccomp    (the same policy as OCI JSON, for gVisor)
 *   crucible-launch --export-seccomp-bpf   (the policy as BPF on stdout, for --seccomp-bpf)
 *
 * 1. dies with the server (PR_SET_PDEATHSIG) and refuses to start if the server is already gone;
 * 2. moves itself into the run's cgroups, so everything it starts is limited and accounted;
 * 3. becomes a child subreaper and reaps every descendant (no zombie survives the run, and
 *    zombies would otherwise keep counting against pids.current);
 * 4. places the seccomp filter at fd N, for `bwrap --seccomp N`: with --seccomp-bpf, FILE, the
 *    filter exported once at build time by --export-seccomp-bpf (native/build.sh; compiling the
 *    policy with libseccomp cost ~1 ms of CPU on every launch for the same bytes every time),
 *    accepted only as a root-owned regular file nobody else can write; without it, exported now
 *    (libseccomp) into a memfd;
 *    and opens PATH read-only at fd N (e.g. for `bwrap --file N DEST`: the file is copied into
 *    the sandbox, so its host path never shows up in the sandbox's mount table);
 * 4b. --scratch: in a private mount namespace of its own (nothing propagates to the host, and
 *    the mounts vanish with the sandbox's last process), mounts a tmpfs of SIZE bytes and at most
 *    INODES inodes (mode 1777) on DIR (created if missing), for `bwrap --bind DIR /tmp`. bwrap 0.8
 *    can size its tmpfs but not cap its inodes, so a flood of empty files ended as `oom` (inodes
 *    are kernel memory) instead of ENOSPC; the launcher is still root and can mount it;
 * 5. drops to an unprivileged uid/gid with no supplementary groups (bwrap started as root maps
 *    the sandbox user to host root, which could then read root-only host files), sets
 *    no_new_privs and execs PROGRAM.
 * It exits once no descendant is left, with PROGRAM's exit code (or 128+signal). Set-up failures
 * are written as one "error ..." line to the status fd and exit with code 125.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp-policy.h"

#define SETUP_FAILED 125

static int status_fd = -1;

static void fail(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (status_fd >= 0) dprintf(status_fd, "error %s\n", msg);
  else fprintf(stderr, "crucible-launch: %s\n", msg);
  _exit(SETUP_FAILED);
}

static long parse_num(const char *flag, const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s ? s : "", &end, 10);
  if (!s || errno || *end || v < 0) fail("bad value for %s", flag);
  return v;
}

static void join_cgroup(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  /* "0" means the writing process itself. */
  if (fd < 0 || write(fd, "0", 1) != 1) fail("cannot join cgroup %s: %s", dir, strerror(errno));
  close(fd);
}

static void open_at_fd(const char *path, int target) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) fail("cannot open %s: %s", path, strerror(errno));
  if (fd != target) {
    if (dup2(fd, target) < 0) fail("dup2 for %s: %s", path, strerror(errno));
    close(fd);
  }
}

static void install_seccomp_fd(int target) {
  int fd = memfd_create("crucible-seccomp", 0);
  if (fd < 0) fail("memfd_create: %s", strerror(errno));
  int rc = crucible_seccomp_export(fd);
  if (rc < 0) fail("exporting the seccomp filter failed: %s", strerror(-rc));
  if (lseek(fd, 0, SEEK_SET) < 0) fail("lseek: %s", strerror(errno));
  if (fd != target) {
    if (dup2(fd, target) < 0) fail("dup2 seccomp fd: %s", strerror(errno));
    close(fd);
  }
}

/* The filter exported at build time (see --export-seccomp-bpf). It is as trusted as this binary,
 * which sits next to it: accepted only if only root could have written it, and if it looks like a
 * BPF program at all (bwrap refuses a malformed one too, so nothing here can silently unfilter a
 * sandbox). */
#define MAX_BPF_BYTES (4096 * 8) /* BPF_MAXINSNS instructions of 8 bytes */
static void open_seccomp_bpf(const char *path, int target) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) fail("cannot open the seccomp filter %s: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
    fail("refusing the seccomp filter %s: not a root-owned file only root can write", path);
  if (st.st_size <= 0 || st.st_size % 8 != 0 || st.st_size > MAX_BPF_BYTES) fail("refusing the seccomp filter %s: not a BPF program", path);
  if (fd != target) {
    if (dup2(fd, target) < 0) fail("dup2 seccomp fd: %s", strerror(errno));
    close(fd);
  }
}

struct scratch {
  const char *dir;
  long size, inodes;
};

/* mkdir -p, root-owned 0755: mount points only (each sandbox mounts its own tmpfs over them). */
static void mkdir_parents(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(path, 0755) < 0 && errno != EEXIST) fail("mkdir %s: %s", path, strerror(errno));
    *p = saved;
    if (saved == '\0') break;
  }
}

/* Private mount namespace first, so the tmpfs mounts below exist for this sandbox only. */
static void mount_scratch(const struct scratch *s, int n) {
  if (n == 0) return;
  if (unshare(CLONE_NEWNS) < 0) fail("unshare(CLONE_NEWNS): %s", strerror(errno));
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("making mounts private: %s", strerror(errno));
  for (int i = 0; i < n; i++) {
    char opts[128];
    mkdir_parents(s[i].dir);
    snprintf(opts, sizeof opts, "size=%ld,nr_inodes=%ld,mode=1777", s[i].size, s[i].inodes);
    if (mount("tmpfs", s[i].dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) fail("mounting the scratch tmpfs on %s: %s", s[i].dir, strerror(errno));
  }
}

/*
 * Starts the sandbox's process (bwrap) as our child with the run's ids, its own death signal, no
 * new privileges, no core dumps and no blocked signal. vfork: the child only changes what is its
 * own (ids, rlimits, signal mask, no_new_privs) and execs; fork's copy of our page tables (and
 * the copy-on-write faults after it) cost ~0.7 ms of CPU more per run on a paravirtualised host.
 * The child leaves by execv or fail()'s _exit, and we resume once it has. A function of its own,
 * so that nothing of main's can be clobbered by the child sharing our stack.
 */
static __attribute__((noinline)) pid_t start_sandbox(long uid, long gid, char **argv) {
  pid_t self = getpid();
  pid_t child = vfork();
  if (child < 0) fail("vfork: %s", strerror(errno));
  if (child == 0) {
    if (uid >= 0) {
      if (setgroups(0, NULL) < 0) fail("setgroups: %s", strerror(errno));
      if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0) fail("setresgid: %s", strerror(errno));
      if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) fail("setresuid: %s", strerror(errno));
    }
    /* The credential change cleared the death signal: arm it again, then re-check the parent. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != self) _exit(SETUP_FAILED);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    /* No core dumps: they would fill the scratch space or feed a host core_pattern helper. */
    struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) < 0) fail("setrlimit(RLIMIT_CORE): %s", strerror(errno));
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
    fail("cannot execute %s: %s", argv[0], strerror(errno));
  }
  return child;
}

int main(int argc, char **argv) {
  long parent = -1, uid = -1, gid = -1, seccomp_fd = -1, open_fd = -1;
  const char *open_path = NULL, *seccomp_bpf = NULL;
  const char *cgroups[16];
  struct scratch scratch[4];
  int n_cgroups = 0, n_scratch = 0, i;

  if (argc == 2 && !strcmp(argv[1], "--print-oci-seccomp")) {
    crucible_seccomp_print_oci(stdout);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "--export-seccomp-bpf")) {
    int rc = crucible_seccomp_export(STDOUT_FILENO);
    if (rc < 0) fail("exporting the seccomp filter failed: %s", strerror(-rc));
    return 0;
  }
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    if (i + 1 >= argc) fail("missing value for %s", a);
    if (!strcmp(a, "--status-fd")) status_fd = (int)parse_num(a, argv[++i]);
    else if (!strcmp(a, "--parent-pid")) parent = parse_num(a, argv[++i]);
    else if (!strcmp(a, "--uid")) uid = parse_num(a, argv[++i]);
    else if (!strcmp(a, "--gid")) gid = parse_num(a, argv[++i]);
    else if (!strcmp(a, "--seccomp-fd")) seccomp_fd = parse_num(a, argv[++i]);
    else if (!strcmp(a, "--seccomp-bpf")) seccomp_bpf = argv[++i];
    else if (!strcmp(a, "--open-fd")) {
      if (i + 2 >= argc) fail("--open-fd needs FD and PATH");
      open_fd = parse_num(a, argv[++i]);
      open_path = argv[++i];
    } else if (!strcmp(a, "--scratch")) {
      if (i + 3 >= argc) fail("--scratch needs DIR SIZE INODES");
      if (n_scratch == 4) fail("too many scratch mounts");
      scratch[n_scratch].dir = argv[++i];
      scratch[n_scratch].size = parse_num(a, argv[++i]);
      scratch[n_scratch].inodes = parse_num(a, argv[++i]);
      if (scratch[n_scratch].dir[0] != '/') fail("--scratch needs an absolute DIR");
      n_scratch++;
    } else if (!strcmp(a, "--cgroup")) {
      if (n_cgroups == 16) fail("too many cgroups");
      cgroups[n_cgroups++] = argv[++i];
    } else fail("unknown option %s", a);
  }
  if (i >= argc) fail("no program given");
  if ((uid < 0) != (gid < 0)) fail("--uid and --gid go together");
  if (seccomp_bpf && seccomp_fd < 0) fail("--seccomp-bpf needs --seccomp-fd");
  if (status_fd >= 0) fcntl(status_fd, F_SETFD, 0); /* the sandbox's init reports through it too */

  /* A SIGKILLed server must take its sandboxes with it. Checking the parent after arming the
   * signal closes the race where the server died before prctl. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("PR_SET_PDEATHSIG: %s", strerror(errno));
  if (parent >= 0 && getppid() != (pid_t)parent) _exit(SETUP_FAILED);

  for (int c = 0; c < n_cgroups; c++) join_cgroup(cgroups[c]);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  if (seccomp_bpf) open_seccomp_bpf(seccomp_bpf, (int)seccomp_fd);
  else if (seccomp_fd >= 0) install_seccomp_fd((int)seccomp_fd);
  if (open_fd >= 0) open_at_fd(open_path, (int)open_fd);
  mount_scratch(scratch, n_scratch);

  pid_t child = start_sandbox(uid, gid, &argv[i]);
  if (seccomp_fd >= 0) close((int)seccomp_fd);
  if (open_fd >= 0) close((int)open_fd);
  /* The sandbox has its own copies of the five streams (stdin, stdout, stderr, status, code) now.
   * Ours would keep them open until we have reaped everything and exited, so the server would see
   * the end of the output only after our exit and the spawner's report of it (tens of ms on a
   * loaded host, during which the run's lane stays idle). Nothing below writes to them. */
  for (int fd = 0; fd <= 4; fd++) close(fd);
  /* The OOM killer must pick from the sandbox, never the reaper that reports on it. Set after the
   * fork so that nothing in the sandbox inherits the protection. Best effort. */
  int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (oom >= 0) {
    if (write(oom, "-1000", 5) != 5) { /* not fatal */ }
    close(oom);
  }

  /* Reap the program and everything re-parented to us until nothing is left. */
  int child_status = 0;
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: no descendant left */
    }
    if (pid == child) child_status = st;
  }
  if (WIFSIGNALED(child_status)) return 128 + WTERMSIG(child_status);
  return WEXITSTATUS(child_status);
}
