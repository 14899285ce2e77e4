#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run every test: the unit tests
# of the pgrx-free crates, and the integration tests against a throwaway
# cluster with plrust preloaded (plus one without, for the preload check).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo; echo "==> unit tests"
cargo test --release -p plrust-ipc -p plrust-compiler -p plrust-api -p plrust-std -p plrust-bgworker

base=$(mktemp -d /tmp/plrust-test.XXXXXX)
chmod 755 "$base"
stop() {
  bash scripts/cluster.sh stop "$base/main" || true
  bash scripts/cluster.sh stop "$base/nopreload" || true
  if [ "${KEEP_CLUSTER:-}" = "" ]; then rm -rf "$base"; else echo "cluster kept in $base"; fi
}
trap stop EXIT
echo; echo "==> starting throwaway clusters in $base"
bash scripts/cluster.sh start "$base/main" 55440
PLRUST_NO_PRELOAD=1 bash scripts/cluster.sh start "$base/nopreload" 55441
psql -X -q -h "$base/main" -p 55440 -U postgres -c "CREATE DATABASE plrust_test" \
  -c "\\c plrust_test" -c "CREATE EXTENSION plrust"

echo; echo "==> integration tests"
export PLRUST_TEST_HOST="$base/main" PLRUST_TEST_PORT=55440 PLRUST_TEST_DATADIR="$base/main/data"
export PLRUST_TEST_NOPRELOAD_HOST="$base/nopreload" PLRUST_TEST_NOPRELOAD_PORT=55441
status=0
cargo test --release -p plrust-tests || status=$?
if [ $status -ne 0 ]; then
  echo "==> server log (last 60 lines)"; tail -n 60 "$base/main/server.log"
fi
exit $status
