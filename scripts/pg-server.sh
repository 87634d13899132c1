#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests, in a temporary directory.
#
#   eval "$(scripts/pg-server.sh start)"   starts one; prints the shell lines
#                                          that export SOPIR_TEST_PG (the
#                                          administrator's connection URL) and
#                                          SOPIR_TEST_PG_DIR (its directory)
#   scripts/pg-server.sh env [DIR]         prints those lines again
#   scripts/pg-server.sh restart [DIR]     restarts it (fault tests)
#   scripts/pg-server.sh stop [DIR]        stops it and removes the directory
#   scripts/pg-server.sh standby [DIR]     starts a hot standby of it (streaming
#                                          replication, its own directory and
#                                          port); prints the lines that export
#                                          SOPIR_TEST_PG_STANDBY (its URL) and
#                                          SOPIR_TEST_PG_STANDBY_DIR; stop it
#                                          with `stop`, promote it with `promote`
#   scripts/pg-server.sh promote DIR       promotes a standby to primary
#
# DIR defaults to $SOPIR_TEST_PG_DIR. The server listens on 127.0.0.1 only, on
# a free port, and on a unix socket inside DIR; password authentication
# (scram-sha-256) with a generated password. PostgreSQL refuses to run as
# root, so under root (CI) it runs as the system user sopir-test, created on
# first use. Needs Debian's postgresql package (scripts/deps.sh --test).
set -euo pipefail

bin=${SOPIR_PG_BIN:-/usr/lib/postgresql/15/bin}
user=sopir-test

die() { echo "pg-server.sh: $*" >&2; exit 1; }

# Runs a command as the server's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

print_env() {
  local dir=$1
  [[ -f $dir/url ]] || die "no test server in ${dir:-(SOPIR_TEST_PG_DIR unset)}"
  printf 'export SOPIR_TEST_PG=%q\nexport SOPIR_TEST_PG_DIR=%q\n' "$(cat "$dir/url")" "$dir"
}

start() {
  [[ -x $bin/initdb ]] || die "no PostgreSQL 15 in $bin; install Debian's postgresql package (bash scripts/deps.sh --test)"
  if [[ $(id -u) -eq 0 ]] && ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
  local dir password port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/sopir-pg.XXXXXX")
  chmod 700 "$dir"
  [[ $(id -u) -eq 0 ]] && chown "$user" "$dir"
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  (umask 077; echo "$password" >"$dir/pwfile")
  [[ $(id -u) -eq 0 ]] && chown "$user" "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U sopir --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }
  rm -f "$dir/pwfile"
  # A port can be taken between choosing and binding it: try a few.
  local tries=0
  while :; do
    port=$(free_port)
    cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
full_page_writes = off
EOF
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then break; fi
    tries=$((tries + 1))
    ((tries < 5)) || { cat "$dir/server.log" >&2; rm -rf "$dir"; die "the server did not start"; }
  done
  echo "postgresql://sopir:$password@127.0.0.1:$port/postgres" >"$dir/url"
  print_env "$dir"
}

# A hot standby of the server in $1: a base backup streamed from it (-R
# writes the replication settings), started on a port of its own.
standby() {
  local primary=$1 dir port url
  [[ -f $primary/url ]] || die "no test server in ${primary:-(SOPIR_TEST_PG_DIR unset)}"
  url=$(cat "$primary/url")
  dir=$(mktemp -d "${TMPDIR:-/tmp}/sopir-pg-standby.XXXXXX")
  chmod 700 "$dir"
  [[ $(id -u) -eq 0 ]] && chown "$user" "$dir"
  # A replication slot of its own: the primary keeps every WAL segment the
  # standby has not received yet, however much the other tests write.
  local slot
  slot="sopir_standby_$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
  echo "$slot" >"$dir/slot"
  echo "$url" >"$dir/primary"
  as_owner "$bin/pg_basebackup" -d "$url" -D "$dir/data" -R -X stream -c fast -C -S "$slot" >"$dir/basebackup.log" 2>&1 ||
    { cat "$dir/basebackup.log" >&2; rm -rf "$dir"; die "pg_basebackup failed"; }
  local tries=0
  while :; do
    port=$(free_port)
    # Later lines win: the copy of the primary's settings stays above.
    printf "port = %s\nunix_socket_directories = '%s'\nhot_standby = on\n" "$port" "$dir" |
      as_owner tee -a "$dir/data/postgresql.auto.conf" >/dev/null
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then break; fi
    tries=$((tries + 1))
    ((tries < 5)) || { cat "$dir/server.log" >&2; rm -rf "$dir"; die "the standby did not start"; }
  done
  echo "$url" | sed -E "s/:[0-9]+\//:$port\//" >"$dir/url"
  printf 'export SOPIR_TEST_PG_STANDBY=%q\nexport SOPIR_TEST_PG_STANDBY_DIR=%q\n' "$(cat "$dir/url")" "$dir"
}

cmd=${1:-}
dir=${2:-${SOPIR_TEST_PG_DIR:-}}
case "$cmd" in
  start) start ;;
  env) print_env "$dir" ;;
  restart)
    [[ -d $dir/data ]] || die "no test server in ${dir:-(SOPIR_TEST_PG_DIR unset)}"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast restart >/dev/null ;;
  stop)
    [[ -n $dir ]] || die "which server? give its directory or set SOPIR_TEST_PG_DIR"
    if [[ -d $dir/data ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m immediate stop >/dev/null 2>&1 || true
    fi
    # A standby's slot on its primary, so the primary keeps no WAL for it.
    if [[ -f $dir/slot && -f $dir/primary ]]; then
      "$bin/psql" -X -q -d "$(cat "$dir/primary")" \
        -c "SELECT pg_drop_replication_slot('$(cat "$dir/slot")')" >/dev/null 2>&1 || true
    fi
    rm -rf "$dir" ;;
  standby) standby "$dir" ;;
  promote)
    [[ -d $dir/data ]] || die "no test server in ${dir:-(give the directory of the standby)}"
    as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null ;;
  *) die "usage: pg-server.sh start | env [DIR] | restart [DIR] | stop [DIR] | standby [DIR] | promote DIR" ;;
esac
