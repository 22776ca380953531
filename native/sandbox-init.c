/*
 * crucible-init: PID 1 inside a bubblewrap sandbox (`bwrap --as-pid-1`).
 *
 *   crucible-init STATUS_FD CODE_FD CODE_PATH PROGRAM ARGS...
 *
 * 1. writes "ready" to STATUS_FD: the sandbox is fully set up (namespaces, mounts, seccomp,
 *    no capabilities). A server can start sandboxes ahead of time and keep them waiting here.
 * 2. reads the program's code from CODE_FD until end of file into CODE_PATH (read-only mode);
 *    the end of the code is the signal to start.
 * 3. runs PROGRAM as its child, writes "started", reaps every orphan in the PID namespace, and
 *    when PROGRAM ends writes its raw wait status as "exit <status>", then exits, which makes
 *    the kernel kill whatever is left in the namespace (daemons cannot outlive the program).
 *
 * bwrap itself only reports 128+signal, so a program calling sys.exit(137) would look like a
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

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: crucible-init STATUS_FD CODE_FD CODE_PATH PROGRAM ARGS...\n");
    return SETUP_FAILED;
  }
  status_fd = atoi(argv[1]);
  int code_fd = atoi(argv[2]);
  prctl(PR_SET_DUMPABLE, 0);
  if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) < 0) status_fd = -1;
  fcntl(code_fd, F_SETFD, FD_CLOEXEC);

  if (status_fd >= 0) dprintf(status_fd, "ready\n");
  receive_code(code_fd, argv[3]);

  pid_t child = fork();
  if (child < 0) report_failure("fork in sandbox", "");
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
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
