#!/usr/bin/env bash
# postgres.sh start|stop|status DIR [PORT]
#
# A throwaway PostgreSQL 15 cluster for tests and benchmarks, from Debian's packages, bound to
# 127.0.0.1 only. All state (data, socket, log, pid) lives in DIR.
#
#   start DIR [PORT]  DIR must be empty or absent; PORT defaults to a free port outside 6800-7300.
#                     Installs postgresql-15 when missing (apt-get update only when the install needs
#                     it). The server runs as the owner of DIR's parent when that is not root, else as
#                     the `postgres` user (PostgreSQL refuses to run as root). On success DIR/url holds
#                     postgres://rolegate:…@127.0.0.1:PORT/rolegate (mode 0600) and DIR/pid the server pid.
#   stop DIR          stops exactly the recorded server (fast shutdown, then SIGKILL), then removes DIR.
#   status DIR        exit 0 when the recorded server is alive.
#
# Environment (optional):
#   PG_SKIP_APT=1   never call apt-get; fail when the binaries are missing
#   PG_TIMEOUT      seconds to wait for the server (default 60)
set -euo pipefail

PROG=postgres.sh
die() { echo "$PROG: ERROR: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }
usage() { echo "usage: $0 start|stop|status DIR [PORT]" >&2; exit 2; }

[ $# -ge 2 ] || usage
CMD=$1
DIR_ARG=$2
PORT=${3:-}
case "$DIR_ARG" in
  '' | *[!A-Za-z0-9._/+@:=,-]*) die "DIR '$DIR_ARG' must consist of [A-Za-z0-9._/+@:=,-] only" ;;
esac
DIR=$(realpath -m -- "$DIR_ARG")
BIN=/usr/lib/postgresql/15/bin
TIMEOUT=${PG_TIMEOUT:-60}

# Is pid still the postmaster we started for DIR? Guards against pid reuse.
ours() {
  local pid=$1 exe
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  case "$exe" in */postgres) ;; *) return 1 ;; esac
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$DIR/data"
}

recorded_pid() { [ -s "$DIR/pid" ] && cat "$DIR/pid"; }

stop_recorded() {
  local pid
  pid=$(recorded_pid) || return 0
  ours "$pid" || return 0
  kill -INT "$pid" 2>/dev/null || true # fast shutdown: abort transactions, exit cleanly
  for _ in $(seq 1 100); do ours "$pid" || return 0; sleep 0.1; done
  log "postgres (pid $pid) did not exit after SIGINT; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do ours "$pid" || return 0; sleep 0.1; done
  return 1
}

install_packages() {
  [ -x "$BIN/postgres" ] && [ -x "$BIN/initdb" ] && return 0
  [ "${PG_SKIP_APT:-}" = 1 ] && die "PostgreSQL 15 is not installed ($BIN) and PG_SKIP_APT=1"
  [ "$(id -u)" = 0 ] || die "PostgreSQL 15 is not installed ($BIN); run as root once to install it"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends postgresql-15 >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends postgresql-15 >/dev/null
  fi
  [ -x "$BIN/postgres" ] || die "postgresql-15 installed but $BIN/postgres is missing"
}

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

start() {
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then die "DIR $DIR is not empty"; fi
  install_packages
  [ -n "$PORT" ] || PORT=$(free_port)
  case "$PORT" in *[!0-9]*) die "PORT must be a number" ;; esac
  if [ "$PORT" -ge 6800 ] && [ "$PORT" -le 7300 ]; then die "PORT $PORT is in the reserved range 6800-7300"; fi

  local user=postgres
  if [ "$(id -u)" != 0 ]; then user=$(id -un); fi
  id "$user" >/dev/null 2>&1 || die "user $user does not exist (the postgresql-15 package creates it)"
  mkdir -p "$DIR"
  chmod 0700 "$DIR"
  if [ "$(id -u)" = 0 ] && ! runuser -u "$user" -- test -x "$(dirname "$DIR")"; then
    rmdir "$DIR" 2>/dev/null || true
    die "user $user cannot reach $(dirname "$DIR"); put DIR in a directory it may traverse (e.g. directly in /tmp)"
  fi
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$password" >"$DIR/pwfile"
  if [ "$(id -u)" = 0 ]; then chown -R "$user" "$DIR"; fi
  as_user() { if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }

  # C collation: text orders by bytes, as in SQLite (ISO timestamps and names sort the same on both).
  if ! as_user "$BIN/initdb" -D "$DIR/data" -U rolegate --pwfile="$DIR/pwfile" -A scram-sha-256 \
    --locale=C -E UTF8 >"$DIR/initdb.log" 2>&1; then
    cat "$DIR/initdb.log" >&2
    die "initdb failed"
  fi
  rm -f "$DIR/pwfile"
  # Detached, its own session: it outlives this script and is stopped by `stop` only.
  as_user setsid "$BIN/postgres" -D "$DIR/data" -h 127.0.0.1 -p "$PORT" -k "$DIR" \
    -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    >"$DIR/postgres.log" 2>&1 </dev/null &
  local launcher=$! ready=
  for _ in $(seq 1 $((TIMEOUT * 10))); do
    # The postmaster writes its own pid (first line); the launcher's pid is a wrapper's.
    if [ -s "$DIR/data/postmaster.pid" ]; then head -n 1 "$DIR/data/postmaster.pid" >"$DIR/pid"; fi
    if as_user "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then ready=1; break; fi
    if ! kill -0 "$launcher" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$ready" ]; then
    tail -n 30 "$DIR/postgres.log" >&2 || true
    stop_recorded || true
    die "postgres did not become ready on 127.0.0.1:$PORT"
  fi
  PGPASSWORD=$password as_user "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U rolegate -d postgres \
    -c 'create database rolegate' >/dev/null
  (umask 077 && printf 'postgres://rolegate:%s@127.0.0.1:%s/rolegate\n' "$password" "$PORT" >"$DIR/url")
  log "PostgreSQL 15 ready on 127.0.0.1:$PORT (pid $(recorded_pid))"
}

case "$CMD" in
  start) start ;;
  stop)
    [ -d "$DIR" ] || exit 0
    stop_recorded || die "could not stop postgres (pid $(recorded_pid || echo ?)); $DIR kept"
    rm -rf -- "$DIR"
    ;;
  status) pid=$(recorded_pid) && ours "$pid" ;;
  *) usage ;;
esac
