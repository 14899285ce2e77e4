#!/usr/bin/env bash
# A throwaway PostgreSQL cluster with plrust preloaded, run as the postgres
# OS user (PostgreSQL refuses to run as root).
#   cluster.sh start DIR PORT    init if needed, start
#   cluster.sh init DIR PORT     initdb and configure, if not done yet
#   cluster.sh stop DIR
# PLRUST_EXTRA_CONF adds lines to a new cluster's postgresql.conf.
# PLRUST_NO_NETWORK=1 starts the server in a network namespace of its own,
# which has no interface but a loopback that is down (clients connect by
# the Unix socket, as to every cluster here): no route anywhere.
# PLRUST_PG names the major (default: scripts/majors.sh's default); a
# cluster that exists keeps the major it was made with.
set -euo pipefail
. "$(dirname "$0")/majors.sh"
cmd=$1; dir=$2
as_pg() { runuser -u postgres -- "$@"; }
# The major of an existing cluster, else the one asked for.
major() {
  if [ -f "$dir/data/PG_VERSION" ]; then cat "$dir/data/PG_VERSION"; return; fi
  local m
  m=$(selected_majors "$PLRUST_DEFAULT_MAJOR") || exit 2
  case $m in *" "*) echo "cluster.sh: PLRUST_PG must name one major, not '$m'" >&2; exit 2 ;; esac
  echo "$m"
}
init() { # port
  local port=$1 PG_BIN preload=plrust m
  m=$(major) || exit 2
  PG_BIN=$(pg_bindir "$m")
  if [ -n "${PLRUST_NO_PRELOAD:-}" ]; then preload=''; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    # Checksums on, as initdb of 18 does by default: pg_upgrade needs old
    # and new clusters to agree, whichever majors they are.
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --data-checksums >/dev/null
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = '$preload'
plrust.max_executors = 4
jit = off
log_min_messages = log
${PLRUST_EXTRA_CONF:-}
CONF
  fi
}
case "$cmd" in
  init) init "$3" ;;
  start)
    init "$3"
    netns=()
    [ -z "${PLRUST_NO_NETWORK:-}" ] || netns=(unshare --net --)
    "${netns[@]}" runuser -u postgres -- "$(pg_bindir "$(major)")/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$(pg_bindir "$(major)")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
  *) echo "usage: $0 start DIR PORT | init DIR PORT | stop DIR" >&2; exit 2 ;;
esac
