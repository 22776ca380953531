#!/usr/bin/env bash
# Installs a newer gVisor runsc for the gvisor backend at /usr/local/lib/crucible/runsc.
#
# Why: Debian 12's runsc (Dec 2022) has only the ptrace and kvm platforms; ptrace costs ~55 µs
# per system call (60 000 small writes: 6.3 s) and kvm hangs on these VMs. Debian 13 (trixie)
# ships a static Go build (0.0~20240729) whose systrap platform did the same in 0.22 s, and
# which supports `runsc run --pass-fd` (the exit status channel, see docs/sandbox.md).
#
# How: apt itself, with a trixie source list derived from this machine's own bookworm sources
# (same mirror, same keyring), in a private state/cache directory so the system's apt lists and
# sources are never touched; `apt-get download runsc` and `dpkg-deb -x` extract the binary.
# Nothing is installed through dpkg. Idempotent: does nothing when the binary is there.
# Exits non-zero (with a message) when it cannot: setup.sh then keeps Debian 12's runsc.
set -euo pipefail

dest_dir=/usr/local/lib/crucible
dest=$dest_dir/runsc
say() { printf '[crucible setup] %s\n' "$*" >&2; }

if [ -x "$dest" ] && "$dest" --version >/dev/null 2>&1; then exit 0; fi
[ "$(id -u)" = 0 ] || { say "installing runsc needs root"; exit 1; }

work=$(mktemp -d /tmp/crucible-runsc.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc"

# Turn every bookworm source of this machine into the matching trixie one (the mirror's name
# comes from the machine's configuration, never from this repository). Both deb822 (.sources)
# and one-line (.list) files are understood; third-party suites (e.g. "cloud-sdk-bookworm")
# and security/updates suites are left out: only the main archive's suite is needed.
{
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n -E 's/^(deb\s+(\[[^]]*\]\s+)?\S+\s+)bookworm(\s+.*)$/\1trixie\3/p' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v RS= -v ORS='\n\n' '/(^|\n)Suites:.*[[:space:]]bookworm([[:space:]]|$)/ {
      out = ""; n = split($0, lines, "\n")
      for (i = 1; i <= n; i++) {
        l = lines[i]
        if (l ~ /^Suites:/) l = "Suites: trixie"
        if (l ~ /^#/) continue
        out = out l "\n"
      }
      printf "%s\n", out
    }' "$f"
  done
} >"$work/etc/trixie.sources.raw"
# One-line entries go to a .list, stanzas to a .sources file.
grep -E '^deb\s' "$work/etc/trixie.sources.raw" >"$work/etc/sources.list" || true
grep -vE '^deb\s' "$work/etc/trixie.sources.raw" >"$work/etc/trixie.sources" || true
mkdir -p "$work/etc/sources.list.d"
mv "$work/etc/trixie.sources" "$work/etc/sources.list.d/"
if ! grep -qs . "$work/etc/sources.list" && ! grep -qs '^URIs:' "$work/etc/sources.list.d/trixie.sources"; then
  say "no Debian bookworm source found in /etc/apt to derive a trixie source from"
  exit 1
fi

apt_opts=(
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "Dir::Etc::SourceList=$work/etc/sources.list"
  -o "Dir::Etc::SourceParts=$work/etc/sources.list.d"
  -o "Dir::State::status=/dev/null"
  -o "APT::Architecture=$(dpkg --print-architecture)"
  -o "Debug::NoLocking=1"
)
say "fetching gVisor runsc from Debian 13 (trixie) through apt (private lists in $work)"
if ! apt-get "${apt_opts[@]}" update -q >"$work/apt.log" 2>&1; then
  say "apt-get update for trixie failed: $(tail -n 3 "$work/apt.log" | tr '\n' ' ')"
  exit 1
fi
if ! (cd "$work" && apt-get "${apt_opts[@]}" download runsc >>"$work/apt.log" 2>&1); then
  say "apt-get download runsc (trixie) failed: $(tail -n 3 "$work/apt.log" | tr '\n' ' ')"
  exit 1
fi
deb=$(ls "$work"/runsc_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { say "apt-get download left no runsc .deb"; exit 1; }
dpkg-deb -x "$deb" "$work/root"
[ -x "$work/root/usr/bin/runsc" ] || { say "the trixie runsc package has no usr/bin/runsc"; exit 1; }
"$work/root/usr/bin/runsc" --version >/dev/null 2>&1 || { say "the trixie runsc does not run on this machine"; exit 1; }

# Copy next to the target and rename, so a running server never executes a half-written file.
mkdir -p "$dest_dir"
install -m 0755 "$work/root/usr/bin/runsc" "$dest.tmp"
mv -f "$dest.tmp" "$dest"
say "installed $("$dest" --version | head -n 1) at $dest ($(basename "$deb"))"
