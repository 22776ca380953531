#!/usr/bin/env bash
# Builds the root filesystem the gVisor backend runs programs in: Debian bookworm (minbase) with
# python3, shared by every Crucible server on the machine and mounted read-only into each
# sandbox. Built once: does nothing when it already exists. Built in a temporary directory next
# to the target and renamed into place, so a half-built tree is never used and two concurrent
# builds cannot mix.
#   CRUCIBLE_GVISOR_ROOTFS  target directory (default /var/lib/crucible/gvisor-rootfs)
#   CRUCIBLE_APT_MIRROR     mirror for debootstrap (default: the first one this machine's apt uses)
set -euo pipefail

target=${CRUCIBLE_GVISOR_ROOTFS:-/var/lib/crucible/gvisor-rootfs}
say() { printf '[crucible gvisor-rootfs] %s\n' "$*" >&2; }

# debootstrap copies or records facts of the building host in the tree, and every sandbox can
# read them: the apt mirror (in its log and apt's), the host's resolver and its name. Replaced by
# neutral values; run on every call, so a rootfs built before this existed is cleaned too.
scrub_host_facts() {
  local root=$1
  echo 'deb http://deb.debian.org/debian bookworm main' >"$root/etc/apt/sources.list"
  rm -f "$root"/var/log/bootstrap.log "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log \
    "$root"/var/log/apt/*.log "$root"/var/cache/debconf/*-old
  : >"$root/etc/resolv.conf"
  echo sandbox >"$root/etc/hostname"
}
# Mount points the bundle binds files onto (runsc would otherwise create them in the shared
# rootfs itself): the program file, and crucible-init, which runs as the container's PID 1 and
# reports the program's raw wait status. Checked on every call, so older rootfs get them too.
ensure_mount_points() {
  local root=$1
  mkdir -p "$root/sandbox" "$root/tmp"
  [ -e "$root/sandbox/main.py" ] || touch "$root/sandbox/main.py"
  if [ ! -e "$root/sandbox-init" ]; then
    touch "$root/sandbox-init"
    say "added the crucible-init mount point to $root"
  fi
}
host_facts_left() {
  local root=$1
  [ -e "$root/var/log/bootstrap.log" ] || [ -s "$root/etc/resolv.conf" ] ||
    [ "$(cat "$root/etc/hostname" 2>/dev/null)" != sandbox ]
}

if [ -x "$target/usr/bin/python3" ]; then
  if host_facts_left "$target"; then
    if [ "$(id -u)" != 0 ]; then say "WARNING: $target still holds host facts (mirror, resolver, hostname); run as root to scrub them"; exit 0; fi
    scrub_host_facts "$target"
    say "scrubbed host facts (mirror, resolver, hostname) from $target"
  fi
  if [ ! -e "$target/sandbox-init" ]; then
    if [ "$(id -u)" != 0 ]; then say "WARNING: $target lacks the /sandbox-init mount point; run as root to add it"; exit 0; fi
    ensure_mount_points "$target"
  fi
  exit 0
fi
if [ "$(id -u)" != 0 ]; then say "needs root (debootstrap)"; exit 1; fi
command -v debootstrap >/dev/null || { say "debootstrap is not installed"; exit 1; }

mirror=${CRUCIBLE_APT_MIRROR:-}
if [ -z "$mirror" ]; then
  # deb822 sources (URIs: ...) or one-line sources (deb URL suite ...), whichever the machine has.
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -n1 || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

parent=$(dirname "$target")
mkdir -p "$parent"
work=$(mktemp -d "$parent/.gvisor-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work.log

say "building $target with debootstrap (bookworm, minbase, python3; ~30 s)"
if ! debootstrap --variant=minbase --include=python3-minimal,python3 bookworm "$work" "$mirror" >"$log" 2>&1; then
  say "debootstrap failed; last lines of $log:"
  tail -n 20 "$log" >&2
  exit 1
fi

# Do not publish which mirror this machine uses, its resolver or its name.
scrub_host_facts "$work"
# Nothing in the sandbox needs package caches or docs.
rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/* "$work"/usr/share/doc/* "$work"/usr/share/man/*
ensure_mount_points "$work"
chmod 0755 "$work"
"$work/usr/bin/python3" --version >/dev/null 2>&1 || chroot "$work" /usr/bin/python3 --version >/dev/null

if mv -T "$work" "$target" 2>/dev/null; then
  trap - EXIT
  rm -f "$log"
  say "ready: $target ($(du -sh "$target" | cut -f1))"
else
  # Someone else finished first: theirs is as good as ours.
  [ -x "$target/usr/bin/python3" ] || { say "could not move the rootfs into $target"; exit 1; }
fi
