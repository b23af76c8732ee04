#!/usr/bin/env bash
# s3-backend.sh start|stop|status DIR [PORT]
#
# A throwaway local S3 + STS + IAM server for tests and the demo: a single-node Ceph
# cluster (1 mon, 1 memstore OSD, no mgr) plus radosgw with STS and the IAM role API,
# bound to 127.0.0.1 only. All state (config, stores, logs, sockets, pids) lives in DIR.
#
#   start DIR [PORT]  DIR must be empty or absent; PORT defaults to 7480. On success the
#                     daemons keep running detached, and DIR/env (shell) and DIR/env.json
#                     (same keys) hold endpoint and credentials, mode 0600. Secrets are
#                     never printed. On failure whatever was started is stopped again and
#                     the logs stay in DIR/log.
#   stop DIR          stops exactly the recorded daemons, then removes DIR.
#   status DIR        exit 0 when every recorded daemon is alive.
#
# Environment (optional):
#   S3STS_SKIP_APT=1      never call apt-get; fail if packages are missing
#   S3STS_REGION          region written to DIR/env (default us-east-1)
#   S3STS_MEMSTORE_BYTES  OSD memstore size (default 2 GiB; RAM-backed, grows with data)
#   S3STS_TIMEOUT         seconds to wait for each daemon (default 90)
set -euo pipefail

PROG=s3-backend.sh
die() { echo "$PROG: ERROR: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }
usage() { echo "usage: $0 start|stop|status DIR [PORT]" >&2; exit 2; }

[ $# -ge 2 ] || usage
CMD=$1
DIR_ARG=$2
shift 2

# Paths end up unquoted in ceph.conf, in single-quoted shell and in JSON strings; rather
# than escape for all three, accept only paths that need no escaping anywhere.
case "$DIR_ARG" in
  '' | *[!A-Za-z0-9._/+@:=,-]*) die "DIR '$DIR_ARG' must consist of [A-Za-z0-9._/+@:=,-] only" ;;
esac

# Is pid still a daemon we started for DIR? (a ceph binary whose command line names
# DIR/ceph.conf) This guards against pid reuse; zombies have no exe link and count as gone.
ours() {
  local pid=$1 exe
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  case "$exe" in */ceph-mon | */ceph-osd | */radosgw) ;; *) return 1 ;; esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/ceph.conf"
}

# Stop the daemons listed in DIR/pids in reverse start order (rgw, osd, mon): radosgw
# shuts down cleanly only while mon and osd still run. SIGKILL after 10 s each.
stop_recorded() {
  local rc=0 name pid
  [ -s "$DIR/pids" ] || return 0
  while read -r name pid; do
    [ -n "${pid:-}" ] || continue
    ours "$pid" || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do ours "$pid" || break; sleep 0.1; done
    if ours "$pid"; then
      log "$name (pid $pid) did not exit after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do ours "$pid" || break; sleep 0.1; done
      if ours "$pid"; then log "$name (pid $pid) still alive"; rc=1; fi
    fi
  done < <(tac "$DIR/pids")
  return $rc
}

cmd_status() {
  [ -d "$DIR_ARG" ] || die "$DIR_ARG does not exist"
  DIR=$(cd "$DIR_ARG" && pwd)
  [ -s "$DIR/pids" ] || { echo "not running (no $DIR/pids)"; exit 1; }
  local rc=0 name pid
  while read -r name pid; do
    if ours "$pid"; then echo "$name $pid running"; else echo "$name $pid not running"; rc=1; fi
  done <"$DIR/pids"
  exit $rc
}

cmd_stop() {
  if [ ! -d "$DIR_ARG" ]; then log "$DIR_ARG does not exist; nothing to stop"; exit 0; fi
  DIR=$(cd "$DIR_ARG" && pwd)
  # rm -rf on a caller-supplied path: only when it is recognisably one of ours (or empty).
  if [ ! -e "$DIR/ceph.conf" ] && [ ! -e "$DIR/pids" ] && [ -n "$(ls -A "$DIR")" ]; then
    die "$DIR has no ceph.conf or pids: not a backend directory, refusing to remove it"
  fi
  stop_recorded || die "some daemons survived SIGKILL; $DIR kept"
  rm -rf -- "$DIR"
}

install_missing_packages() {
  local need=() aptlog
  command -v ceph-mon >/dev/null 2>&1 || need+=(ceph-mon)
  command -v ceph-osd >/dev/null 2>&1 || need+=(ceph-osd)
  command -v radosgw >/dev/null 2>&1 || need+=(radosgw)
  command -v radosgw-admin >/dev/null 2>&1 || need+=(radosgw)
  command -v ceph >/dev/null 2>&1 || need+=(ceph-common)
  command -v ceph-authtool >/dev/null 2>&1 || need+=(ceph-common)
  command -v monmaptool >/dev/null 2>&1 || need+=(ceph-base)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v setsid >/dev/null 2>&1 || need+=(util-linux)
  [ ${#need[@]} -gt 0 ] || return 0
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  [ "${S3STS_SKIP_APT:-0}" = 1 ] && die "missing packages: ${need[*]} (S3STS_SKIP_APT=1)"
  [ "$(id -u)" = 0 ] || die "missing packages: ${need[*]}; not root, so run: sudo apt-get install --no-install-recommends ${need[*]}"
  command -v apt-get >/dev/null 2>&1 || die "missing packages: ${need[*]}, and no apt-get (Debian/Ubuntu only)"
  log "installing ${need[*]} with apt-get (one-off, ~30 s)"
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$(mktemp)
  # A fresh machine has empty package lists; refresh them only then, or when install
  # fails on stale lists, since 'apt-get update' is the slow, network-bound part.
  if ! apt-cache show radosgw >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=300 update -q >"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed"; }
  fi
  if ! apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${need[@]}" >"$aptlog" 2>&1; then
    apt-get -o DPkg::Lock::Timeout=300 update -q >"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed"; }
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${need[@]}" >"$aptlog" 2>&1 ||
      { tail -20 "$aptlog" >&2; die "apt-get install ${need[*]} failed"; }
  fi
  rm -f "$aptlog"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The mon needs a fixed port in its monmap. Pick below the kernel's ephemeral range so an
# outgoing connection cannot be holding it, and outside the OSD range 6800-7300.
pick_mon_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port found for ceph-mon"
}

rand() { tr -dc "$1" </dev/urandom | head -c "$2" || true; }

cmd_start() {
  local port=${1:-7480}
  case "$port" in '' | *[!0-9]*) die "PORT must be a number, got '$port'" ;; esac
  [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "PORT $port out of range"
  # Ceph OSDs bind in 6800-7300 by default; an RGW there would collide with them.
  if [ "$port" -ge 6800 ] && [ "$port" -le 7300 ]; then die "PORT $port is in Ceph's OSD range 6800-7300; pick another"; fi
  local region=${S3STS_REGION:-us-east-1}
  local memstore_bytes=${S3STS_MEMSTORE_BYTES:-2147483648}
  TIMEOUT=${S3STS_TIMEOUT:-90}

  install_missing_packages

  port_in_use "$port" && die "127.0.0.1:$port is already in use"
  umask 077
  mkdir -p "$DIR_ARG"
  DIR=$(cd "$DIR_ARG" && pwd)
  [ ! -e "$DIR/pids" ] || die "$DIR/pids exists: a backend may already run there (stop it first)"
  [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty; give a fresh directory"
  mkdir -p "$DIR"/{mon,osd0,rgw,log,run,tmp}
  : >"$DIR/pids"
  local conf=$DIR/ceph.conf mon_port
  mon_port=$(pick_mon_port)

  STARTED_OK=0
  trap on_start_exit EXIT
  # Turn a kill (e.g. a caller's timeout) into a normal exit, so the EXIT trap still stops the daemons.
  trap 'exit 143' TERM INT HUP

  local fsid sts_key master_ak master_sk admin_ak admin_sk
  fsid=$(cat /proc/sys/kernel/random/uuid)
  sts_key=$(rand 'a-f0-9' 16) # rgw_sts_key must be exactly 16 characters
  master_ak=MASTER$(rand 'A-Z0-9' 14)
  master_sk=$(rand 'A-Za-z0-9' 40)
  admin_ak=ADMIN$(rand 'A-Z0-9' 15)
  admin_sk=$(rand 'A-Za-z0-9' 40)

  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $DIR/keyring
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
log_file = $DIR/log/\$name.log
pid_file = $DIR/run/\$name.pid
tmp_dir = $DIR/tmp
crash_dir = $DIR/tmp
log_to_stderr = false
err_to_stderr = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_data_avail_crit = 1
mon_data_avail_warn = 2
ms_bind_ipv6 = false
# auth 'none' cannot provide msgr2 'secure' mode, which radosgw otherwise insists on
# towards the mon (endless "get_initial_auth_request returned -13").
ms_mon_client_mode = crc secure
ms_client_mode = crc secure

[mon]
mon_data = $DIR/mon
mon_initial_members = a
mon_allow_pool_delete = true
mon_cluster_log_file = $DIR/log/cluster.log
# radosgw creates 8 pools on first start; committing maps every 50 ms instead of 1 s
# cuts start-up from ~13 s to ~2.5 s.
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[osd]
osd_data = $DIR/osd0
osd_objectstore = memstore
memstore_device_bytes = $memstore_bytes
osd_memory_target = 939524096
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1

[client]
log_file = $DIR/log/\$name.log

[client.rgw.local]
# tcp_nodelay: without it small GETs take ~46 ms instead of ~4 ms (Nagle + delayed ACK).
rgw_frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
rgw_data = $DIR/rgw
rgw_thread_pool_size = 64
rgw_enable_apis = s3, s3website, admin, sts, iam
rgw_sts_key = $sts_key
rgw_s3_auth_use_sts = true
rgw_enable_ops_log = true
rgw_ops_log_rados = false
rgw_ops_log_file_path = $DIR/log/ops.log
rgw_dynamic_resharding = false
rgw_crypt_require_ssl = false
rgw_enable_usage_log = false
# A deleted object's tail is garbage-collected only after rgw_gc_obj_min_wait (2 h by default), and memstore keeps
# it in RAM until then: rewriting a large object filled the store and the next write hung. Reclaim within seconds.
rgw_gc_obj_min_wait = 5
rgw_gc_processor_period = 5
EOF

  local c=(-c "$conf") t0 t1
  t0=$(date +%s%3N)

  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >>"$DIR/log/mkfs.log" 2>&1 ||
    fail_with_log "monmaptool failed" "$DIR/log/mkfs.log"
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >>"$DIR/log/mkfs.log" 2>&1 ||
    fail_with_log "ceph-authtool failed" "$DIR/log/mkfs.log"
  ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >>"$DIR/log/mkfs.log" 2>&1 ||
    fail_with_log "ceph-authtool failed" "$DIR/log/mkfs.log"
  ceph-mon "${c[@]}" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" >>"$DIR/log/mkfs.log" 2>&1 ||
    fail_with_log "ceph-mon --mkfs failed" "$DIR/log/mkfs.log"
  spawn mon.a ceph-mon "${c[@]}" -i a
  wait_for ceph-mon "$SPAWNED" "$DIR/log/mon.a.log" timeout 10 ceph "${c[@]}" --connect-timeout 5 mon stat

  local osd_uuid osd_id
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(timeout 30 ceph "${c[@]}" osd new "$osd_uuid" 2>>"$DIR/log/mkfs.log") ||
    fail_with_log "ceph osd new failed" "$DIR/log/mkfs.log"
  [ "$osd_id" = 0 ] || die "unexpected osd id '$osd_id'"
  ceph-osd "${c[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/mkfs.log" 2>&1 ||
    fail_with_log "ceph-osd --mkfs failed" "$DIR/log/mkfs.log"
  spawn osd.0 ceph-osd "${c[@]}" -i 0
  osd_up() { timeout 10 ceph -c "$DIR/ceph.conf" osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
  wait_for ceph-osd "$SPAWNED" "$DIR/log/osd.0.log" osd_up

  spawn rgw radosgw "${c[@]}" -n client.rgw.local
  wait_for radosgw "$SPAWNED" "$DIR/log/client.rgw.local.log" curl -s -o /dev/null -m 5 "http://127.0.0.1:$port/"

  # Keys are passed on the command line (briefly visible in /proc to local users): acceptable
  # for a loopback-only throwaway cluster, and it keeps them out of any output we print.
  local rgwa=(radosgw-admin "${c[@]}" -n client.admin) alog=$DIR/log/admin.log
  "${rgwa[@]}" user create --uid=admin --display-name="bootstrap admin" \
    --access-key="$admin_ak" --secret-key="$admin_sk" >/dev/null 2>>"$alog" ||
    fail_with_log "radosgw-admin user create admin failed" "$alog"
  "${rgwa[@]}" caps add --uid=admin \
    --caps="users=*;buckets=*;metadata=*;usage=*;zone=*;roles=*;user-policy=*;oidc-provider=*" \
    >/dev/null 2>>"$alog" || fail_with_log "radosgw-admin caps add admin failed" "$alog"
  "${rgwa[@]}" user create --uid=master --display-name="credential broker" \
    --access-key="$master_ak" --secret-key="$master_sk" >/dev/null 2>>"$alog" ||
    fail_with_log "radosgw-admin user create master failed" "$alog"
  # The broker's master user may also manage roles through the IAM REST API.
  "${rgwa[@]}" caps add --uid=master --caps="roles=*" >/dev/null 2>>"$alog" ||
    fail_with_log "radosgw-admin caps add master failed" "$alog"
  t1=$(date +%s%3N)

  local endpoint=http://127.0.0.1:$port
  # Written to temporaries and renamed, so a reader never sees a half-written file.
  cat >"$DIR/env.tmp" <<EOF
export S3STS_DIR='$DIR'
export S3STS_ENDPOINT='$endpoint'
export S3STS_REGION='$region'
export S3STS_MASTER_USER='master'
export S3STS_MASTER_ARN='arn:aws:iam:::user/master'
export S3STS_MASTER_ACCESS_KEY_ID='$master_ak'
export S3STS_MASTER_SECRET_ACCESS_KEY='$master_sk'
export S3STS_ADMIN_USER='admin'
export S3STS_ADMIN_ACCESS_KEY_ID='$admin_ak'
export S3STS_ADMIN_SECRET_ACCESS_KEY='$admin_sk'
export S3STS_CEPH_CONF='$conf'
EOF
  cat >"$DIR/env.json.tmp" <<EOF
{
  "S3STS_DIR": "$DIR",
  "S3STS_ENDPOINT": "$endpoint",
  "S3STS_REGION": "$region",
  "S3STS_MASTER_USER": "master",
  "S3STS_MASTER_ARN": "arn:aws:iam:::user/master",
  "S3STS_MASTER_ACCESS_KEY_ID": "$master_ak",
  "S3STS_MASTER_SECRET_ACCESS_KEY": "$master_sk",
  "S3STS_ADMIN_USER": "admin",
  "S3STS_ADMIN_ACCESS_KEY_ID": "$admin_ak",
  "S3STS_ADMIN_SECRET_ACCESS_KEY": "$admin_sk",
  "S3STS_CEPH_CONF": "$conf"
}
EOF
  chmod 600 "$DIR/env.tmp" "$DIR/env.json.tmp"
  mv "$DIR/env.tmp" "$DIR/env"
  mv "$DIR/env.json.tmp" "$DIR/env.json"

  STARTED_OK=1
  trap - EXIT
  log "ready in $((t1 - t0)) ms: S3/STS/IAM at $endpoint (mon 127.0.0.1:$mon_port); env in $DIR/env and $DIR/env.json"
  echo "$DIR/env.json"
}

on_start_exit() {
  [ "${STARTED_OK:-0}" = 1 ] && return
  log "start failed; stopping what was started (logs kept in $DIR/log)"
  stop_recorded || true
  rm -f "$DIR/pids" "$DIR/env.tmp" "$DIR/env.json.tmp"
}

fail_with_log() { # fail_with_log MESSAGE LOGFILE...
  local msg=$1 file
  shift
  for file in "$@"; do
    [ -s "$file" ] || continue
    log "last lines of $file:"
    tail -n 15 "$file" >&2 || true
  done
  die "$msg; see $DIR/log/"
}

# Start a daemon in the foreground (-f) but detached: own session, stdio to a log file so a
# caller capturing our stdout does not wait for the daemon. setsid does not fork here (a
# background job of a non-interactive shell is not a process-group leader), so $! is the
# daemon's own pid.
SPAWNED=
SPAWNED_STDOUT=
spawn() {
  local name=$1
  shift
  setsid "$@" -f </dev/null >>"$DIR/log/$name.stdout" 2>&1 &
  SPAWNED=$!
  SPAWNED_STDOUT=$DIR/log/$name.stdout
  echo "$name $SPAWNED" >>"$DIR/pids"
}

wait_for() { # wait_for DESC PID LOGFILE CMD...
  local desc=$1 pid=$2 logfile=$3 t0=$SECONDS
  shift 3
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || fail_with_log "$desc exited early" "$logfile" "$SPAWNED_STDOUT"
    [ $((SECONDS - t0)) -lt "$TIMEOUT" ] || fail_with_log "$desc not ready after ${TIMEOUT}s" "$logfile" "$SPAWNED_STDOUT"
    sleep 0.2
  done
}

case "$CMD" in
  start) [ $# -le 1 ] || usage; cmd_start "$@" ;;
  stop) [ $# -eq 0 ] || usage; cmd_stop ;;
  status) [ $# -eq 0 ] || usage; cmd_status ;;
  *) usage ;;
esac
