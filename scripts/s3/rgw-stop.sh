#!/usr/bin/env bash
# rgw-stop.sh — stop only the RADOS Gateway of a cluster started by s3-up.sh, keeping the cluster (mon, osd) and
# its data, so that rgw-start.sh can bring the same S3 endpoint back with every object and multipart upload intact.
# For tests of an upload interrupted by the object store going away.
#
# Usage:  sudo ./rgw-stop.sh [STATE_DIR]     (default: $S3_STATE_DIR or /tmp/s3-ceph)
#   RGW_SIGNAL=KILL   kill it at once (a crash) instead of SIGTERM (a clean stop); default TERM
#
# Only the radosgw named in the state dir's pid file, whose command line is the one s3-up.sh ran, is signalled.
# Exit 0 once it is gone (or when it was not running), 1 when it did not stop within 20 s.
set -uo pipefail

STATE_DIR="${1:-${S3_STATE_DIR:-/tmp/s3-ceph}}"
[ -d "$STATE_DIR" ] || { echo "rgw-stop: no state dir $STATE_DIR" >&2; exit 1; }
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
CONF="$STATE_DIR/ceph.conf"
PIDFILE="$STATE_DIR/run/client.rgw.s3.pid"
SIG="${RGW_SIGNAL:-TERM}"

# the pid is ours only if its command line is exactly what s3-up.sh / rgw-start.sh ran
ours() {
  local cmd
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" || return 1
  [[ "$cmd" == "radosgw -c $CONF -n client.rgw.s3 "* ]]
}
# a zombie (its parent is PID 1 and has not reaped it yet) counts as stopped
running() {
  local st
  st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

pid="$(cat "$PIDFILE" 2>/dev/null || true)"
if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! ours "$pid" || ! running "$pid"; then
  echo "rgw-stop: radosgw of $STATE_DIR is not running" >&2
  exit 0
fi
kill "-$SIG" "$pid" 2>/dev/null
for _ in $(seq 1 80); do running "$pid" || { echo "rgw-stop: radosgw $pid stopped ($SIG)" >&2; exit 0; }; sleep 0.25; done
echo "rgw-stop: radosgw $pid did not stop within 20 s; killing it" >&2
kill -KILL "$pid" 2>/dev/null
for _ in $(seq 1 20); do running "$pid" || exit 0; sleep 0.25; done
echo "rgw-stop: radosgw $pid is still running" >&2
exit 1
