#!/usr/bin/env bash
# s3-clients.sh: installs the real S3 clients the gateway integration tests drive, from Debian's own
# archive: awscli (/usr/bin/aws), python3-boto3 (/usr/bin/python3), rclone, s3cmd, s3fs (FUSE).
# Idempotent and quiet: does nothing when all are present; runs `apt-get update` only when the
# package lists do not know a package or an install fails on stale lists. Prints nothing on success.
#
# Environment: S3STS_SKIP_APT=1 never calls apt-get (fails, naming what is missing).
set -euo pipefail

PROG=s3-clients.sh
die() { echo "$PROG: ERROR: $*" >&2; exit 1; }

need=()
[ -x /usr/bin/aws ] || need+=(awscli)
/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || need+=(python3-boto3)
command -v rclone >/dev/null 2>&1 || need+=(rclone)
command -v s3cmd >/dev/null 2>&1 || need+=(s3cmd)
command -v s3fs >/dev/null 2>&1 || need+=(s3fs)
[ ${#need[@]} -eq 0 ] && exit 0

[ "${S3STS_SKIP_APT:-}" = 1 ] && die "missing packages: ${need[*]} (S3STS_SKIP_APT=1)"
[ "$(id -u)" = 0 ] || die "missing packages: ${need[*]}; not root, so run: sudo apt-get install --no-install-recommends ${need[*]}"
command -v apt-get >/dev/null 2>&1 || die "missing packages: ${need[*]}, and no apt-get (Debian/Ubuntu only)"

aptlog=$(mktemp)
trap 'rm -f "$aptlog"' EXIT
export DEBIAN_FRONTEND=noninteractive
update() { apt-get -o DPkg::Lock::Timeout=300 update -q >"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed"; }; }
for p in "${need[@]}"; do
  apt-cache show "$p" >/dev/null 2>&1 || { update; break; }
done
if ! apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${need[@]}" >"$aptlog" 2>&1; then
  update
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${need[@]}" >"$aptlog" 2>&1 ||
    { tail -20 "$aptlog" >&2; die "apt-get install ${need[*]} failed"; }
fi
