#!/usr/bin/env bash
# Benchmarks (not part of the test run): set up, start a throwaway cluster,
# run plrust-bench, stop.  Prints ns/row for the built-in operator, a native
# C function, SQL, PL/pgSQL and plrust, their ratios, and CREATE FUNCTION time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
base=$(mktemp -d /tmp/plrust-bench.XXXXXX); chmod 755 "$base"
trap 'bash scripts/cluster.sh stop "$base/main"; rm -rf "$base"' EXIT
bash scripts/cluster.sh start "$base/main" 55450
psql -X -q -h "$base/main" -p 55450 -U postgres -c "CREATE DATABASE plrust_test" -c "\\c plrust_test" -c "CREATE EXTENSION plrust"
cargo build --release -q -p plrust-tests --bin plrust-bench
cargo build --release -q -p plrust-ipc --example pingpong
# The floor under every call: two processes handing one cache line back and
# forth.  On a VM it moves with where the vCPUs land (60-450 ns seen on the
# same machine), so it is printed with the results it explains.
echo "raw channel round trip between two processes, before: $(target/release/examples/pingpong | sed 's/round trip: //')"
PLRUST_TEST_HOST="$base/main" PLRUST_TEST_PORT=55450 target/release/plrust-bench
echo "raw channel round trip between two processes, after: $(target/release/examples/pingpong | sed 's/round trip: //')"
