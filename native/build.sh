#!/usr/bin/env bash
# Builds the sandbox's native helpers into build/native/. Idempotent: does nothing when the
# binaries are newer than their sources (make-style), so setup.sh can call it on every start.
# The launcher is linked statically (no dynamic loader work on each start, no libseccomp.so
# needed at run time). The init is small and dynamic: it is copied into every sandbox, where
# the host's /usr (and so libc) is visible, and it starts before the sandbox reports ready.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/native
mkdir -p "$out"
CFLAGS=(-O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong)

# build TARGET SOURCES... -- LIBS...
build() {
  local target=$1; shift
  local sources=() libs=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do sources+=("$1"); shift; done
  [ "$#" -gt 0 ] && shift
  libs=("$@")
  if [ -x "$out/$target" ]; then
    local stale=0
    for s in "${sources[@]}" native/*.h native/build.sh; do
      [ "$s" -nt "$out/$target" ] && stale=1
    done
    [ "$stale" = 0 ] && return 0
  fi
  # Build next to the target and rename, so a running server never executes a half-written file.
  gcc "${CFLAGS[@]}" -o "$out/.$target.tmp" "${sources[@]}" "${libs[@]}"
  mv -f "$out/.$target.tmp" "$out/$target"
  echo "[crucible native] built $out/$target" >&2
}

build crucible-launch native/launcher.c native/seccomp-policy.c -- -static -lseccomp
# The seccomp policy as BPF, exported once here instead of compiled by libseccomp on every launch
# (~1 ms of CPU each); the launcher accepts it only root-owned and writable by root alone.
if [ ! -f "$out/seccomp.bpf" ] || [ "$out/crucible-launch" -nt "$out/seccomp.bpf" ]; then
  "$out/crucible-launch" --export-seccomp-bpf > "$out/.seccomp.bpf.tmp"
  chmod 0644 "$out/.seccomp.bpf.tmp"
  mv -f "$out/.seccomp.bpf.tmp" "$out/seccomp.bpf"
  echo "[crucible native] exported $out/seccomp.bpf" >&2
fi
build crucible-init native/sandbox-init.c -- -s
build crucible-spawner native/spawner.c -- -s
# Not a sandbox helper: a Node addon the server loads to return freed memory after large outputs.
# Optional (the server runs without it, keeping more memory resident): built only where Node's
# headers are (nodedir=/usr, as .npmrc says).
if [ -f /usr/include/node/node_api.h ]; then
  build memory-trim.node native/memory-trim.c -- -shared -fPIC -I/usr/include/node
else
  echo "[crucible native] /usr/include/node/node_api.h not found: memory-trim.node not built (the server keeps freed memory resident longer)" >&2
fi
