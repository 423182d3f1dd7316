#!/usr/bin/env bash
# Runs the README's two commands on a truly fresh Debian 12 machine: a
# minimal root made by debootstrap with only what a new machine has (gcc,
# make, cmake, git), a clean clone of this repository's HEAD copied in, and
#
#   bash tools/test.sh     (the README's test command)
#   bash tools/demo.sh     (the README's demo command)
#
# run inside it with chroot and an empty environment.  Whatever the project
# needs must then come from its own scripts (tools/install-deps.sh): a
# package installed by hand on this machine cannot hide a missing install
# step.  ../shared, when it is beside the repository, is bind-mounted
# read-only beside the clone, as on the machines that have it.
#
#   tools/fresh-machine-check.sh [--keep]
#
# Needs root (debootstrap, chroot, mounts) and Debian's package mirror; the
# mirror and apt settings are taken from this machine's apt sources.
# Environment:
#   IMGREC_FRESH_DIR    work folder (default /var/tmp/imgrec-fresh-check);
#                       keeps the bare debootstrap root as a tarball and the
#                       downloaded .deb files between runs, so a second run
#                       skips the downloads -- not the installs: each run
#                       unpacks a new bare root
#   --keep              leave the root in place afterwards (for a look inside)
# Exit status: 0 when both commands pass, 1 otherwise (the failing command's
# output is printed), 2 when the check itself cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
keep=0
[ "${1:-}" = "--keep" ] && keep=1

die() { echo "fresh-machine-check: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mounts)."
command -v git >/dev/null || die "needs git to make the clean clone."

work=${IMGREC_FRESH_DIR:-/var/tmp/imgrec-fresh-check}
root="$work/root"
base_tar="$work/base-bookworm.tar"
debs="$work/debs"
mkdir -p "$work" "$debs"

mounts=()
mounted_under_root() {
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {found = 1} END {exit !found}' /proc/mounts
}
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount -l "${mounts[$i]}" 2>/dev/null || true
  done
  if mounted_under_root; then
    # Never rm -rf through a bind mount (it would reach the host's /dev).
    echo "fresh-machine-check: something is still mounted under $root; not deleting it" >&2
  elif [ "$keep" -eq 0 ]; then
    rm -rf "$root"
  else
    echo "fresh-machine-check: the root stays in $root"
  fi
}
trap cleanup EXIT

# The host's Debian mirror: the first deb822 "URIs:" of a .sources file, or
# the first "deb" line of a .list file, that serves bookworm.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  if grep -qE '^Suites:.*\bbookworm\b' "$f"; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' "$f")
    [ -n "$mirror" ] && break
  fi
done
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $0 ~ / bookworm / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}')
fi
[ -n "$mirror" ] || die "found no Debian bookworm mirror in /etc/apt/sources.list(.d)."

if ! command -v debootstrap >/dev/null; then
  echo "fresh-machine-check: installing debootstrap on this machine" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
    >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi

if mounted_under_root; then
  die "something is still mounted under $root (an earlier run?): unmount it first."
fi
rm -rf "$root"
mkdir -p "$root"
t0=$(date +%s)
if [ -f "$base_tar" ]; then
  tar -C "$root" -xf "$base_tar"
else
  echo "fresh-machine-check: debootstrap bookworm from $mirror (a few minutes)"
  # What a fresh machine has: a minimal Debian 12 plus gcc, make and cmake
  # (and git, which cloned the project; ca-certificates for https mirrors).
  if ! debootstrap --variant=minbase --include=gcc,make,cmake,git,ca-certificates \
      bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -20 "$work/debootstrap.log" >&2
    die "debootstrap failed (log: $work/debootstrap.log)."
  fi
  rm -rf "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
fi

# This machine's apt sources and network settings (not its packages).
rm -f "$root"/etc/apt/sources.list
mkdir -p "$root"/etc/apt/sources.list.d "$root"/etc/apt/apt.conf.d
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  # Third-party sources name keyrings a fresh machine lacks: Debian's only.
  if grep -q 'debian' "$f" && ! grep -qE 'nodesource|google|docker' "$f"; then
    cp "$f" "$root$f"
  fi
done
for f in /etc/apt/apt.conf.d/*; do
  # Acquire:: settings (proxies, Check-Valid-Until for a snapshot mirror),
  # not hooks that call programs a fresh machine lacks.
  if grep -q 'Acquire::' "$f" 2>/dev/null && ! grep -q 'Invoke' "$f"; then
    cp "$f" "$root/etc/apt/apt.conf.d/"
  fi
done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
[ -f /etc/hosts ] && cp /etc/hosts "$root/etc/hosts"

bind() {  # bind SRC DEST [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounts+=("$2")
  if [ "${3:-}" = "ro" ]; then
    mount -o remount,bind,ro "$2"
  fi
}
mkdir -p "$root/proc" "$root/sys"
mount -t proc proc "$root/proc"; mounts+=("$root/proc")
mount -t sysfs sys "$root/sys"; mounts+=("$root/sys")
bind /dev "$root/dev"
bind /dev/pts "$root/dev/pts"
if mountpoint -q /dev/shm; then bind /dev/shm "$root/dev/shm"; fi
bind "$debs" "$root/var/cache/apt/archives"

# A clean clone of HEAD (what CI and a user get), at the same relative
# place to ../shared as here.
mkdir -p "$root/work"
git clone -q --no-hardlinks "$repo" "$root/work/imgrec"
if [ -d "$repo/../shared" ]; then
  bind "$(cd "$repo/../shared" && pwd)" "$root/work/shared" ro
fi

run_in_root() {  # run_in_root NAME COMMAND
  local name=$1 cmd=$2 log="$work/$1.log" t
  t=$(date +%s)
  echo "fresh-machine-check: $cmd"
  if env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LANG=C.UTF-8 TERM=dumb ${CI:+CI=$CI} \
      chroot "$root" /bin/bash -c "cd /work/imgrec && $cmd" >"$log" 2>&1 </dev/null; then
    echo "fresh-machine-check: ok ($(( $(date +%s) - t )) s): $cmd"
    tail -4 "$log" | sed 's/^/  | /'
    return 0
  fi
  echo "fresh-machine-check: FAILED ($(( $(date +%s) - t )) s): $cmd; its last lines (log: $log):" >&2
  tail -60 "$log" | sed 's/^/  | /' >&2
  return 1
}

status=0
run_in_root test "bash tools/test.sh" || status=1
run_in_root demo "bash tools/demo.sh" || status=1
echo "fresh-machine-check: $([ $status -eq 0 ] && echo passed || echo failed) in $(( $(date +%s) - t0 )) s"
exit $status
