#!/usr/bin/env bash
# Fetches a real Slurm (slurmctld, slurmd, slurmrestd, the client commands,
# the auth/jwt plugin), MUNGE and an OpenSSH server from Debian's packages and
# unpacks them -- without installing anything on the system -- for the tests
# that run a single-node Slurm on loopback (internal/slurmenv).
#
# Packages come from apt (`apt-get download`, versions as apt's candidates)
# and are unpacked with `dpkg -x` into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/slurm/<key>/root
# where <key> is debian-<debian_version>-<arch>. Every shared library they
# need that no installed package provides is fetched too (from the packages'
# Depends, checked afterwards with ldd). The versions fetched are listed in
# <key>/versions.txt. A second run finds the cache and does nothing.
#
# Usage:
#   fetch.sh               fetch (once) and print the root directory last
#   fetch.sh --print-root  only print the root directory (fetched or not)
#
# Environment:
#   SLURM_BIN_CACHE  overrides ${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/slurm
#                    (the key is still added).
set -euo pipefail

# What the tests run; libraries are added from their Depends.
packages=(
  slurmctld slurmd slurmrestd slurm-client slurm-wlm-basic-plugins libslurm38
  slurm-wlm-jwt-plugin munge libmunge2 openssh-server
  # sshd needs a user named sshd (privilege separation); the tests provide it
  # from a passwd file of their own through nss_wrapper instead of adding it
  # to the system.
  libnss-wrapper
)

arch="$(dpkg --print-architecture)"
key="debian-$(cat /etc/debian_version)-${arch}"
cache_root="${SLURM_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/slurm}"
cache="$cache_root/$key"
root="$cache/root"

if [ "${1:-}" = "--print-root" ]; then
  echo "$root"
  exit 0
fi

mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
root="$cache/root"
exec 9>"$cache/.lock"
flock 9

if [ -f "$cache/.complete" ] && [ -d "$root" ]; then
  echo "slurm already fetched in $root ($(grep -E '^slurmctld ' "$cache/versions.txt" | cut -d' ' -f2))"
  echo "$root"
  exit 0
fi

start=$SECONDS
work="$(mktemp -d "$cache/tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/root"

# apt-get download as root otherwise warns that _apt cannot write here.
apt_download() (cd "$work/debs" && apt-get -q -o APT::Sandbox::User=root download "$@")

# download PKG...: downloads with apt; when that fails (no package lists yet,
# or lists so old that the archive no longer has their versions), updates the
# lists once and tries again.
updated=
download() {
  if apt_download "$@" >"$work/apt.log" 2>&1; then
    return 0
  fi
  if [ -z "$updated" ]; then
    echo "apt-get download failed ($(grep -E '^E:' "$work/apt.log" | head -1)); running apt-get update"
    apt-get -q update >/dev/null
    updated=1
    apt_download "$@" >"$work/apt.log" 2>&1 && return 0
  fi
  cat "$work/apt.log" >&2
  echo "cannot download: $*" >&2
  return 1
}

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

# deps DEB: the packages DEB depends on (first of each alternative).
deps() {
  dpkg-deb -f "$1" Depends Pre-Depends |
    sed -E 's/^(Pre-)?Depends: //' | tr ',' '\n' |
    sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g' | grep -v '^$' || true
}

echo "fetching slurm, munge and openssh-server packages into $cache ..."
declare -A seen=()
todo=("${packages[@]}")
for p in "${packages[@]}"; do seen[$p]=1; done
while [ ${#todo[@]} -gt 0 ]; do
  download "${todo[@]}"
  todo=()
  for deb in "$work"/debs/*.deb; do
    for d in $(deps "$deb"); do
      # Only libraries: the rest (adduser, ucf, lsb-base...) are maintainer
      # script helpers that an unpacked tree does not need.
      if [ -z "${seen[$d]:-}" ] && [[ "$d" == lib* ]] && ! installed "$d"; then
        seen[$d]=1
        todo+=("$d")
      fi
    done
  done
done

: >"$work/versions.txt"
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
  dpkg-deb -f "$deb" Package Version | paste -sd' ' | sed 's/Package: //; s/ Version: / /' >>"$work/versions.txt"
done
sort -o "$work/versions.txt" "$work/versions.txt"

# Every ELF file must find its libraries in the tree or on the system (ldd
# says "not a dynamic executable" about the rest, which is ignored).
libdirs="$(find "$work/root" -regex '.*\.so\(\.[0-9.]+\)?' -printf '%h\n' | sort -u | paste -sd:)"
missing="$(
  cd "$work/root" &&
    find . -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
    LD_LIBRARY_PATH="$libdirs" xargs -0 ldd 2>/dev/null |
    awk '/^[^\t]/ { file = $0 } /not found/ { print file, $0 }' || true
)"
if [ -n "$missing" ]; then
  echo "unresolved shared libraries:" >&2
  echo "$missing" >&2
  exit 1
fi

rm -rf "$root"
mv "$work/root" "$root"
mv "$work/versions.txt" "$cache/versions.txt"
touch "$cache/.complete"
echo "fetched $(wc -l <"$cache/versions.txt") packages ($(du -sh "$root" | cut -f1)) in $((SECONDS - start))s:"
sed 's/^/  /' "$cache/versions.txt"
echo "$root"
