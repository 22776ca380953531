/*
 * crucible-spawner: starts sandbox launchers on behalf of the server, so the server never forks.
 *
 *   crucible-spawner SOCKET_PATH SERVER_PID
 *
 * Why: fork() cost grows with the forking process's memory (its page tables are copied), and
 * libuv forks the whole Node server, blocking its event loop for ~10 ms per run at its usual
 * size. This process is tiny, so its fork costs ~0.1 ms, and it runs beside the event loop.
 *
 * Protocol (server -> stdin): frames of a 4-byte little-endian length and a payload of
 * NUL-terminated strings:
 *   "L" ID NSTREAMS ARGC ARGV[0..ARGC-1] ENV...   start ARGV[0] with exactly ENV, cwd "/"
 *   "K" ID                                         SIGKILL that launch, if it has not been reaped
 * Events (stdout -> server), one line each:
 *   "hello PID" once; "spawned ID PID"; "failed ID MESSAGE"; "exit ID CODE SIGNAL" (-1 = none).
 *
 * The child's stdio (fds 0..NSTREAMS-1: stdin, stdout, stderr, status, code) are AF_UNIX stream
 * connections to the server's socket SOCKET_PATH (a root-only directory), each opened before the
 * fork and starting with a 5-byte header (ID big-endian, stream index) that tells the server which
 * launch and stream it is. The server's `net` module cannot receive fds, so the streams come to it
 * as connections instead. Input streams (stdin, code) are shut for writing on our side, so the
 * child cannot talk back on them, just as it could not write to the read end of a pipe. The child
 * inherits nothing else: every other fd is closed before exec.
 *
 * Lifetime: dies with the server (PR_SET_PDEATHSIG, and exits on stdin EOF); each launcher is
 * started with --parent-pid of this process by the server and dies with it in turn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_STREAMS 5
#define MAX_FRAME (1 << 20)
#define MAX_ARGS 4096

struct child {
  uint32_t id;
  pid_t pid;
};

static struct sockaddr_un server_addr;
static struct child *children;
static size_t n_children, cap_children;

static void die(const char *what) {
  fprintf(stderr, "crucible-spawner: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* One event line to the server. A short write means the server is gone: nothing left to do. */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  char line[600];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1, line[n - 1] = '\n';
  for (int off = 0; off < n;) {
    ssize_t w = write(STDOUT_FILENO, line + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) exit(0);
    off += (int)w;
  }
}

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* A connection to the server for stream `index` of launch `id`, header already sent. */
static int connect_stream(uint32_t id, int index) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  unsigned char header[5] = {(unsigned char)(id >> 24), (unsigned char)(id >> 16), (unsigned char)(id >> 8), (unsigned char)id,
                             (unsigned char)index};
  if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0 || write_all(fd, header, sizeof header) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  /* stdin (0) and code (4) only carry data to the child. */
  if ((index == 0 || index == 4) && shutdown(fd, SHUT_WR) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

/* In the child: streams onto fds 0..n-1, nothing else open, default signal state, exec. */
static void exec_child(int *streams, int n, char **argv, char **envp, int err_fd) {
  int high[MAX_STREAMS];
  /* Move the sockets above 0..n-1 first, so the dup2 below cannot clobber one of them. */
  for (int i = 0; i < n; i++) {
    high[i] = fcntl(streams[i], F_DUPFD_CLOEXEC, 16);
    if (high[i] < 0) goto fail;
  }
  for (int i = 0; i < n; i++)
    if (dup2(high[i], i) < 0) goto fail; /* dup2 clears close-on-exec on the target */
  for (int i = n; i < MAX_STREAMS; i++) close(i);
  /* Everything else (our stdio pipes, signalfd, the sockets' originals) goes at exec; err_fd too. */
  if (syscall(SYS_close_range, MAX_STREAMS, ~0U, CLOSE_RANGE_CLOEXEC) < 0) goto fail;
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (chdir("/") < 0) goto fail;
  execve(argv[0], argv, envp);
fail:;
  int e = errno;
  if (write(err_fd, &e, sizeof e) < 0) { /* the parent then sees a plain exit */ }
  _exit(127);
}

static void forget(size_t i) {
  children[i] = children[--n_children];
}

static void launch(char **fields, size_t n_fields) {
  if (n_fields < 4) return;
  uint32_t id = (uint32_t)strtoul(fields[1], NULL, 10);
  int n_streams = atoi(fields[2]);
  size_t argc = strtoul(fields[3], NULL, 10);
  if (n_streams < 3 || n_streams > MAX_STREAMS || argc < 1 || 4 + argc > n_fields) {
    emit("failed %u bad request\n", id);
    return;
  }
  static char *argv[MAX_ARGS + 1];
  memcpy(argv, fields + 4, argc * sizeof *argv);
  argv[argc] = NULL;
  char **envp = fields + 4 + argc; /* up to the NULL handle_frame put after the last field */

  int streams[MAX_STREAMS], n_open = 0, err_pipe[2] = {-1, -1};
  for (; n_open < n_streams; n_open++) {
    streams[n_open] = connect_stream(id, n_open);
    if (streams[n_open] < 0) break;
  }
  pid_t pid = -1;
  int err = 0;
  if (n_open < n_streams) err = errno;
  else if (pipe2(err_pipe, O_CLOEXEC) < 0) err = errno;
  /* vfork: the child only moves fds and execs, and fork's copy of our page tables (and the
   * copy-on-write faults after it) cost ~0.7 ms of CPU more per launch on a paravirtualised
   * host. The child has its own fd table and signal handlers, touches no memory we use, and
   * leaves by execve or _exit; we resume once it has. */
  else if ((pid = vfork()) < 0) err = errno;
  else if (pid == 0) exec_child(streams, n_streams, argv, envp, err_pipe[1]);
  for (int i = 0; i < n_open; i++) close(streams[i]);
  if (err_pipe[1] >= 0) close(err_pipe[1]);
  if (pid > 0) {
    /* Wait for exec (the pipe closes) or its failure (errno arrives): the server learns which. */
    ssize_t r;
    do r = read(err_pipe[0], &err, sizeof err);
    while (r < 0 && errno == EINTR);
    if (r != sizeof err) err = 0;
    if (err) waitpid(pid, NULL, 0);
  }
  if (err_pipe[0] >= 0) close(err_pipe[0]);
  if (err) {
    emit("failed %u %s\n", id, strerror(err));
    return;
  }
  if (n_children == cap_children) {
    cap_children = cap_children ? 2 * cap_children : 64;
    children = realloc(children, cap_children * sizeof *children);
    if (!children) die("realloc");
  }
  children[n_children++] = (struct child){id, pid};
  emit("spawned %u %d\n", id, (int)pid);
}

static void kill_launch(char **fields, size_t n_fields) {
  if (n_fields < 2) return;
  uint32_t id = (uint32_t)strtoul(fields[1], NULL, 10);
  /* Only a child not yet reaped: its pid cannot have been reused. */
  for (size_t i = 0; i < n_children; i++)
    if (children[i].id == id) kill(children[i].pid, SIGKILL);
}

static void handle_frame(char *payload, size_t len) {
  static char *fields[MAX_ARGS + 1];
  size_t n = 0;
  for (size_t off = 0; off < len && n < MAX_ARGS;) {
    char *end = memchr(payload + off, '\0', len - off);
    if (!end) break;
    fields[n++] = payload + off;
    off = (size_t)(end - payload) + 1;
  }
  fields[n] = NULL;
  if (n == 0) return;
  if (!strcmp(fields[0], "L")) launch(fields, n);
  else if (!strcmp(fields[0], "K")) kill_launch(fields, n);
}

static void reap(void) {
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return;
    for (size_t i = 0; i < n_children; i++) {
      if (children[i].pid != pid) continue;
      if (WIFSIGNALED(st)) emit("exit %u -1 %d\n", children[i].id, WTERMSIG(st));
      else emit("exit %u %d -1\n", children[i].id, WEXITSTATUS(st));
      forget(i);
      break;
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: crucible-spawner SOCKET_PATH SERVER_PID\n");
    return 2;
  }
  /* Die with the server; checking the parent after arming closes the race with its death. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("PR_SET_PDEATHSIG");
  if (getppid() != (pid_t)atol(argv[2])) return 1;
  if (strlen(argv[1]) >= sizeof server_addr.sun_path) {
    fprintf(stderr, "crucible-spawner: socket path too long\n");
    return 2;
  }
  server_addr.sun_family = AF_UNIX;
  strcpy(server_addr.sun_path, argv[1]);
  /* Nothing but our stdio may reach the launchers, even if the server leaked an fd to us. */
  syscall(SYS_close_range, 3, ~0U, 0);
  signal(SIGPIPE, SIG_IGN); /* a vanished server shows up as a failed write instead */

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0) die("sigprocmask");
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die("signalfd");
  fcntl(STDIN_FILENO, F_SETFD, FD_CLOEXEC);
  fcntl(STDOUT_FILENO, F_SETFD, FD_CLOEXEC);

  emit("hello %d\n", (int)getpid());
  static char buf[MAX_FRAME + 4];
  size_t have = 0;
  struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {}
      reap();
    }
    if (!fds[0].revents) continue;
    ssize_t n = read(STDIN_FILENO, buf + have, sizeof buf - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0; /* the server closed our stdin (or died): the launchers follow by PDEATHSIG */
    have += (size_t)n;
    size_t off = 0;
    while (have - off >= 4) {
      const unsigned char *p = (const unsigned char *)buf + off;
      uint32_t len = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
      if (len > MAX_FRAME) {
        fprintf(stderr, "crucible-spawner: oversized request\n");
        return 1;
      }
      if (have - off - 4 < len) break;
      handle_frame(buf + off + 4, len);
      off += 4 + len;
    }
    memmove(buf, buf + off, have - off);
    have -= off;
    reap(); /* children that exited while we were busy */
  }
}
