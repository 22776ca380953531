#!/usr/bin/env bash
# Builds Crucible's OCI image without any registry: a Debian bookworm root filesystem made by
# debootstrap (python3 for the programs, bubblewrap for the sandbox), this machine's Node 20
# binary, and the built server (dist/, the native sandbox helpers, production node_modules).
# One image, three uses (its entrypoint is `crucible`):
#   crucible serve --host 0.0.0.0      (the default command)
#   crucible worker --database-url ... --redis-url ...
#   crucible migrate --database-url ...   (a one-shot Job before a rollout)
# Output: OUT/crucible-oci/ (an OCI image layout) and OUT/crucible-VERSION.oci.tar (the same as an
# OCI archive: `podman load -i OUT/crucible-VERSION.oci.tar`).
#
#   scripts/build-image.sh [--out DIR]            (default DIR: build/image; needs root and a built tree)
#   CRUCIBLE_IMAGE_BASE   cache of the debootstrap tree (default /var/cache/crucible/image-base);
#                         built once (~1-2 min), reused by later builds
#   CRUCIBLE_APT_MIRROR   mirror for debootstrap (default: the first one this machine's apt uses)
# Not in the image: gVisor (runsc and its rootfs); the image runs the bubblewrap sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
say() { printf '[crucible image] %s\n' "$*" >&2; }

out=build/image
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    *) say "unknown option $1"; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, and file ownership inside the image)"; exit 1; }
command -v debootstrap >/dev/null || { say "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
[ -f dist/cli/main.js ] || { say "build first: npm run build"; exit 1; }
[ -x build/native/crucible-launch ] || { say "native helpers missing: bash native/build.sh"; exit 1; }
node_bin=$(command -v node)
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { say "Node $node_major on this machine; the image needs Node 20 or later"; exit 1; }
version=$(node -p 'require("./package.json").version')

base=${CRUCIBLE_IMAGE_BASE:-/var/cache/crucible/image-base}
if [ ! -x "$base/usr/bin/python3" ] || [ ! -x "$base/usr/bin/bwrap" ]; then
  mirror=${CRUCIBLE_APT_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
    [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -n1 || true)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  fi
  mkdir -p "$(dirname "$base")"
  partial=$(mktemp -d "$(dirname "$base")/.image-base.XXXXXX")
  say "debootstrap of the base tree into $base (bookworm, minbase + python3, bubblewrap)"
  if ! debootstrap --variant=minbase --include=python3-minimal,python3,bubblewrap,libstdc++6,ca-certificates bookworm "$partial" "$mirror" >"$partial.log" 2>&1; then
    tail -n 20 "$partial.log" >&2
    rm -rf "$partial"
    exit 1
  fi
  rm -rf "$base" && mv "$partial" "$base" && rm -f "$partial.log"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/crucible-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
say "assembling the root filesystem"
cp -a "$base" "$root"
# Facts of the building host that have no place in an image: mirror, resolver, name, build logs.
echo 'deb http://deb.debian.org/debian bookworm main' >"$root/etc/apt/sources.list"
rm -rf "$root"/var/log/bootstrap.log "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log "$root"/var/log/apt/*.log \
  "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old
: >"$root/etc/resolv.conf"
echo crucible >"$root/etc/hostname"

install -m 0755 "$node_bin" "$root/usr/local/bin/node"
app=$root/opt/crucible
mkdir -p "$app/build" "$root/var/lib/crucible/data"
# environments/: the manifests every worker reads to know which environments exist (the built
# root filesystems live in CRUCIBLE_ENVIRONMENTS_DIR, a volume: see docs/operations.md).
cp -a package.json package-lock.json dist environments "$app/"
cp -a build/native "$app/build/native"
# Production dependencies only, pruned from this checkout's installed tree (no registry needed):
# better-sqlite3's native module was built here, for this Node and this glibc (bookworm's).
cp -a node_modules "$app/node_modules"
(cd "$app" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --offline >/dev/null 2>&1) || {
  say "npm prune failed"
  exit 1
}
cat >"$root/usr/local/bin/crucible" <<'WRAPPER'
#!/bin/sh
exec /usr/local/bin/node /opt/crucible/dist/cli/main.js "$@"
WRAPPER
chmod 0755 "$root/usr/local/bin/crucible"

cat >"$work/config.json" <<JSON
{
  "Entrypoint": ["/usr/local/bin/crucible"],
  "Cmd": ["serve", "--host", "0.0.0.0", "--port", "8080"],
  "Env": ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "CRUCIBLE_DATA_DIR=/var/lib/crucible/data", "NODE_ENV=production"],
  "WorkingDir": "/var/lib/crucible",
  "ExposedPorts": { "8080/tcp": {} },
  "StopSignal": "SIGTERM",
  "Labels": { "org.opencontainers.image.title": "crucible", "org.opencontainers.image.version": "$version" }
}
JSON

say "writing the layer"
# Reproducible: sorted names, fixed times and numeric owners.
tar --sort=name --mtime=@0 --numeric-owner --xattrs -C "$root" -cf "$work/rootfs.tar" .
rm -rf "$out/crucible-oci" && mkdir -p "$out"
SOURCE_DATE_EPOCH=0 "$repo/node_modules/.bin/tsx" scripts/oci-layout.ts "$work/rootfs.tar" "$out/crucible-oci" "crucible:$version" "$work/config.json"
tar --sort=name --mtime=@0 --numeric-owner -C "$out/crucible-oci" -cf "$out/crucible-$version.oci.tar" .
say "done: $out/crucible-oci and $out/crucible-$version.oci.tar ($(du -h "$out/crucible-$version.oci.tar" | cut -f1))"
