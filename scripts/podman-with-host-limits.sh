#!/usr/bin/env bash
# Runs podman (any subcommand: run, kube play, ...) on a host where its runtime, crun, cannot
# start a container out of the box. Two things stop it on these machines (docs/operations.md,
# "Running it with podman on these machines"):
#   1. podman asks for RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 32768 or more, above the host's hard
#      limits, and root lacks CAP_SYS_RESOURCE to raise them. `podman kube play` has no --ulimit,
#      so the limits go in a containers.conf (default_ulimits), which covers every container of a
#      pod, the infra container included.
#   2. crun refuses a hybrid cgroup layout (cgroup v1 plus a cgroup2 mount at
#      /sys/fs/cgroup/unified). podman runs in a mount namespace of its own without that mount.
#      The namespace keeps the host's propagation (not util-linux's default, private), so the
#      network namespaces podman mounts under /run/netns stay visible to later podman commands
#      (`podman ps`, `kube down`); /sys/fs/cgroup alone is made private first, so the unmount
#      never reaches the host, even one whose mounts are shared.
# On a host where plain podman works (root with CAP_SYS_RESOURCE, a pure cgroup v1 or v2 layout)
# this changes nothing that matters: the limits stay below the host's and there is nothing to unmount.
#
#   scripts/podman-with-host-limits.sh kube play FILE.yaml
#   CONTAINERS_CONF   used as is when set (it must then carry default_ulimits itself)
set -euo pipefail

if [ -z "${CONTAINERS_CONF:-}" ]; then
  hard_nofile=$(ulimit -Hn)
  nofile=20000
  [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt "$nofile" ] && nofile=$hard_nofile
  conf=$(mktemp "${TMPDIR:-/tmp}/crucible-containers.XXXXXX.conf")
  trap 'rm -f "$conf"' EXIT
  # nproc 32768: accepted here where the shell's own hard limit (96369) was not (crun then fails
  # on RLIMIT_NPROC), and ample for a worker's sandboxes (each has a pids limit of its own).
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=32768:32768"]\n' "$nofile" "$nofile" >"$conf"
  export CONTAINERS_CONF=$conf
fi

# Not exec: the EXIT trap removes the temporary containers.conf once podman is done.
unshare --mount --propagation unchanged sh -c '
  mount --make-rprivate /sys/fs/cgroup 2>/dev/null
  umount /sys/fs/cgroup/unified 2>/dev/null
  exec podman "$@"' podman "$@"
