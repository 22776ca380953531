/*
 * crucible-init: PID 1 inside a sandbox (bubblewrap: `bwrap --as-pid-1`; gVisor: the
 * container's process, with the status and program fds handed in by `runsc run --pass-fd`).
 *
 *   crucible-init [--user UID:GID] [--ahead PYTHON] STATUS_FD PROGRAM_FD WORKDIR
 *
 * --user: run the program (and unpack and collect its files) as UID:GID (no supplementary
 * groups), init staying who it was, with RLIMIT_NPROC one less than init's (init's own room). Used under gVisor, where init starts as the sandbox's root
 * (with only CAP_SETUID/CAP_SETGID/CAP_SETPCAP): gVisor does not shield a PID 1 from its
 * namespace's signals as Linux does, so a program of the same uid could kill init (and with it
 * the report of its own ending) or list its fds.
 *
 * --ahead: start `PYTHON main.py` in WORKDIR before the program is known (see start_ahead()), so
 * a warm sandbox's Python has already started when its program arrives; used when the program
 * turns out to be exactly that argv, killed otherwise.
 *
 * 1. writes "ready" to STATUS_FD: the sandbox is fully set up (namespaces, mounts, seccomp,
 *    no capabilities). A server can start sandboxes ahead of time and keep them waiting here.
 * 2. reads the program from PROGRAM_FD: a line "bundle <n>\n", then exactly n bytes (the end of
 *    those is the signal to start: init does not wait for the end of the stream, which the server's
 *    side sends one event-loop turn after the bytes). The n bytes are a sequence of records, each
 *    a text header line and, for some, raw bytes after it:
 *      arg <n>\n<n bytes>              one argv entry of the program, in order (argv[0] is
 *                                      looked up in PATH)
 *      file <p> <n>\n<p bytes><n bytes>  a file of the working directory: relative path, content
 *      collect <files> <bytes>\n       collect WORKDIR/out after the program, within these limits
 *      run\n                           end of the program; nothing may follow
 *    The server builds it (src/sandbox/run/program-bundle.ts) from a validated request; init
 *    checks it again (paths stay inside WORKDIR) since it is the last line of defence.
 * 3. forks the program's process, which becomes the program's user, writes the files into
 *    WORKDIR (so they are the program's own, writable, and count against WORKDIR's tmpfs),
 *    creates WORKDIR/out, changes into WORKDIR and executes argv. Init writes "started <ns>", reaps
 *    every orphan in the PID namespace, and when the program ends writes its raw wait status as
 *    "exit <status> <ns>". (With --ahead, init writes the files itself as the program's user and the
 *    Python started ahead runs them: see run_ahead().)
 * 4. with `collect`: a collector process, again as the program's user, first SIGKILLs every
 *    other process of the sandbox (a daemon left behind cannot change files while they are
 *    read), then walks WORKDIR/out and writes what it finds to STATUS_FD (see collect()); for an
 *    empty WORKDIR/out, init says so itself (output_dir_empty()).
 * 5. exits, which makes the kernel kill whatever is left in the namespace.
 *
 * bwrap and runsc themselves only report 128+signal, so a program calling sys.exit(137) would look like a
 * SIGKILL; the raw status keeps the two apart. As PID 1 it cannot be killed from inside the
 * namespace; it is made non-dumpable and the status fd close-on-exec so the program can neither
 * write fake statuses nor reach the fd through /proc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#define SETUP_FAILED 125
/* The largest program the server sends (code + files + argv, with headers), with room to spare. */
#define MAX_BUNDLE_BYTES (64L * 1024 * 1024)
#define MAX_ARGS 256
#define MAX_FILES 1024
/* Collection bounds that hold whatever the request's limits say. */
#define MAX_DEPTH 16
#define MAX_PATH_BYTES 1024
#define MAX_SCANNED 100000
#define MAX_DROPS_LISTED 100

static int status_fd = -1;

/* Says what failed (with errno) on the status fd; returns -1 for callers that must go on. */
static int say_failure(const char *what, const char *arg) {
  if (status_fd >= 0) dprintf(status_fd, "error %s %s: %s\n", what, arg, strerror(errno));
  return -1;
}

/*
 * The status lines "started" and "exit" carry init's CLOCK_MONOTONIC time in ns: where the host
 * shares that clock (bubblewrap; gVisor's is its own), the server times the program from these
 * moments, not from when it got round to reading the lines (a busy server reads them late).
 */
static long long monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void report_started(void) {
  if (status_fd >= 0) dprintf(status_fd, "started %lld\n", monotonic_ns());
}

static void report_failure(const char *what, const char *arg) {
  say_failure(what, arg);
  _exit(SETUP_FAILED);
}

static void protocol_error(const char *what) {
  errno = EPROTO;
  report_failure("bad program bundle:", what);
}

/* ---- the program bundle ------------------------------------------------------------------ */

struct file_entry {
  char *path;
  const char *content;
  long size;
};

struct program {
  char *argv[MAX_ARGS + 1];
  int argc;
  struct file_entry files[MAX_FILES];
  int nfiles;
  int collect;
  long max_artifacts, max_artifact_bytes;
};

/* Longest "bundle <n>\n" line taken: the digits of MAX_BUNDLE_BYTES and then some. */
#define BUNDLE_HEADER_MAX 32

/*
 * Reads "bundle <n>\n" and the n bytes after it, no more: the bytes are all there once n have
 * come, so init starts the program without waiting for the end of the stream. Anything after them
 * is never read (the fd is closed).
 */
static char *read_bundle(int fd, long *len) {
  char header[BUNDLE_HEADER_MAX + 1];
  long h = 0;
  /* Byte by byte up to the newline: the header is short, and nothing of the body is read into it. */
  for (;;) {
    if (h == BUNDLE_HEADER_MAX) protocol_error("bad bundle header");
    ssize_t r = read(fd, header + h, 1);
    if (r == 0) protocol_error("no bundle header");
    if (r < 0) {
      if (errno == EINTR) continue;
      report_failure("cannot read", "the program");
    }
    if (header[h++] == '\n') break;
  }
  header[h - 1] = '\0';
  long n;
  char tail;
  if (sscanf(header, "bundle %ld%c", &n, &tail) != 1 || n < 0) protocol_error("bad bundle header");
  if (n > MAX_BUNDLE_BYTES) protocol_error("larger than the maximum");
  char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf) report_failure("out of memory reading", "the program");
  long got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, (size_t)(n - got));
    if (r == 0) protocol_error("truncated bundle");
    if (r < 0) {
      if (errno == EINTR) continue;
      report_failure("cannot read", "the program");
    }
    got += r;
  }
  close(fd);
  *len = n;
  return buf;
}

/* Takes `n` bytes at *pos as a fresh NUL-terminated string. */
static char *take(const char *buf, long len, long *pos, long n) {
  if (n < 0 || n > len - *pos) protocol_error("truncated record");
  char *s = malloc((size_t)n + 1);
  if (!s) report_failure("out of memory reading", "the program");
  memcpy(s, buf + *pos, (size_t)n);
  s[n] = '\0';
  *pos += n;
  return s;
}

static void parse_program(const char *buf, long len, struct program *p) {
  long pos = 0;
  memset(p, 0, sizeof *p);
  for (;;) {
    const char *nl = memchr(buf + pos, '\n', (size_t)(len - pos));
    if (!nl || nl - (buf + pos) > 100) protocol_error("bad header line");
    char line[128];
    memcpy(line, buf + pos, (size_t)(nl - (buf + pos)));
    line[nl - (buf + pos)] = '\0';
    pos = nl - buf + 1;
    long a, b;
    char tail;
    if (sscanf(line, "arg %ld%c", &a, &tail) == 1) {
      if (p->argc == MAX_ARGS) protocol_error("too many arguments");
      p->argv[p->argc++] = take(buf, len, &pos, a);
    } else if (sscanf(line, "file %ld %ld%c", &a, &b, &tail) == 2) {
      if (p->nfiles == MAX_FILES) protocol_error("too many files");
      struct file_entry *f = &p->files[p->nfiles++];
      f->path = take(buf, len, &pos, a);
      if (b < 0 || b > len - pos) protocol_error("truncated file");
      f->content = buf + pos;
      f->size = b;
      pos += b;
    } else if (sscanf(line, "collect %ld %ld%c", &a, &b, &tail) == 2) {
      if (a < 0 || b < 0) protocol_error("negative collection limit");
      p->collect = 1;
      p->max_artifacts = a;
      p->max_artifact_bytes = b;
    } else if (!strcmp(line, "run")) {
      if (pos != len) protocol_error("data after run");
      break;
    } else {
      protocol_error("unknown record");
    }
  }
  if (p->argc == 0) protocol_error("no program to run");
  p->argv[p->argc] = NULL;
}

/* ---- files in ---------------------------------------------------------------------------- */

/* A relative path of plain names: no empty, "." or ".." segment, no leading "/". */
static int safe_relative_path(const char *path) {
  if (!*path || *path == '/' || strlen(path) > MAX_PATH_BYTES) return 0;
  for (const char *seg = path;;) {
    const char *end = strchrnul(seg, '/');
    size_t n = (size_t)(end - seg);
    if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 0;
    if (!*end) return 1;
    seg = end + 1;
  }
}

/* Writes all n bytes (retrying on EINTR); -1 with errno set on a failure. */
static int write_fully(int fd, const char *data, long n) {
  for (long off = 0; off < n;) {
    ssize_t w = write(fd, data + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    off += w;
  }
  return 0;
}

static void write_all(int fd, const char *data, long n, const char *what) {
  if (write_fully(fd, data, n) < 0) report_failure("cannot write", what);
}

/*
 * Creates `path` under `root` (directories as needed, never following a link). Failures are said
 * on the status fd and returned, not fatal: placement runs in init itself too (run_ahead), which
 * must go on to report the ending.
 */
static int place_file(int root, const struct file_entry *f) {
  if (!safe_relative_path(f->path)) {
    errno = EINVAL;
    return say_failure("refusing the file path", f->path);
  }
  char *copy = strdup(f->path);
  if (!copy) return say_failure("out of memory placing", f->path);
  int rc = -1, out = -1, dir = dup(root);
  char *seg = copy, *slash;
  if (dir < 0) {
    say_failure("cannot open the directory for", f->path);
    goto done;
  }
  while ((slash = strchr(seg, '/'))) {
    *slash = '\0';
    if (mkdirat(dir, seg, 0755) < 0 && errno != EEXIST) {
      say_failure("cannot create the directory for", f->path);
      goto done;
    }
    int next = openat(dir, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      say_failure("cannot open the directory for", f->path);
      goto done;
    }
    close(dir);
    dir = next;
    seg = slash + 1;
  }
  out = openat(dir, seg, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0) {
    say_failure("cannot create", f->path);
    goto done;
  }
  if (write_fully(out, f->content, f->size) < 0) {
    say_failure("cannot write", f->path);
    goto done;
  }
  rc = 0;
done:
  if (out >= 0) close(out);
  if (dir >= 0) close(dir);
  free(copy);
  return rc;
}

/* Writes the program's files and creates WORKDIR/out; -1 (said why on the status fd) when it cannot. */
static int place_files(const char *workdir, const struct program *p) {
  int root = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) return say_failure("cannot open the working directory", workdir);
  int rc = 0;
  for (int i = 0; i < p->nfiles && rc == 0; i++) rc = place_file(root, &p->files[i]);
  if (rc == 0 && mkdirat(root, "out", 0755) < 0 && errno != EEXIST) rc = say_failure("cannot create the output directory in", workdir);
  close(root);
  return rc;
}

/* ---- files out --------------------------------------------------------------------------- */

/*
 * The collector reads the sandbox's files from inside the sandbox, as the program's user, in the
 * sandbox's mount namespace: it can only ever see what the program could see, so no link, mount
 * or race can make it read a host file. It still never follows a symlink (every open is relative
 * to an open directory, with O_NOFOLLOW), opens only what lstat calls a regular file (then checks
 * again on the open fd, with O_NONBLOCK so a fifo swapped in cannot block it), judges a file by
 * its size before reading a byte (a 1 GiB sparse file is dropped unread), reads at most the
 * remaining byte budget, and scans a bounded number of entries at a bounded depth.
 *
 * Records on STATUS_FD (after "exit"):
 *   artifact <p> <n>\n<p bytes of path><n bytes of content>
 *   drop <reason> <p> <size>\n<p bytes of path>     (the first MAX_DROPS_LISTED; size -1: unknown)
 *   collected <more>\n                              the end; <more> drops were not listed
 */
struct collection {
  long max_files, max_bytes;
  long kept, used, scanned, listed_drops, more_drops;
};

static void emit_drop(struct collection *c, const char *reason, const char *path, long size) {
  if (c->listed_drops >= MAX_DROPS_LISTED) {
    c->more_drops++;
    return;
  }
  c->listed_drops++;
  dprintf(status_fd, "drop %s %zu %ld\n", reason, strlen(path), size);
  write_all(status_fd, path, (long)strlen(path), "the artifacts");
}

static void emit_file(struct collection *c, int dir, const char *name, const char *path) {
  int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    emit_drop(c, "unreadable", path, -1);
    return;
  }
  long room = c->max_bytes - c->used;
  if (st.st_size > room) {
    close(fd);
    emit_drop(c, "max_artifact_bytes", path, (long)st.st_size);
    return;
  }
  /*
   * Exactly the size seen, streamed through a small buffer (no allocation the size of the file:
   * the sandbox's memory limit must not decide the program's verdict after it ended). Should the
   * file change meanwhile (nothing of the program runs any more, so it cannot), it is cut at or
   * padded with zeros up to that size.
   */
  long size = (long)st.st_size;
  dprintf(status_fd, "artifact %zu %ld\n", strlen(path), size);
  write_all(status_fd, path, (long)strlen(path), "the artifacts");
  static char buf[65536];
  for (long sent = 0; sent < size;) {
    long want = size - sent < (long)sizeof buf ? size - sent : (long)sizeof buf;
    ssize_t r = read(fd, buf, (size_t)want);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      memset(buf, 0, (size_t)want);
      r = want;
    }
    write_all(status_fd, buf, r, "the artifacts");
    sent += r;
  }
  close(fd);
  c->kept++;
  c->used += size;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks one directory (`dir` is an open fd, taken over) in name order. */
static void collect_dir(struct collection *c, int dir, const char *prefix, int depth) {
  DIR *d = fdopendir(dir);
  if (!d) {
    close(dir);
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (++c->scanned > MAX_SCANNED) break;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **grown = realloc(names, cap * sizeof *names);
      if (!grown) break;
      names = grown;
    }
    names[n] = strdup(e->d_name);
    if (names[n]) n++;
  }
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    char path[MAX_PATH_BYTES + 1];
    int len = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", names[i]);
    struct stat st;
    if (len < 0 || len > MAX_PATH_BYTES) emit_drop(c, "invalid_name", names[i], -1);
    else if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) emit_drop(c, "unreadable", path, -1);
    else if (S_ISDIR(st.st_mode)) {
      int sub = depth < MAX_DEPTH ? openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
      if (sub < 0) emit_drop(c, depth < MAX_DEPTH ? "unreadable" : "too_deep", path, -1);
      else collect_dir(c, sub, path, depth + 1);
    } else if (!S_ISREG(st.st_mode)) emit_drop(c, "not_a_regular_file", path, -1);
    else if (c->kept >= c->max_files) emit_drop(c, "max_artifacts", path, (long)st.st_size);
    else emit_file(c, dirfd(d), names[i], path);
    free(names[i]);
  }
  free(names);
  closedir(d);
}

/*
 * Opens WORKDIR/out only if it is a directory itself, not a link to one: O_NOFOLLOW alone is not
 * enough under gVisor, whose openat follows a final symlink when O_DIRECTORY is given (seen with
 * runsc 20240729). The open directory must be the very entry lstat saw.
 */
static int open_output_dir(int root, struct stat *opened) {
  struct stat entry;
  if (root < 0 || fstatat(root, "out", &entry, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(entry.st_mode)) return -1;
  int out = openat(root, "out", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out >= 0 && (fstat(out, opened) < 0 || opened->st_dev != entry.st_dev || opened->st_ino != entry.st_ino)) {
    close(out);
    out = -1;
  }
  return out;
}

static void collect(const char *workdir, const struct program *p) {
  /* The program has ended; whatever it left running goes before its files are read. */
  for (int round = 0; round < 3; round++) kill(-1, SIGKILL);
  struct collection c = {.max_files = p->max_artifacts, .max_bytes = p->max_artifact_bytes};
  int root = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  int out = open_output_dir(root, &st);
  if (out >= 0) collect_dir(&c, out, "", 0);
  else if (root >= 0 && faccessat(root, "out", F_OK, AT_SYMLINK_NOFOLLOW) == 0) emit_drop(&c, "not_a_regular_file", "out", -1);
  if (c.scanned > MAX_SCANNED) emit_drop(&c, "scan_limit", "", -1);
  dprintf(status_fd, "collected %ld\n", c.more_drops);
}

/* ---- processes --------------------------------------------------------------------------- */

/* Reads --user's UID:GID; any other form ends the process. */
static void parse_user(const char *spec, uid_t *uid, gid_t *gid) {
  unsigned u, g;
  char tail;
  if (sscanf(spec, "%u:%u%c", &u, &g, &tail) != 2) report_failure("bad --user", spec);
  *uid = u;
  *gid = g;
}

/* Becomes UID:GID for good (all three ids, no groups); any failure ends the child. */
static void become(const char *spec) {
  uid_t uid;
  gid_t gid;
  parse_user(spec, &uid, &gid);
  /* Empty the bounding set too (needs CAP_SETPCAP), so the program's shows no capability at all. */
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) report_failure("PR_CAPBSET_DROP for", spec);
  }
  if (setgroups(0, NULL) < 0) report_failure("setgroups for", spec);
  if (setresgid(gid, gid, gid) < 0) report_failure("setresgid to", spec);
  if (setresuid(uid, uid, uid) < 0) report_failure("setresuid to", spec);
  if (getuid() != uid || geteuid() != uid || getgid() != gid) report_failure("could not become", spec);
}

/*
 * Python started ahead (--ahead). The interpreter's start-up (a few ms bare, far more under
 * gVisor) is most of a short program's time, and a warm sandbox's program is almost always
 * `PYTHON main.py`. So the program's process is forked, becomes the program's user, enters
 * WORKDIR and executes exactly that argv with the same environment, before the program exists.
 * The environments carry a site hook (crucible_ahead.pth, installed by build-environment.sh)
 * that, only in a process given CRUCIBLE_AHEAD_FD, removes that variable and blocks reading
 * the fd: after Python's initialisation, before it opens main.py. Init writes the files, then
 * one byte to the pipe (or closes it unwritten: the hook then ends the process, see
 * release_ahead), and Python runs main.py as `PYTHON main.py` would have: the same argv,
 * sys.path, __main__, fds and modules. The process is the program's from its fork on, exactly
 * as in the cold path; only its start is earlier.
 */
#define AHEAD_ENV "CRUCIBLE_AHEAD_FD"
#define AHEAD_SCRIPT "main.py"

struct ahead {
  const char *python;
  pid_t pid;
  int go_fd;
};

/*
 * Makes a forked child the program's process. Under --user (gVisor) the runtime's RLIMIT_NPROC
 * has room for init itself, which counts against it like any task: the program gets one less,
 * its own max_processes (lowering a limit needs no privilege).
 */
static void enter_program_process(const char *user) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (!user) return;
  struct rlimit nproc;
  if (getrlimit(RLIMIT_NPROC, &nproc) == 0 && nproc.rlim_cur != RLIM_INFINITY && nproc.rlim_cur > 1) {
    nproc.rlim_cur -= 1;
    if (nproc.rlim_max != RLIM_INFINITY) nproc.rlim_max -= 1;
    if (setrlimit(RLIMIT_NPROC, &nproc) < 0) report_failure("cannot lower RLIMIT_NPROC for", user);
  }
  become(user);
}

/*
 * The child of start_ahead: lowers its RLIMIT_NPROC, becomes the program's user, enters WORKDIR
 * and execs Python with `envp`, keeping only `go_fd` open beyond stdio. vfork: the child changes
 * only what is its own (ids, rlimits, cwd, fd flags) and writes no memory of ours; fork's copy of
 * our page tables (and the copy-on-write faults after it) cost ~0.7 ms of CPU more per sandbox
 * on a paravirtualised host. It leaves by execve or _exit, and we resume once it has. A function
 * of its own, so that nothing of the caller's can be clobbered by the child sharing our stack.
 */
static __attribute__((noinline)) pid_t spawn_waiting_python(const char *python, const char *user, const char *workdir, int go_fd, char **envp) {
  pid_t pid = vfork();
  if (pid == 0) {
    enter_program_process(user);
    if (chdir(workdir) < 0) _exit(SETUP_FAILED);
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (fcntl(go_fd, F_SETFD, 0) < 0) _exit(SETUP_FAILED);
    char *argv[] = {(char *)python, AHEAD_SCRIPT, NULL};
    execve(python, argv, envp);
    _exit(SETUP_FAILED);
  }
  return pid;
}

static void start_ahead(struct ahead *a, const char *user, const char *workdir) {
  int pipe_fds[2];
  a->pid = -1;
  a->go_fd = -1;
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) return; /* the cold path still works */
  /* The child's environment: ours plus the hook's fd, built here because the vfork child below
   * must not change our memory (setenv would). */
  size_t n_env = 0;
  while (environ[n_env]) n_env++;
  char fd_var[sizeof AHEAD_ENV + 16];
  snprintf(fd_var, sizeof fd_var, "%s=%d", AHEAD_ENV, pipe_fds[0]);
  char **envp = malloc((n_env + 2) * sizeof *envp);
  pid_t pid = -1;
  if (envp) {
    size_t n = 0;
    for (size_t i = 0; i < n_env; i++)
      if (strncmp(environ[i], AHEAD_ENV "=", sizeof AHEAD_ENV)) envp[n++] = environ[i];
    envp[n++] = fd_var;
    envp[n] = NULL;
    pid = spawn_waiting_python(a->python, user, workdir, pipe_fds[0], envp);
    free(envp);
  }
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return;
  }
  close(pipe_fds[0]);
  a->pid = pid;
  a->go_fd = pipe_fds[1];
}

/* Whether the program is exactly what was started ahead, and that process is still waiting. */
static int ahead_fits(const struct ahead *a, const struct program *p) {
  if (a->pid <= 0 || p->argc != 2 || strcmp(p->argv[0], a->python) || strcmp(p->argv[1], AHEAD_SCRIPT)) return 0;
  int st;
  return waitpid(a->pid, &st, WNOHANG) == 0;
}

/* Ends a Python started ahead that will not run the program (the hook exits on EOF; SIGKILL in case it has not reached the hook). */
static void discard_ahead(struct ahead *a) {
  if (a->pid <= 0) return;
  close(a->go_fd);
  kill(a->pid, SIGKILL);
  waitpid(a->pid, NULL, 0);
  a->pid = -1;
}

/* Waits for `child`, reaping every orphan meanwhile; returns its raw wait status. */
static int wait_for(pid_t child);

/* Sends the go byte; a Python that died meanwhile (EPIPE) must not take init down with SIGPIPE. */
static void send_go(int fd) {
  sigset_t pipe_only, before;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_only, &before);
  const char go = 'g';
  ssize_t w;
  do w = write(fd, &go, 1);
  while (w < 0 && errno == EINTR);
  if (w < 0 && errno == EPIPE) {
    const struct timespec now = {0, 0};
    sigtimedwait(&pipe_only, NULL, &now); /* the pending SIGPIPE, consumed */
  }
  sigprocmask(SIG_SETMASK, &before, NULL);
  close(fd);
}

/*
 * Writes the program's files from init itself, with the program's user's identity, as the cold
 * path's child does: a fork costs tens of ms under gVisor. Under bubblewrap init already is that
 * user. Under --user, init takes the user's ids as its effective (file-system) ids only while it
 * writes; its real and saved ids stay its own, so it takes its own back, and meanwhile nothing
 * of the user's can signal it (the real uid is not theirs) or read its memory or fds (it is
 * non-dumpable). No program code runs yet: the only other process is the Python started ahead,
 * blocked in the site hook. Returns -1 when the ids cannot be switched (the caller forks a
 * process of the user instead), else 0 with *st the wait status a placing child would have had.
 */
static int place_files_in_init(const char *user, const char *workdir, const struct program *p, int *st) {
  if (!user) {
    *st = place_files(workdir, p) == 0 ? 0 : SETUP_FAILED << 8;
    return 0;
  }
  uid_t uid, euid = geteuid();
  gid_t gid, egid = getegid();
  parse_user(user, &uid, &gid);
  if (setresgid(-1, gid, -1) < 0) return -1;
  if (setresuid(-1, uid, -1) < 0) {
    if (setresgid(-1, egid, -1) < 0) report_failure("cannot take back init's group after", user);
    return -1;
  }
  *st = place_files(workdir, p) == 0 ? 0 : SETUP_FAILED << 8;
  if (setresuid(-1, euid, -1) < 0 || setresgid(-1, egid, -1) < 0 || geteuid() != euid || getegid() != egid) {
    report_failure("cannot take back init's identity after writing the files as", user);
  }
  return 0;
}

/* The files written by a short-lived process of the program's user; -1 when it cannot be forked. */
static int place_files_in_child(const char *user, const char *workdir, const struct program *p, int *st) {
  pid_t placer = fork();
  if (placer < 0) return -1;
  if (placer == 0) {
    enter_program_process(user);
    _exit(place_files(workdir, p) == 0 ? 0 : SETUP_FAILED);
  }
  while (waitpid(placer, st, 0) < 0) {
    if (errno != EINTR) {
      *st = SETUP_FAILED << 8;
      break;
    }
  }
  return 0;
}

/*
 * Hands the program to the Python started ahead: its files are written as the program's user
 * (as the cold path's child writes them), then the go byte. Returns 0 when that cannot be done
 * (e.g. max_processes 1 with no room to fork a writer: the caller then discards the ahead process
 * and runs the cold path), else 1 with the program's raw wait status in *status.
 */
static int run_ahead(struct ahead *a, const struct program *p, const char *user, const char *workdir, int *status) {
  int st;
  if (place_files_in_init(user, workdir, p, &st) < 0 && place_files_in_child(user, workdir, p, &st) < 0) return 0;
  /* Started once the files are in: the server measures the program (time, CPU, memory) from here, with nothing else of init's still running. */
  report_started();
  if (st != 0) {
    /* The files could not be written (it said why on the status fd): as the cold path's child, that is the program's ending. */
    discard_ahead(a);
    *status = st;
    return 1;
  }
  send_go(a->go_fd);
  a->go_fd = -1;
  *status = wait_for(a->pid);
  return 1;
}

static int wait_for(pid_t child) {
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      _exit(SETUP_FAILED); /* cannot happen: it is our child */
    }
    if (pid == child) return st;
  }
}

static int finish(int st, const struct program *p, const char *user, const char *workdir);

int main(int argc, char **argv) {
  const char *user = NULL;
  struct ahead ahead = {.python = NULL, .pid = -1, .go_fd = -1};
  if (argc > 2 && !strcmp(argv[1], "--user")) {
    user = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc > 2 && !strcmp(argv[1], "--ahead")) {
    ahead.python = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: crucible-init [--user UID:GID] [--ahead PYTHON] STATUS_FD PROGRAM_FD WORKDIR\n");
    return SETUP_FAILED;
  }
  status_fd = atoi(argv[1]);
  int program_fd = atoi(argv[2]);
  const char *workdir = argv[3];
  prctl(PR_SET_DUMPABLE, 0);
  if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) < 0) status_fd = -1;
  fcntl(program_fd, F_SETFD, FD_CLOEXEC);

  if (ahead.python) start_ahead(&ahead, user, workdir);
  if (status_fd >= 0) dprintf(status_fd, "ready\n");
  long len;
  char *bundle = read_bundle(program_fd, &len);
  static struct program program;
  parse_program(bundle, len, &program);

  int ahead_status;
  if (ahead_fits(&ahead, &program) && run_ahead(&ahead, &program, user, workdir, &ahead_status)) return finish(ahead_status, &program, user, workdir);
  discard_ahead(&ahead);

  pid_t child = fork();
  if (child < 0) report_failure("fork in sandbox", "");
  if (child == 0) {
    enter_program_process(user);
    if (place_files(workdir, &program) < 0) _exit(SETUP_FAILED);
    if (chdir(workdir) < 0) report_failure("cannot enter", workdir);
    /* Whatever bwrap left open (beyond stdio) is not the program's business. */
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    execvp(program.argv[0], program.argv);
    /* A command that does not exist is the program's failure (as in a shell), not the sandbox's. */
    int err = errno;
    dprintf(2, "crucible: cannot run %s: %s\n", program.argv[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
  }
  report_started();
  return finish(wait_for(child), &program, user, workdir);
}

/*
 * Whether WORKDIR/out is an empty directory that the program's user owns and can read: the
 * collector would then report nothing, and "collected 0" needs no collector process (a fork,
 * tens of ms under gVisor). Init only lists it, through fds opened without following links;
 * anything else (a link, a file, a directory it cannot open, an entry) goes to the collector. A
 * process the program left behind may still add a file after the listing: the files are those
 * of one moment after the program's end either way, and init's exit then kills it.
 */
static int output_dir_empty(const char *user, const char *workdir) {
  uid_t owner = getuid();
  gid_t group;
  if (user) parse_user(user, &owner, &group);
  int root = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) return 0;
  struct stat st;
  int out = open_output_dir(root, &st);
  close(root);
  if (out < 0) return 0;
  DIR *d;
  if (st.st_uid != owner || (st.st_mode & 0500) != 0500 || !(d = fdopendir(out))) {
    close(out);
    return 0;
  }
  int empty = 1;
  struct dirent *e;
  while (empty && (e = readdir(d))) empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
  closedir(d);
  return empty;
}

/* Reports the program's ending, collects its files, and returns init's own exit code. */
static int finish(int st, const struct program *p, const char *user, const char *workdir) {
  if (status_fd >= 0) dprintf(status_fd, "exit %d %lld\n", st, monotonic_ns());
  if (p->collect && status_fd >= 0) {
    if (output_dir_empty(user, workdir)) {
      dprintf(status_fd, "collected 0\n"); /* what the collector would say */
    } else {
      pid_t collector = fork();
      if (collector == 0) {
        if (user) become(user);
        collect(workdir, p);
        _exit(0);
      }
      if (collector > 0) wait_for(collector);
    }
  }
  return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
