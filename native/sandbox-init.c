/*
 * crucible-init: PID 1 inside a sandbox (bubblewrap: `bwrap --as-pid-1`; gVisor: the
 * container's process, with the status fd handed in by `runsc run --pass-fd`).
 *
 *   crucible-init [--user UID:GID] STATUS_FD CODE_FD CODE_PATH PROGRAM ARGS...
 *
 * --user: run PROGRAM as UID:GID (no supplementary groups), init staying who it was. Used under
 * gVisor, where init starts as the sandbox's root (with only CAP_SETUID/CAP_SETGID/CAP_SETPCAP): gVisor does
 * not shield a PID 1 from its namespace's signals as Linux does, so a program of the same uid
 * could kill init (and with it the report of its own ending) or list its fds.
 * CODE_FD "-" means the code is already at CODE_PATH (gVisor binds it in from the bundle).
 *
 * 1. writes "ready" to STATUS_FD: the sandbox is fully set up (namespaces, mounts, seccomp,
 *    no capabilities). A server can start sandboxes ahead of time and keep them waiting here.
 * 2. reads the program's code from CODE_FD until end of file into CODE_PATH (read-only mode);
 *    the end of the code is the signal to start.
 * 3. runs PROGRAM as its child, writes "started", reaps every orphan in the PID namespace, and
 *    when PROGRAM ends writes its raw wait status as "exit <status>", then exits, which makes
 *    the kernel kill whatever is left in the namespace (daemons cannot outlive the program).
 *
 * bwrap and runsc themselves only report 128+signal, so a program calling sys.exit(137) would look like a
 * SIGKILL; the raw status keeps the two apart. As PID 1 it cannot be killed from inside the
 * namespace; it is made non-dumpable and the status fd close-on-exec so the program can neither
 * write fake statuses nor reach the fd through /proc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#define SETUP_FAILED 125

static int status_fd = -1;

static void report_failure(const char *what, const char *arg) {
  if (status_fd >= 0) dprintf(status_fd, "error %s %s: %s\n", what, arg, strerror(errno));
  _exit(SETUP_FAILED);
}

static void receive_code(int code_fd, const char *path) {
  int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (out < 0) report_failure("cannot create", path);
  char buf[65536];
  for (;;) {
    ssize_t n = read(code_fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      report_failure("cannot read the program code for", path);
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        report_failure("cannot write", path);
      }
      off += w;
    }
  }
  close(out);
  close(code_fd);
}

/* Becomes UID:GID for good (all three ids, no groups); any failure ends the child. */
static void become(const char *spec) {
  unsigned uid, gid;
  char tail;
  if (sscanf(spec, "%u:%u%c", &uid, &gid, &tail) != 2) report_failure("bad --user", spec);
  /* Empty the bounding set too (needs CAP_SETPCAP), so the program's shows no capability at all. */
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) report_failure("PR_CAPBSET_DROP for", spec);
  }
  if (setgroups(0, NULL) < 0) report_failure("setgroups for", spec);
  if (setresgid(gid, gid, gid) < 0) report_failure("setresgid to", spec);
  if (setresuid(uid, uid, uid) < 0) report_failure("setresuid to", spec);
  if (getuid() != uid || geteuid() != uid || getgid() != gid) report_failure("could not become", spec);
}

int main(int argc, char **argv) {
  const char *user = NULL;
  if (argc > 2 && !strcmp(argv[1], "--user")) {
    user = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc < 5) {
    fprintf(stderr, "usage: crucible-init [--user UID:GID] STATUS_FD CODE_FD CODE_PATH PROGRAM ARGS...\n");
    return SETUP_FAILED;
  }
  status_fd = atoi(argv[1]);
  int code_fd = strcmp(argv[2], "-") ? atoi(argv[2]) : -1;
  prctl(PR_SET_DUMPABLE, 0);
  if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) < 0) status_fd = -1;
  if (code_fd >= 0) fcntl(code_fd, F_SETFD, FD_CLOEXEC);

  if (status_fd >= 0) dprintf(status_fd, "ready\n");
  if (code_fd >= 0) receive_code(code_fd, argv[3]);

  pid_t child = fork();
  if (child < 0) report_failure("fork in sandbox", "");
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (user) become(user);
    /* Whatever bwrap left open (beyond stdio) is not the program's business. */
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    execv(argv[4], &argv[4]);
    report_failure("cannot execute in sandbox", argv[4]);
  }
  if (status_fd >= 0) dprintf(status_fd, "started\n");
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      return SETUP_FAILED; /* cannot happen: the program is our child */
    }
    if (pid != child) continue; /* an orphan re-parented to us */
    if (status_fd >= 0) dprintf(status_fd, "exit %d\n", st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
  }
}
