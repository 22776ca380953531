#ifndef CRUCIBLE_SECCOMP_POLICY_H
#define CRUCIBLE_SECCOMP_POLICY_H

#include <stdio.h>

/* Writes the sandbox's seccomp filter as classic BPF to out_fd. Returns 0 or a negative errno. */
int crucible_seccomp_export(int out_fd);

/* Prints the same policy as an OCI runtime-spec `linux.seccomp` JSON object. */
void crucible_seccomp_print_oci(FILE *out);

#endif
