#!/usr/bin/env bash
# Installs what this machine lacks for Crucible and builds the native sandbox helper.
# Idempotent and quick when everything is already in place.
#   --soft  never fail (used by npm's postinstall: a missing system package is reported, and
#           `npm start` / `npm test` will try again and stop with the reason)
#   --test  also install what the test suite needs (Chromium for the browser tests; Prometheus
#           with promtool, kubectl, systemd-analyze and podman for the operations tests in test/ops)
set -uo pipefail
cd "$(dirname "$0")/.."

soft=0; want_test=0
for arg in "$@"; do
  case "$arg" in
    --soft) soft=1 ;;
    --test) want_test=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '[crucible setup] %s\n' "$*" >&2; }
fail() {
  say "ERROR: $*"
  if [ "$soft" = 1 ]; then exit 0; fi
  exit 1
}

# command -> Debian package that provides it
declare -A needed=(
  [bwrap]=bubblewrap
  [runsc]=runsc
  [debootstrap]=debootstrap
  [gcc]=gcc
  [setpriv]=util-linux
)
missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needed[$cmd]}")
done
[ -f /usr/include/seccomp.h ] || missing+=(libseccomp-dev)
[ -x /usr/bin/python3 ] || missing+=(python3)
if [ "$want_test" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The operations tests run a real Prometheus (and promtool on the alert rules), render the
  # Kubernetes overlays with `kubectl kustomize` and verify the systemd unit.
  { command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
  command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  # The container image tests load scripts/build-image.sh's archive into podman and run it, and
  # play the Kubernetes overlays with `podman kube play` (its pause image is built from catatonit;
  # the scale-out pods reach this host's PostgreSQL and Redis through slirp4netns).
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v catatonit >/dev/null 2>&1 || missing+=(catatonit)
  command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  say "installing missing system packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    fail "these Debian packages are missing and installing them needs root: sudo apt-get install -y ${missing[*]}"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "${missing[@]}" >/tmp/crucible-apt.log 2>&1; then
    apt-get update -q >>/tmp/crucible-apt.log 2>&1
    apt-get install -y -q "${missing[@]}" >>/tmp/crucible-apt.log 2>&1 ||
      fail "apt-get install ${missing[*]} failed; see /tmp/crucible-apt.log"
  fi
  say "installed: ${missing[*]}"
fi

# The native launcher (cgroup placement, privilege drop, seccomp filter, child subreaper).
if [ -f native/build.sh ]; then
  bash native/build.sh || fail "building the native sandbox launcher failed (native/build.sh)"
fi

# gVisor: Debian 13's runsc (systrap platform, `run --pass-fd`) at /usr/local/lib/crucible/runsc,
# fetched through apt once; Debian 12's runsc (installed above) stays as the fallback.
if [ -f scripts/install-runsc.sh ]; then
  if [ "$(id -u)" = 0 ]; then
    bash scripts/install-runsc.sh ||
      say "WARNING: could not obtain Debian 13's runsc; the gvisor backend uses Debian 12's /usr/bin/runsc (ptrace platform: slower system calls, and exit codes 129-255 are reported as signals)"
  elif [ ! -x /usr/local/lib/crucible/runsc ]; then
    say "WARNING: Debian 13's runsc is not installed and installing it needs root (sudo bash scripts/install-runsc.sh); the gvisor backend uses Debian 12's runsc"
  fi
fi

# Environments (Debian root filesystems both sandboxes run programs on; see docs/environments.md),
# built once per machine under /var/lib/crucible/environments (CRUCIBLE_ENVIRONMENTS_DIR); an
# up-to-date one is checked in a moment. `python` (the default) always; `python-data` too except
# in npm's postinstall (--soft: `npm start` and `npm test` build it); the test suite also needs
# `python-3.13`; `python-ml` (PyTorch, ~1.5 GB) only when asked for: `crucible env build
# python-ml`, or CRUCIBLE_BUILD_PYTHON_ML=1 here.
wanted=(python)
[ "$soft" = 0 ] && wanted+=(python-data)
[ "$want_test" = 1 ] && wanted+=(python-3.13)
[ "${CRUCIBLE_BUILD_PYTHON_ML:-0}" = 1 ] && wanted+=(python-ml)
envs_dir=${CRUCIBLE_ENVIRONMENTS_DIR:-/var/lib/crucible/environments}
for env in "${wanted[@]}"; do
  if [ ! -f "$envs_dir/$env/environment.json" ]; then
    # Measured on a 2-core machine under heavy load: python 4 min, python-3.13 9 min, python-data
    # 18 min (an idle machine is several times faster; docs/environments.md has the table).
    say "building the $env environment (first time on this machine: a few minutes; later runs skip it)"
  fi
  started=$(date +%s)
  if bash scripts/build-environment.sh "$env"; then
    elapsed=$(($(date +%s) - started))
    [ "$elapsed" -gt 5 ] && say "built $env in ${elapsed} s"
  elif [ "$env" = python ]; then
    fail "the python environment could not be built (see the lines above); no sandbox can run programs without it"
  else
    say "WARNING: the $env environment could not be built; evaluations asking for it wait in the queue, saying why (waiting_reason) (retry: bash scripts/build-environment.sh $env)"
  fi
done
exit 0
