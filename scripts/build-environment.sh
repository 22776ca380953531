#!/usr/bin/env bash
# Builds one Crucible environment: a Debian root filesystem (debootstrap + apt, Debian packages
# only) described by environments/<name>.json, which both sandboxes mount read-only as the
# program's whole system.
#
#   scripts/build-environment.sh <name> [--update] [--force]
#     --update  resolve the manifest's packages afresh and rewrite environments/<name>.lock.json
#               (otherwise, when that lock exists, every package is installed at its locked version)
#     --force   rebuild even when an up-to-date build exists
#
#   CRUCIBLE_ENVIRONMENTS_DIR  where environments live (default /var/lib/crucible/environments)
#   CRUCIBLE_APT_MIRROR        mirror for debootstrap and apt (default: the first one this machine's apt uses)
#
# Layout under the environments directory:
#   <name>                    symlink to the ready build (.store/<name>-<time>), swapped atomically
#   .store/<name>-<time>/     rootfs/ (read-only tree), lock.json, environment.json
#   .build/<name>/            a build in progress or failed: status.json, build.log, rootfs/
# A build happens in .build/<name> and becomes <name> only when complete, so a half-built
# environment is never marked ready. A failed build keeps its finished debootstrap stage, so
# running the command again resumes after it. A build of an up-to-date environment does nothing.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '[crucible env %s] %s\n' "${name:-?}" "$*" >&2; }

name=''; update=0; force=0
for arg in "$@"; do
  case "$arg" in
    --update) update=1 ;;
    --force) force=1 ;;
    -*) say "unknown option $arg"; exit 2 ;;
    *) name=$arg ;;
  esac
done
[ -n "$name" ] || { say "usage: build-environment.sh <name> [--update] [--force]"; exit 2; }
manifest=$repo/environments/$name.json
repo_lock=$repo/environments/$name.lock.json
[ -f "$manifest" ] || { say "no manifest $manifest (known: $(cd "$repo/environments" && ls ./*.json | grep -v lock | sed 's|^./||; s|\.json$||' | tr '\n' ' '))"; exit 2; }

root=${CRUCIBLE_ENVIRONMENTS_DIR:-/var/lib/crucible/environments}
build=$root/.build/$name
ready=$root/$name

json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
suite=$(json "$manifest" 'd["suite"]')
packages=$(json "$manifest" '" ".join(d["packages"])')
# What the build depends on (suite and packages), so editing a description does not rebuild.
manifest_sha=$(json "$manifest" 'json.dumps([d["suite"], sorted(d["packages"])])' | sha256sum | cut -d' ' -f1)
python_expected=$(json "$manifest" 'd["python"]')
lock_sha=none
[ -f "$repo_lock" ] && [ "$update" = 0 ] && lock_sha=$(sha256sum "$repo_lock" | cut -d' ' -f1)

# Crucible's site hook, a .pth file named to come last among dist-packages' .pth files. Line 1
# makes the output of a Python that PYTHONUNBUFFERED left unbuffered line-buffered instead (one
# write per line, not one per print argument; docs/sandbox.md, "Output buffering"). Line 2 is for
# Python started ahead (native/sandbox-init.c, --ahead) and does nothing in a Python not given
# CRUCIBLE_AHEAD_FD.
hook_source=$repo/native/python-ahead.pth
hook_path=usr/lib/python3/dist-packages/zz_crucible_ahead.pth
hook_sha=$(sha256sum "$hook_source" | cut -d' ' -f1)
install_hook() { # rootfs
  mkdir -p "$(dirname "$1/$hook_path")"
  install -m 0644 -o root -g root "$hook_source" "$1/$hook_path.tmp"
  mv -f "$1/$hook_path.tmp" "$1/$hook_path"
}
# Content digest: a sorted listing of every entry (type, mode, owner, size, path, link target)
# followed by the sha256 of every regular file, in path order.
tree_digest() { # rootfs
  (cd "$1" && {
    find . -mindepth 1 -printf '%y %m %U %G %s %P -> %l\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1)
}

# Up to date: built from this manifest and this lock. Nothing to do.
up_to_date() {
  [ "$force" = 0 ] && [ "$update" = 0 ] && [ -f "$ready/environment.json" ] &&
    [ "$(json "$ready/environment.json" 'd.get("manifest_sha256","") + " " + d.get("lock_sha256","")')" = "$manifest_sha $lock_sha" ]
}
# A build whose only difference is an older (or no) hook gets the hook in place: adding one file
# to a read-only tree that sandboxes may be using is harmless, and a rebuild takes minutes.
refresh_hook() {
  [ "$(json "$ready/environment.json" 'd.get("hook_sha256","")')" = "$hook_sha" ] && return 0
  if [ "$(id -u)" != 0 ]; then say "needs root to install the site hook"; return 1; fi
  install_hook "$ready/rootfs"
  /usr/bin/python3 - "$ready/environment.json" "$hook_sha" "$(tree_digest "$ready/rootfs")" "$(du -sb "$ready/rootfs" | cut -f1)" <<'PY'
import json, os, sys
path, hook, digest, size = sys.argv[1:]
d = json.load(open(path))
d.update(hook_sha256=hook, digest="sha256:" + digest, size_bytes=int(size))
with open(path + ".tmp", "w") as f:
    json.dump(d, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
PY
  say "installed the current site hook"
}
if up_to_date; then
  refresh_hook
  say "already built and up to date: $ready"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then say "needs root (debootstrap, chroot)"; exit 1; fi
command -v debootstrap >/dev/null || { say "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }

mkdir -p "$root/.build" "$root/.store"
chmod 0755 "$root"
# One build of an environment at a time on this machine: wait for another one, which may well
# have built what we want.
exec 9>"$root/.build/$name.lock"
if ! flock -n 9; then
  say "another build of $name is running; waiting for it"
  flock 9
fi
if up_to_date; then
  refresh_hook
  say "built meanwhile, up to date: $ready"
  exit 0
fi
[ -f "$ready/environment.json" ] && say "manifest or lock changed since the last build (or --force/--update): rebuilding; the current build stays in use meanwhile"

mkdir -p "$build"
log=$build/build.log
started=$(date +%s)
write_status() { # status [error]
  /usr/bin/python3 - "$build/status.json" "$1" "${2:-}" "$$" "$started" <<'PY'
import json, sys
path, status, error, pid, started = sys.argv[1:]
doc = {"status": status, "pid": int(pid), "started_at": int(started)}
if error:
    doc["error"] = error
with open(path + ".tmp", "w") as f:
    json.dump(doc, f)
import os
os.replace(path + ".tmp", path)
PY
}
mounted=''
cleanup() {
  local rc=$?
  [ -n "$mounted" ] && umount -l "$mounted" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    write_status failed "build failed (exit $rc); see $log, then run the build again to resume"
    say "FAILED; last lines of $log:"
    tail -n 15 "$log" >&2 || true
  fi
}
trap cleanup EXIT
write_status building

mirror=${CRUCIBLE_APT_MIRROR:-}
if [ -z "$mirror" ]; then
  # deb822 sources (URIs: ...) or one-line sources (deb URL suite ...), whichever the machine has.
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -n1 || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

rootfs=$build/rootfs
# Stage 1: the base system. Kept after a later failure (marker file), so a retry resumes here.
if [ "$(cat "$build/debootstrap.done" 2>/dev/null)" != "$suite" ]; then
  rm -rf "$rootfs" "$build/debootstrap.done"
  say "debootstrap $suite (minbase) from the configured mirror"
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >>"$log" 2>&1
  # The Debian base system, as debootstrap installed it: the lock marks these packages `base`.
  dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f '${Package}\n' | LC_ALL=C sort >"$build/base-packages.txt"
  echo "$suite" >"$build/debootstrap.done"
fi

# Stage 2: the manifest's packages with apt inside the chroot (proc mounted for maintainer
# scripts; no service may start).
echo "deb $mirror $suite main" >"$rootfs/etc/apt/sources.list"
rm -f "$rootfs"/etc/apt/sources.list.d/*
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$rootfs/proc"
mounted=$rootfs/proc
in_chroot() { DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 chroot "$rootfs" "$@"; }
apt_opts=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0)
in_chroot apt-get update -q >>"$log" 2>&1
if [ "$lock_sha" != none ]; then
  # Every package at its locked version (downgrading what debootstrap took newer).
  pinned=$(json "$repo_lock" '" ".join(p["name"] + "=" + p["version"] for p in d["packages"])')
  say "installing $(wc -w <<<"$pinned") packages at their locked versions"
  # shellcheck disable=SC2086
  in_chroot apt-get install "${apt_opts[@]}" --allow-downgrades $pinned >>"$log" 2>&1 || {
    say "a locked version is no longer in the mirror; resolve afresh with: crucible env build $name --update"
    exit 1
  }
else
  say "installing: $packages"
  # shellcheck disable=SC2086
  in_chroot apt-get install "${apt_opts[@]}" $packages >>"$log" 2>&1
fi
in_chroot apt-get clean >>"$log" 2>&1
umount "$rootfs/proc"
mounted=''
rm -f "$rootfs/usr/sbin/policy-rc.d"

# The lock: every installed package, its version, its Debian source package, its priority and
# whether it is part of the base system debootstrap installed (`crucible env audit` does not flag those).
lock_lines=$(dpkg-query --admindir="$rootfs/var/lib/dpkg" -W \
  -f '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${Priority}\n' |
  awk -F'\t' '$1 ~ /^ii/ {print}' | LC_ALL=C sort -t$'\t' -k2,2)
/usr/bin/python3 - "$build/lock.json" "$name" "$suite" "$build/base-packages.txt" <<PY
import json, sys
path, name, suite, base_file = sys.argv[1:]
base = set(open(base_file).read().split())
rows = [line.split("\t") for line in """$lock_lines""".strip().splitlines()]
packages = [
    {"name": r[1], "version": r[2], "architecture": r[3], "source": r[4], "source_version": r[5], "priority": r[6], "base": r[1] in base}
    for r in rows
]
with open(path, "w") as f:
    json.dump({"environment": name, "suite": suite, "packages": packages}, f, indent=2)
    f.write("\n")
PY
if [ "$lock_sha" != none ]; then
  # A build from a lock must have exactly the lock's package set.
  want=$(json "$repo_lock" '"\n".join(sorted(p["name"] + "=" + p["version"] for p in d["packages"]))')
  got=$(json "$build/lock.json" '"\n".join(sorted(p["name"] + "=" + p["version"] for p in d["packages"]))')
  if [ "$want" != "$got" ]; then
    say "the installed package set differs from $repo_lock:"
    diff <(echo "$want") <(echo "$got") >&2 || true
    exit 1
  fi
fi

# debootstrap and apt record facts of the building host in the tree, and every sandbox can read
# them: the apt mirror (sources, logs, list file names), the resolver, the host name.
echo "deb http://deb.debian.org/debian $suite main" >"$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/var/log/bootstrap.log "$rootfs"/var/log/dpkg.log "$rootfs"/var/log/alternatives.log \
  "$rootfs"/var/log/apt/*.log "$rootfs"/var/cache/debconf/*-old "$rootfs"/etc/machine-id
: >"$rootfs/etc/resolv.conf"
echo sandbox >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
# Nothing in a sandbox reads documentation; the copyright files stay (they are the licences).
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*

# uid/gid 65534 (the sandboxed program) must have a name on both backends (`whoami`, getpass,
# Python's pwd module). Debian's base-passwd provides nobody/nogroup; check rather than assume.
grep -q '^nobody:x:65534:65534:' "$rootfs/etc/passwd" || { say "/etc/passwd lacks nobody (65534)"; exit 1; }
grep -q '^nogroup:x:65534:' "$rootfs/etc/group" || { say "/etc/group lacks nogroup (65534)"; exit 1; }
# Mount points the sandboxes put things on (the tree is read-only, so they must exist in it):
# the program's directory and file, crucible-init (PID 1), scratch /tmp, /proc, /dev.
mkdir -p "$rootfs/sandbox" "$rootfs/tmp" "$rootfs/proc" "$rootfs/dev"
[ -e "$rootfs/sandbox/main.py" ] || touch "$rootfs/sandbox/main.py"
[ -e "$rootfs/sandbox-init" ] || touch "$rootfs/sandbox-init"
chmod 0755 "$rootfs"
install_hook "$rootfs"

python_version=$(in_chroot /usr/bin/python3 -c 'import platform; print(platform.python_version())')
case "$python_version" in
  "$python_expected".*) ;;
  *) say "built Python $python_version, but the manifest says $python_expected"; exit 1 ;;
esac
size_bytes=$(du -sb "$rootfs" | cut -f1)
digest=$(tree_digest "$rootfs")
finished=$(date +%s)
/usr/bin/python3 - "$build/environment.json" <<PY
import json, sys, datetime
doc = {
    "name": "$name",
    "suite": "$suite",
    "python_version": "$python_version",
    "size_bytes": $size_bytes,
    "digest": "sha256:$digest",
    "built_at": datetime.datetime.fromtimestamp($finished, datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
    "build_seconds": $finished - $started,
    "manifest_sha256": "$manifest_sha",
    "lock_sha256": "$lock_sha",
    "hook_sha256": "$hook_sha",
}
with open(sys.argv[1], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
PY

# First build (or --update): this lock becomes the repository's, so other hosts pin to it.
if [ "$lock_sha" = none ]; then
  cp "$build/lock.json" "$repo_lock"
  new_lock_sha=$(sha256sum "$repo_lock" | cut -d' ' -f1)
  /usr/bin/python3 -c "import json,sys; p=sys.argv[1]; d=json.load(open(p)); d['lock_sha256']=sys.argv[2]; json.dump(d, open(p,'w'), indent=2)" \
    "$build/environment.json" "$new_lock_sha"
  say "wrote $repo_lock"
fi

# Publish: move the finished build into the store, then swap the symlink (atomic rename).
store=$root/.store/$name-$finished
rm -f "$build/status.json" "$build/debootstrap.done" "$build/base-packages.txt"
mv "$log" "$root/.build/$name.last-build.log"
mv -T "$build" "$store"
previous=$(readlink "$ready" 2>/dev/null || true)
ln -sfn ".store/$name-$finished" "$root/.$name.link"
mv -T "$root/.$name.link" "$ready"
if [ -n "$previous" ] && [ "$previous" != ".store/$name-$finished" ]; then rm -rf "${root:?}/$previous"; fi
trap - EXIT
say "ready: $ready (Python $python_version, $(numfmt --to=iec "$size_bytes"), $((finished - started)) s)"
