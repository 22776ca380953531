/*
 * The system-call policy of a Crucible sandbox, as one table with two outputs:
 *  - classic BPF built with libseccomp (the format `bwrap --seccomp FD` loads), and
 *  - the OCI runtime-spec JSON form (linux.seccomp), which gVisor enforces inside its own kernel
 *    with `runsc --oci-seccomp`,
 * so both backends refuse the same calls. Default allow, with a deny list of everything that
 * reaches past the sandbox: other network families, debugging other processes, mounting, new
 * namespaces, kernel keyrings, eBPF, io_uring, module/kexec/reboot/clock control, terminal
 * injection. Denied calls fail with an errno (EPERM mostly) instead of killing the process, so
 * a program sees a clean Python exception it can report.
 */
#define _GNU_SOURCE
#include "seccomp-policy.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/*
 * A rule matches when every one of its checks (at most two, on different arguments) holds.
 * MIXED_BITS_32 (one check only) stands for "the argument's low 32 bits are neither all 0 nor
 * all 1", which a filter cannot test at once: see mixed_bits_check.
 */
enum op { NONE, NE, MASKED_EQ, MIXED_BITS_32 };

struct check {
  enum op op;
  unsigned arg;
  unsigned long mask; /* MASKED_EQ only */
  unsigned long value;
};

struct rule {
  const char *syscall;
  int err;
  struct check a, b;
  /* Left out of the OCI form (gVisor), see the rule's comment. */
  int bpf_only;
};

#define DENY(name) {name, EPERM, {NONE, 0, 0, 0}, {NONE, 0, 0, 0}, 0}
#define DENY_IF(name, err, check) {name, err, check, {NONE, 0, 0, 0}, 0}
#define ARG_NE(i, v) {NE, i, 0, v}
#define ARG_HAS_BITS(i, bits) {MASKED_EQ, i, bits, bits}
#define ARG_EQ_32(i, v) {MASKED_EQ, i, 0xffffffffu, v}
#define ARG_MIXED_BITS_32(i) {MIXED_BITS_32, i, 0, 0}
#define NEW_NAMESPACE(flag) DENY_IF("clone", EPERM, ARG_HAS_BITS(0, flag))

static const struct rule policy[] = {
    /* seeing or steering other processes */
    DENY("ptrace"), DENY("process_vm_readv"), DENY("process_vm_writev"), DENY("kcmp"), DENY("pidfd_getfd"),
    /* file systems and namespaces */
    DENY("mount"), DENY("umount2"), DENY("pivot_root"), DENY("chroot"), DENY("move_mount"),
    DENY("open_tree"), DENY("fsopen"), DENY("fsconfig"), DENY("fsmount"), DENY("fspick"),
    DENY("mount_setattr"), DENY("unshare"), DENY("setns"), DENY("name_to_handle_at"),
    DENY("open_by_handle_at"), DENY("fanotify_init"), DENY("quotactl"), DENY("quotactl_fd"),
    /* kernel keyrings */
    DENY("keyctl"), DENY("add_key"), DENY("request_key"),
    /* kernel attack surface that untrusted code has no use for */
    DENY("bpf"), DENY("perf_event_open"), DENY("userfaultfd"), DENY("io_uring_setup"),
    DENY("io_uring_enter"), DENY("io_uring_register"), DENY("lookup_dcookie"), DENY("vhangup"),
    DENY("iopl"), DENY("ioperm"),
    /* machine administration */
    DENY("init_module"), DENY("finit_module"), DENY("delete_module"), DENY("kexec_load"),
    DENY("kexec_file_load"), DENY("reboot"), DENY("swapon"), DENY("swapoff"), DENY("acct"),
    DENY("settimeofday"), DENY("clock_settime"), DENY("clock_adjtime"), DENY("adjtimex"),
    DENY("sethostname"), DENY("setdomainname"), DENY("syslog"), DENY("nfsservctl"), DENY("uselib"),
    /* only local (AF_UNIX) sockets: multiprocessing and friends keep working, nothing else */
    DENY_IF("socket", EAFNOSUPPORT, ARG_NE(0, AF_UNIX)), DENY_IF("socketpair", EAFNOSUPPORT, ARG_NE(0, AF_UNIX)),
    /* Out-of-band data on AF_UNIX sockets: a rarely used kernel path with a history of
     * use-after-free bugs (CVE-2025-38236 escaped Chrome's renderer sandbox through it); TCP's
     * urgent data, its only other use, is unreachable anyway. The flags argument of each call: */
    DENY_IF("sendto", EPERM, ARG_HAS_BITS(3, MSG_OOB)), DENY_IF("recvfrom", EPERM, ARG_HAS_BITS(3, MSG_OOB)),
    DENY_IF("sendmsg", EPERM, ARG_HAS_BITS(2, MSG_OOB)), DENY_IF("recvmsg", EPERM, ARG_HAS_BITS(2, MSG_OOB)),
    DENY_IF("sendmmsg", EPERM, ARG_HAS_BITS(3, MSG_OOB)), DENY_IF("recvmmsg", EPERM, ARG_HAS_BITS(3, MSG_OOB)),
    /* fork and threads use clone without namespace flags; any namespace flag is refused */
    NEW_NAMESPACE(CLONE_NEWNS), NEW_NAMESPACE(CLONE_NEWUSER), NEW_NAMESPACE(CLONE_NEWPID),
    NEW_NAMESPACE(CLONE_NEWNET), NEW_NAMESPACE(CLONE_NEWIPC), NEW_NAMESPACE(CLONE_NEWUTS),
    NEW_NAMESPACE(CLONE_NEWCGROUP), NEW_NAMESPACE(CLONE_NEWTIME),
    /* clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
     * Not in the OCI form: runsc (20221219) ignores errnoRet and answers EPERM to every denied
     * call, which libc does not fall back from, so no thread could start under gVisor. gVisor's
     * kernel has no clone3 of its own (ENOSYS), and its namespaces never reach the host's. */
    {"clone3", ENOSYS, {NONE, 0, 0, 0}, {NONE, 0, 0, 0}, 1},
    /* Setting another process's resource limits: the sandbox's init runs as the same user as the
     * program, and prlimit (unlike ptrace) does not care that init is non-dumpable, so a program
     * could lower init's limits (e.g. RLIMIT_CPU, which the kernel enforces with SIGKILL even on
     * a namespace's init; a killed init makes the run look like a platform failure). Setting its
     * own limits (pid 0: what setrlimit does) and reading anyone's remain allowed. */
    {"prlimit64", EPERM, ARG_NE(0, 0), ARG_NE(2, 0), 0},
    /* execution domains: READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO and friends only
     * weaken the program's own hardening and reach old, rarely used kernel paths. Only the
     * default domain (PER_LINUX, 0) and the query (0xffffffff) remain. */
    DENY_IF("personality", EPERM, ARG_MIXED_BITS_32(0)),
    /* typing into someone's terminal (TIOCSTI) or the console (TIOCLINUX) */
    DENY_IF("ioctl", EPERM, ARG_EQ_32(1, TIOCSTI)), DENY_IF("ioctl", EPERM, ARG_EQ_32(1, TIOCLINUX)),
};

#define POLICY_SIZE (sizeof policy / sizeof *policy)

/*
 * A filter compares one argument once per rule, so "neither 0 nor 0xffffffff" is written as 32
 * rules: a 32-bit value that is neither has, somewhere, a 1 bit whose (cyclically) next bit is 0,
 * and rule k matches exactly "bit k is 1 and bit k+1 is 0". The check of rule k:
 */
#define MIXED_BITS_RULES 32
static struct check mixed_bits_check(unsigned arg, unsigned k) {
  unsigned long value = 1ul << k;
  struct check c = {MASKED_EQ, arg, value | (1ul << ((k + 1) % 32)), value};
  return c;
}

static struct scmp_arg_cmp to_cmp(const struct check *c) {
  if (c->op == NE) return SCMP_CMP(c->arg, SCMP_CMP_NE, c->value);
  return SCMP_CMP(c->arg, SCMP_CMP_MASKED_EQ, c->mask, c->value);
}

int crucible_seccomp_export(int out_fd) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return -ENOMEM;
  /* A foreign-architecture call (32-bit int 0x80, x32) would bypass every rule: end the process. */
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  for (size_t i = 0; rc == 0 && i < POLICY_SIZE; i++) {
    const struct rule *r = &policy[i];
    int nr = seccomp_syscall_resolve_name(r->syscall);
    if (nr == __NR_SCMP_ERROR) continue; /* not a syscall on this architecture: nothing to deny */
    if (r->a.op == MIXED_BITS_32) {
      for (unsigned k = 0; rc == 0 && k < MIXED_BITS_RULES; k++) {
        struct check c = mixed_bits_check(r->a.arg, k);
        struct scmp_arg_cmp cmp = to_cmp(&c);
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, 1, &cmp);
      }
    } else {
      struct scmp_arg_cmp cmps[2];
      unsigned n = 0;
      if (r->a.op != NONE) cmps[n++] = to_cmp(&r->a);
      if (r->b.op != NONE) cmps[n++] = to_cmp(&r->b);
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, n, n ? cmps : NULL);
    }
    if (rc < 0) fprintf(stderr, "crucible seccomp: rule for %s: %s\n", r->syscall, strerror(-rc));
  }
  if (rc == 0) rc = seccomp_export_bpf(ctx, out_fd);
  seccomp_release(ctx);
  return rc;
}

static void print_check(FILE *out, const struct check *c, const char *sep) {
  if (c->op == NE) fprintf(out, "%s{\"index\":%u,\"value\":%lu,\"op\":\"SCMP_CMP_NE\"}", sep, c->arg, c->value);
  else fprintf(out, "%s{\"index\":%u,\"value\":%lu,\"valueTwo\":%lu,\"op\":\"SCMP_CMP_MASKED_EQ\"}", sep, c->arg, c->mask, c->value);
}

static void print_oci_rule(FILE *out, const char *sep, const struct rule *r, const struct check *a, const struct check *b) {
  fprintf(out, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":%d", sep, r->syscall, r->err);
  if (a->op != NONE) {
    fputs(",\"args\":[", out);
    print_check(out, a, "");
    if (b->op != NONE) print_check(out, b, ",");
    fputc(']', out);
  }
  fputc('}', out);
}

void crucible_seccomp_print_oci(FILE *out) {
  fprintf(out, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[");
  const char *sep = "";
  for (size_t i = 0; i < POLICY_SIZE; i++) {
    const struct rule *r = &policy[i];
    if (r->bpf_only) continue;
    if (r->a.op == MIXED_BITS_32) {
      for (unsigned k = 0; k < MIXED_BITS_RULES; k++, sep = ",") {
        struct check c = mixed_bits_check(r->a.arg, k);
        print_oci_rule(out, sep, r, &c, &r->b);
      }
    } else {
      print_oci_rule(out, sep, r, &r->a, &r->b);
      sep = ",";
    }
  }
  fprintf(out, "]}\n");
}
