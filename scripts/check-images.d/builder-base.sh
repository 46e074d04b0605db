#!/usr/bin/env bash
# Makes the Dockerfile's builder base, `rust:<RUST_VERSION>-<DEBIAN_RELEASE>`, on this machine when
# the Docker engine lacks it, for hosts that reach no image registry (as CI's): a
# `debootstrap --variant=minbase` root of the Debian release apt is configured with, the C
# toolchain some crates build with (aws-lc-sys, ring), and this machine's Rust toolchain, laid
# out as the official `rust` image lays it out (CARGO_HOME=/usr/local/cargo, cargo and rustc on
# PATH), brought in with `docker import`. The engine keeps the image, so a second run on one
# machine only checks that it is there.
#
# A machine whose traffic passes a TLS-intercepting proxy needs its extra CA certificates for
# cargo's downloads inside the build. They go to /usr/local/share/build-ca/ca-certificates.crt
# with CARGO_HTTP_CAINFO pointing there, never into Debian's /etc/ssl/certs bundle, which is the
# one the Dockerfile copies into the runtime images (scripts/check-images proves they stay out).
#
#   builder-base.sh IMAGE_TAG        e.g. rust:1.95-bookworm
#
# Environment: DOCKER (the docker client), BUILDER_BASE_MIRROR (default: apt's first Debian URI).
set -euo pipefail

TAG=${1:?usage: builder-base.sh rust:<version>-<debian release>}
DOCKER=${DOCKER:-docker}
log() { printf '[check-images] %s\n' "$*" >&2; }

if "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  log "builder base $TAG: present"
  exit 0
fi

release=${TAG##*-}
# The Debian mirror apt already uses (deb822 sources or the classic list).
mirror=${BUILDER_BASE_MIRROR:-$(
  { grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
  } | grep -v security | head -1 || true
)}
[ -n "$mirror" ] || { log "no Debian mirror found in apt's sources: set BUILDER_BASE_MIRROR"; exit 1; }
command -v debootstrap >/dev/null || {
  log "apt-get install debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}
sysroot=$(rustc --print sysroot)
have=$(rustc --version | awk '{print $2}')
want=${TAG#rust:}; want=${want%-*}
case "$have" in
  "$want" | "$want".*) ;;
  *) log "this machine's Rust is $have, the builder base asks for $want: build with --build-arg RUST_VERSION=${have%.*}"; exit 1 ;;
esac

root=$(mktemp -d "${TMPDIR:-/tmp}/builder-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
log "builder base $TAG: debootstrap $release from $mirror (a few minutes, once per machine)"
debootstrap --variant=minbase --include=ca-certificates,gcc,g++,libc6-dev,make,pkg-config \
  "$release" "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"

log "builder base $TAG: Rust $have from $sysroot"
mkdir -p "$root/usr/local/rust" "$root/usr/local/cargo/bin" "$root/usr/local/share/build-ca"
cp -a "$sysroot/bin" "$sysroot/lib" "$root/usr/local/rust/"
[ -d "$sysroot/libexec" ] && cp -a "$sysroot/libexec" "$root/usr/local/rust/"
cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/build-ca/ca-certificates.crt"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

tar -C "$root" -c . | "$DOCKER" import \
  --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV CARGO_HOME=/usr/local/cargo' \
  --change 'ENV RUST_VERSION='"$have" \
  --change 'ENV CARGO_HTTP_CAINFO=/usr/local/share/build-ca/ca-certificates.crt' \
  --message "local builder base: debootstrap $release + Rust $have" \
  - "$TAG" >/dev/null
log "builder base $TAG: imported ($("$DOCKER" image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
