#!/bin/sh
# Compile probe.rs and macros.rs against this tree's trusted-api without a cluster: a quick
# check while working gaps.txt down (README.md).  The real check is
# tests/tests/surface.rs, which compiles the probe through CREATE FUNCTION
# against the installed kit and its std facade.
#   check-offline.sh [SCRATCH_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
api=$(cd "$here/../../trusted-api" && pwd)
dir=${1:-${TMPDIR:-/tmp}/plrust-probe-offline}
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "probe-offline"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
[dependencies]
pgrx = { package = "plrust-api", path = "$api" }
[workspace]
TOML
{
    echo 'pub fn probe() -> Result<Option<bool>, pgrx::prelude::BoxError> {'
    cat "$here/probe.rs"
    echo '}'
    echo 'pub fn macros() -> Result<Option<bool>, pgrx::prelude::BoxError> {'
    cat "$here/macros.rs"
    echo '}'
} > "$dir/src/lib.rs"
cd "$dir"
if cargo check --quiet --message-format short 2>"$dir/errors"; then
    echo "probe compiles"
else
    # lib.rs line N is probe.rs line N-1: name the items rustc refused.
    grep -o '^src/lib.rs:[0-9]*:[0-9]*: error.*' "$dir/errors" || cat "$dir/errors"
    grep -o '^src/lib.rs:[0-9]*' "$dir/errors" | cut -d: -f2 | sort -un | while read -r n; do
        sed -n "${n}p" src/lib.rs | sed -n 's|.* // |refused: |p'
    done
    exit 1
fi
