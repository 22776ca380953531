#!/usr/bin/env bash
# Builds Crucible's OCI image without any registry: a Debian bookworm root filesystem made by
# debootstrap (python3 for the programs, bubblewrap for the sandbox), this machine's Node 20
# binary, and the built server (dist/, the native sandbox helpers, production node_modules).
# With the built environments named by --environments (default: python), so that the image runs
# evaluations with nothing mounted from the host.
# One image, three uses (its entrypoint is `crucible`):
#   crucible serve --host 0.0.0.0      (the default command)
#   crucible worker --database-url ... --redis-url ...
#   crucible migrate --database-url ...   (a one-shot Job before a rollout)
# Output: OUT/crucible-oci/ (an OCI image layout) and OUT/crucible-VERSION.oci.tar (the same as an
# OCI archive: `podman load -i OUT/crucible-VERSION.oci.tar`).
#
#   scripts/build-image.sh [--out DIR] [--environments LIST]
#     --out DIR            default build/image; needs root and a built tree
#     --environments LIST  comma-separated built environments to include (default: python; '' for
#                          none), copied from CRUCIBLE_ENVIRONMENTS_DIR (default /var/lib/crucible/environments)
#   CRUCIBLE_IMAGE_BASE   cache of the debootstrap tree (default /var/cache/crucible/image-base);
#                         built once (~9 min, mostly downloads), reused by later builds
#   CRUCIBLE_IMAGE_LAYER_CACHE  gzipped layers by content (default /var/cache/crucible/image-layers):
#                         the base and environment layers are gzipped once, not on every build
# Layers, lowest first: the Debian base, the environments, the application (Node, dist/, helpers,
# node_modules). Only the last changes with the code, so a rebuilt image loads in seconds into a
# podman that holds the previous one.
#   CRUCIBLE_APT_MIRROR   mirror for debootstrap (default: the first one this machine's apt uses)
# Not in the image: gVisor (runsc and its rootfs); the image runs the bubblewrap sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
say() { printf '[crucible image] %s\n' "$*" >&2; }

out=build/image
environments=python
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --environments) environments=$2; shift 2 ;;
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
environments_dir=${CRUCIBLE_ENVIRONMENTS_DIR:-/var/lib/crucible/environments}
IFS=, read -r -a environment_names <<<"$environments"
for name in "${environment_names[@]}"; do
  [ -f "$environments_dir/$name/environment.json" ] || {
    say "environment $name is not built in $environments_dir (crucible environments build $name), or leave it out: --environments ''"
    exit 1
  }
done

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
layers=()
# Reproducible tarballs (sorted names, fixed times, numeric owners, and no access or change times
# in the pax headers that --xattrs brings): the same tree gives the same layer digest, which is
# what lets the layer cache and podman skip unchanged layers.
layer() { # layer NAME DIR
  tar --sort=name --mtime=@0 --numeric-owner --xattrs --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$2" -cf "$work/$1.tar" .
  layers+=("$work/$1.tar")
}

say "layer 1: the Debian base"
root=$work/base
cp -a "$base" "$root"
# Facts of the building host that have no place in an image: mirror, resolver, name, build logs.
echo 'deb http://deb.debian.org/debian bookworm main' >"$root/etc/apt/sources.list"
rm -rf "$root"/var/log/bootstrap.log "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log "$root"/var/log/apt/*.log \
  "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old
: >"$root/etc/resolv.conf"
echo crucible >"$root/etc/hostname"
layer base "$root"
rm -rf "$root"

if [ "${#environment_names[@]}" -gt 0 ]; then
  say "layer 2: environments ${environment_names[*]}"
  root=$work/environments
  for name in "${environment_names[@]}"; do
    # The host keeps <name> as a symlink to its current build; the image holds the build itself.
    mkdir -p "$root/var/lib/crucible/environments/$name"
    cp -a "$(readlink -f "$environments_dir/$name")/." "$root/var/lib/crucible/environments/$name/"
  done
  layer environments "$root"
  rm -rf "$root"
fi

say "layer 3: the application"
root=$work/app
mkdir -p "$root/usr/local/bin"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
app=$root/opt/crucible
mkdir -p "$app/build" "$root/var/lib/crucible/data"
# environments/: the manifests every server and worker reads to know which environments exist.
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
layer app "$root"

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

say "writing the image layout"
rm -rf "$out/crucible-oci" && mkdir -p "$out"
SOURCE_DATE_EPOCH=0 OCI_LAYER_CACHE=${CRUCIBLE_IMAGE_LAYER_CACHE:-/var/cache/crucible/image-layers} \
  "$repo/node_modules/.bin/tsx" scripts/oci-layout.ts "$out/crucible-oci" "crucible:$version" "$work/config.json" "${layers[@]}"
tar --sort=name --mtime=@0 --numeric-owner -C "$out/crucible-oci" -cf "$out/crucible-$version.oci.tar" .
say "done: $out/crucible-oci and $out/crucible-$version.oci.tar ($(du -h "$out/crucible-$version.oci.tar" | cut -f1))"
