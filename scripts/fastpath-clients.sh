#!/usr/bin/env bash
# fastpath-clients.sh: makes sure the real clients the fast-path integration tests drive are present
# (an AWS CLI and a Python 3 with boto3), installing Debian's awscli / python3-boto3 when missing, and
# prints which to use, one per line:
#   AWS=/path/to/aws
#   PYTHON=/path/to/python3
# Clients already on PATH win (e.g. a pip aws-cli); apt-get runs only when one is missing.
# Environment: S3STS_SKIP_APT=1 never calls apt-get (fails, naming what is missing).
set -euo pipefail

PROG=fastpath-clients.sh
die() { echo "$PROG: ERROR: $*" >&2; exit 1; }

find_aws() { command -v aws 2>/dev/null || { [ -x /usr/bin/aws ] && echo /usr/bin/aws; } || true; }
find_python() {
  local p
  for p in "$(command -v python3 2>/dev/null || true)" /usr/bin/python3; do
    [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import boto3' >/dev/null 2>&1 && { echo "$p"; return; }
  done
  true
}

aws_bin=$(find_aws)
py_bin=$(find_python)
need=()
[ -n "$aws_bin" ] || need+=(awscli)
[ -n "$py_bin" ] || need+=(python3-boto3)

if [ ${#need[@]} -gt 0 ]; then
  [ "${S3STS_SKIP_APT:-}" = 1 ] && die "missing packages: ${need[*]} (S3STS_SKIP_APT=1)"
  [ "$(id -u)" = 0 ] || die "missing packages: ${need[*]}; not root, so run: sudo apt-get install --no-install-recommends ${need[*]}"
  command -v apt-get >/dev/null 2>&1 || die "missing packages: ${need[*]}, and no apt-get (Debian/Ubuntu only)"
  aptlog=$(mktemp)
  trap 'rm -f "$aptlog"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${need[@]}" >"$aptlog" 2>&1; then
    apt-get -o DPkg::Lock::Timeout=300 update -q >"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed"; }
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${need[@]}" >"$aptlog" 2>&1 ||
      { tail -20 "$aptlog" >&2; die "apt-get install ${need[*]} failed"; }
  fi
  aws_bin=$(find_aws)
  py_bin=$(find_python)
  [ -n "$aws_bin" ] || die "no aws CLI after installing awscli"
  [ -n "$py_bin" ] || die "no python3 with boto3 after installing python3-boto3"
fi
echo "AWS=$aws_bin"
echo "PYTHON=$py_bin"
