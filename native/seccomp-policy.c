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

enum condition {
  ALWAYS,
  ARG0_NOT_EQUAL,    /* arg0 != value */
  ARG0_HAS_BITS,     /* (arg0 & value) == value */
  ARG1_EQUAL_32,     /* (arg1 & 0xffffffff) == value */
  ARG0_MIXED_BITS_32, /* arg0's low 32 bits are neither all 0 nor all 1 (see mixed_bits_rule) */
};

struct rule {
  const char *syscall;
  int err;
  enum condition when;
  unsigned long value;
  /* Left out of the OCI form (gVisor), see the rule's comment. */
  int bpf_only;
};

#define DENY(name) {name, EPERM, ALWAYS, 0, 0}
#define NEW_NAMESPACE(flag) {"clone", EPERM, ARG0_HAS_BITS, flag, 0}

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
    {"socket", EAFNOSUPPORT, ARG0_NOT_EQUAL, AF_UNIX, 0},
    {"socketpair", EAFNOSUPPORT, ARG0_NOT_EQUAL, AF_UNIX, 0},
    /* fork and threads use clone without namespace flags; any namespace flag is refused */
    NEW_NAMESPACE(CLONE_NEWNS), NEW_NAMESPACE(CLONE_NEWUSER), NEW_NAMESPACE(CLONE_NEWPID),
    NEW_NAMESPACE(CLONE_NEWNET), NEW_NAMESPACE(CLONE_NEWIPC), NEW_NAMESPACE(CLONE_NEWUTS),
    NEW_NAMESPACE(CLONE_NEWCGROUP), NEW_NAMESPACE(CLONE_NEWTIME),
    /* clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
     * Not in the OCI form: runsc (20221219) ignores errnoRet and answers EPERM to every denied
     * call, which libc does not fall back from, so no thread could start under gVisor. gVisor's
     * kernel has no clone3 of its own (ENOSYS), and its namespaces never reach the host's. */
    {"clone3", ENOSYS, ALWAYS, 0, 1},
    /* execution domains: READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO and friends only
     * weaken the program's own hardening and reach old, rarely used kernel paths. Only the
     * default domain (PER_LINUX, 0) and the query (0xffffffff) remain. */
    {"personality", EPERM, ARG0_MIXED_BITS_32, 0, 0},
    /* typing into someone's terminal (TIOCSTI) or the console (TIOCLINUX) */
    {"ioctl", EPERM, ARG1_EQUAL_32, TIOCSTI, 0},
    {"ioctl", EPERM, ARG1_EQUAL_32, TIOCLINUX, 0},
};

#define POLICY_SIZE (sizeof policy / sizeof *policy)

/*
 * A filter compares one argument once per rule, so "neither 0 nor 0xffffffff" is written as 32
 * rules: a 32-bit value that is neither has, somewhere, a 1 bit whose (cyclically) next bit is 0,
 * and rule k matches exactly "bit k is 1 and bit k+1 is 0". The mask and value of rule k:
 */
#define MIXED_BITS_RULES 32
static void mixed_bits_rule(unsigned k, unsigned long *mask, unsigned long *value) {
  *value = 1ul << k;
  *mask = *value | (1ul << ((k + 1) % 32));
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
    struct scmp_arg_cmp cmp;
    unsigned n = 1;
    switch (r->when) {
      case ALWAYS: n = 0; break;
      case ARG0_NOT_EQUAL: cmp = SCMP_A0(SCMP_CMP_NE, r->value); break;
      case ARG0_HAS_BITS: cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, r->value, r->value); break;
      case ARG1_EQUAL_32: cmp = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, r->value); break;
      case ARG0_MIXED_BITS_32:
        for (unsigned k = 0; rc == 0 && k < MIXED_BITS_RULES; k++) {
          unsigned long mask, value;
          mixed_bits_rule(k, &mask, &value);
          cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, value);
          rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, 1, &cmp);
        }
        if (rc < 0) fprintf(stderr, "crucible seccomp: rule for %s: %s\n", r->syscall, strerror(-rc));
        continue;
    }
    rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, n, n ? &cmp : NULL);
    if (rc < 0) fprintf(stderr, "crucible seccomp: rule for %s: %s\n", r->syscall, strerror(-rc));
  }
  if (rc == 0) rc = seccomp_export_bpf(ctx, out_fd);
  seccomp_release(ctx);
  return rc;
}

void crucible_seccomp_print_oci(FILE *out) {
  fprintf(out, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[");
  const char *sep = "";
  for (size_t i = 0; i < POLICY_SIZE; i++) {
    const struct rule *r = &policy[i];
    if (r->bpf_only) continue;
    if (r->when == ARG0_MIXED_BITS_32) {
      for (unsigned k = 0; k < MIXED_BITS_RULES; k++) {
        unsigned long mask, value;
        mixed_bits_rule(k, &mask, &value);
        fprintf(out, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":%d", sep, r->syscall, r->err);
        fprintf(out, ",\"args\":[{\"index\":0,\"value\":%lu,\"valueTwo\":%lu,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}", mask, value);
        sep = ",";
      }
      continue;
    }
    fprintf(out, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":%d", sep, r->syscall, r->err);
    sep = ",";
    switch (r->when) {
      case ALWAYS: break;
      case ARG0_NOT_EQUAL:
        fprintf(out, ",\"args\":[{\"index\":0,\"value\":%lu,\"op\":\"SCMP_CMP_NE\"}]", r->value);
        break;
      case ARG0_HAS_BITS:
        fprintf(out, ",\"args\":[{\"index\":0,\"value\":%lu,\"valueTwo\":%lu,\"op\":\"SCMP_CMP_MASKED_EQ\"}]", r->value, r->value);
        break;
      case ARG1_EQUAL_32:
        fprintf(out, ",\"args\":[{\"index\":1,\"value\":4294967295,\"valueTwo\":%lu,\"op\":\"SCMP_CMP_MASKED_EQ\"}]", r->value);
        break;
      case ARG0_MIXED_BITS_32: break; /* written above */
    }
    fputc('}', out);
  }
  fprintf(out, "]}\n");
}
