#!/usr/bin/env bash
# PL/Proxy (a PostgreSQL language whose functions run queries on other
# databases) for the majors named as arguments (default: as PLRUST_PG picks,
# see scripts/majors.sh), as root, idempotently; quick when it is there.
# tests/tests/plproxy.rs runs plrust functions behind it.
#
#   15      Debian 12's postgresql-15-plproxy (PL/Proxy 2.10.0)
#   16-18   PL/Proxy 2.11.0 built from source against each major's pg_config
#           (pgxs): Debian has no package for these servers, which come from
#           PyPI.  The source is Debian's upstream tarball, the one trixie
#           and sid build their postgresql-16/17/18-plproxy packages from
#           unpatched (2.11.0-11 "Upload for PostgreSQL 16", -12 for 17,
#           -13 for 18), pinned by the sha256 that trixie's signed Sources
#           index gives for it.  (2.12.0, in forky and sid, adds PG19
#           support; its tarball is not served by the mirror this project
#           can reach, and nothing in it is needed for 15-18.)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/majors.sh
if [ $# -gt 0 ]; then MAJORS=$(PLRUST_PG="$*" selected_majors ""); else MAJORS=$(selected_majors "$PLRUST_MAJORS"); fi
. scripts/debian.sh

PLPROXY_VERSION=2.11.0
PLPROXY_TARBALL=postgresql-plproxy_$PLPROXY_VERSION.orig.tar.gz
PLPROXY_SHA256=9b65d918fc7027a529868a1a30cced974c1fdbf91c0f1d25f757b9f8ec80353f
PLPROXY_URL=http://deb.debian.org/debian/pool/main/p/postgresql-plproxy/$PLPROXY_TARBALL

# Debian packages: the 15 package itself, and for the source builds the
# tools its grammar needs (flex, bison) and a C toolchain.
pkgs=()
for m in $MAJORS; do
  if [ "$m" = 15 ]; then pkgs+=(postgresql-15-plproxy); else pkgs+=(flex bison make gcc libc6-dev curl); fi
done
install_debian_packages "PL/Proxy" "${pkgs[@]}"

# What a source build left in a major: a marker naming the tarball, next to
# the files it installed.  It lives inside the major's tree, so a major
# reinstalled by setup.sh (a new wheel) loses it and is built for again.
marker_of() { echo "$("$(pg_config_of "$1")" --sharedir)/extension/plproxy.plrust-build"; }
built() { # major
  local pkglib
  pkglib=$("$(pg_config_of "$1")" --pkglibdir)
  [ -f "$pkglib/plproxy.so" ] && [ "$(cat "$(marker_of "$1")" 2>/dev/null)" = "$PLPROXY_VERSION $PLPROXY_SHA256" ]
}

todo=()
for m in $MAJORS; do
  [ "$m" = 15 ] || built "$m" || todo+=("$m")
done
if [ ${#todo[@]} -gt 0 ]; then
  tmp=$(mktemp -d /tmp/plproxy-build.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  say "fetching PL/Proxy $PLPROXY_VERSION source: $PLPROXY_URL"
  curl -fsSL --retry 3 -o "$tmp/$PLPROXY_TARBALL" "$PLPROXY_URL"
  echo "$PLPROXY_SHA256  $tmp/$PLPROXY_TARBALL" | sha256sum -c --quiet
  for m in "${todo[@]}"; do
    say "building PL/Proxy $PLPROXY_VERSION for PostgreSQL $m and installing it"
    # A fresh tree per major: the objects are built against that major's
    # headers, and pgxs keeps no per-major build directory of its own.
    mkdir "$tmp/$m"
    tar xzf "$tmp/$PLPROXY_TARBALL" --no-same-owner -C "$tmp/$m" --strip-components=1
    # The log is shown only if the build fails.  (install unlinks the old
    # file before writing, so a running server that has plproxy.so mapped
    # keeps the old copy.)
    if ! make -C "$tmp/$m" -s PG_CONFIG="$(pg_config_of "$m")" all install > "$tmp/$m.log" 2>&1; then
      cat "$tmp/$m.log"; echo "PL/Proxy did not build for PostgreSQL $m" >&2; exit 1
    fi
    echo "$PLPROXY_VERSION $PLPROXY_SHA256" > "$(marker_of "$m")"
  done
fi
for m in $MAJORS; do
  printf '  PostgreSQL %s: PL/Proxy %s\n' "$m" \
    "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$("$(pg_config_of "$m")" --sharedir)/extension/plproxy.control")"
done
