#!/usr/bin/env bash
# Benchmarks (not part of the test run): set up, start a throwaway cluster,
# run plrust-bench, stop.  Prints ns/row for the built-in operator, a native
# C function, SQL, PL/pgSQL and plrust, their ratios, and CREATE FUNCTION time.
# Runs on the default major (scripts/majors.sh); PLRUST_PG="15 18" runs on
# each of those in turn.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/majors.sh
MAJORS=$(selected_majors "$PLRUST_DEFAULT_MAJOR")
PLRUST_PG=$MAJORS bash scripts/setup.sh >/dev/null
base=$(mktemp -d /tmp/plrust-bench.XXXXXX); chmod 755 "$base"
trap 'for d in "$base"/pg*; do bash scripts/cluster.sh stop "$d"; done; rm -rf "$base"' EXIT
cargo build --release -q -p plrust-tests --bin plrust-bench
cargo build --release -q -p plrust-ipc --example pingpong
for m in $MAJORS; do
  dir="$base/pg$m"
  echo "== PostgreSQL $m"
  PLRUST_PG=$m bash scripts/cluster.sh start "$dir" 55450
  "$(pg_bindir "$m")/psql" -X -q -h "$dir" -p 55450 -U postgres -c "CREATE DATABASE plrust_test" \
    -c "\\c plrust_test" -c "CREATE EXTENSION plrust"
  # The floor under every call: two processes handing one cache line back
  # and forth.  On a VM it moves with where the vCPUs land (60-450 ns seen
  # on the same machine), so it is printed with the results it explains.
  echo "raw channel round trip between two processes, before: $(target/release/examples/pingpong | sed 's/round trip: //')"
  PLRUST_TEST_HOST="$dir" PLRUST_TEST_PORT=55450 target/release/plrust-bench
  echo "raw channel round trip between two processes, after: $(target/release/examples/pingpong | sed 's/round trip: //')"
  bash scripts/cluster.sh stop "$dir"
done
