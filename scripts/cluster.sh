#!/usr/bin/env bash
# A throwaway PostgreSQL cluster with plrust preloaded, run as the postgres
# OS user (PostgreSQL refuses to run as root).
#   cluster.sh start DIR PORT    initdb if needed, configure, start
#   cluster.sh stop DIR
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin
cmd=$1; dir=$2
as_pg() { runuser -u postgres -- "$@"; }
case "$cmd" in
  start)
    port=$3
    preload=plrust
    if [ -n "${PLRUST_NO_PRELOAD:-}" ]; then preload=''; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      chown postgres:postgres "$dir"
      as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = '$preload'
plrust.workers = 4
jit = off
log_min_messages = log
CONF
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
