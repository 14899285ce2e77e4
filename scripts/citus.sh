#!/usr/bin/env bash
# Build Citus 13.2.2 from shared/vendor/citus and install it into
# PostgreSQL 15, for the Citus tests (tests/tests/citus.rs), as root,
# idempotently.  Citus is not in Debian's archive, and 13.2.2 is the last
# release that still supports 15, so it is built from the vendored source.
# Quick when that very build is already installed: a marker beside
# citus.so names the tarball, the patch and the server they were built for.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/majors.sh
CITUS_VERSION=13.2.2
VENDOR=${PLRUST_CITUS_VENDOR:-$(cd .. && pwd)/shared/vendor/citus}
TARBALL=$VENDOR/citus-$CITUS_VERSION.tar.gz
PATCH=$VENDOR/pg15.20-have_createdb_privilege.patch
PG_CONFIG=$(pg_config_of 15)
PKGLIB=$("$PG_CONFIG" --pkglibdir)
MARKER=$PKGLIB/citus.plrust-build
. scripts/debian.sh

# The marker says which build is installed; the server version is part of
# it because the patch exists for one minor release's headers (15.20), and
# another minor may need another build.
want="citus $CITUS_VERSION $(sha256sum < "$TARBALL" | cut -d' ' -f1) $(sha256sum < "$PATCH" | cut -d' ' -f1) $("$PG_CONFIG" --version)"
if [ -f "$PKGLIB/citus.so" ] && [ "$(cat "$MARKER" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

# Citus links with libcurl (statistics collection), lz4 and zstd (columnar
# compression) and Kerberos (libpq's GSS headers); the server-dev package
# brings pgxs and the headers.
pkgs=(libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev postgresql-server-dev-15 gcc make patch)
install_debian_packages "Citus" "${pkgs[@]}"

# A fresh tree every time: a half-patched or half-built one from an
# interrupted run would make the patch fail or leave stale objects.
build=target/citus-build
say "building Citus $CITUS_VERSION for PostgreSQL 15 in $build (a few minutes, once)"
rm -rf "$build"
mkdir -p "$build"
tar xzf "$TARBALL" --no-same-owner -C "$build"
src=$build/citus-$CITUS_VERSION
(cd "$src" && patch -p0 -s < "$PATCH")
(cd "$src" && ./configure -q PG_CONFIG="$PG_CONFIG" >/dev/null && make -s -j2 >/dev/null && make -s install >/dev/null)
echo "$want" > "$MARKER"
say "Citus $CITUS_VERSION installed into PostgreSQL 15 ($PKGLIB/citus.so)"
