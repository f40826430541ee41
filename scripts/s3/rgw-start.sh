#!/usr/bin/env bash
# rgw-start.sh — start again the RADOS Gateway that rgw-stop.sh stopped, on the same port with the same data
# (the cluster started by s3-up.sh keeps running meanwhile). Waits until the endpoint answers.
#
# Usage:  sudo ./rgw-start.sh [STATE_DIR]    (default: $S3_STATE_DIR or /tmp/s3-ceph)
#   S3_TIMEOUT   seconds to wait for the endpoint (default 60)
# Exit 0 once the endpoint answers (also when it was already running), 1 otherwise (with the log's tail).
set -uo pipefail

STATE_DIR="${1:-${S3_STATE_DIR:-/tmp/s3-ceph}}"
[ -f "$STATE_DIR/env" ] || { echo "rgw-start: $STATE_DIR holds no cluster started by s3-up.sh (no env file)" >&2; exit 1; }
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
CONF="$STATE_DIR/ceph.conf"
ENDPOINT="$(sed -n 's/^S3_ENDPOINT=//p' "$STATE_DIR/env")"
LOG="$STATE_DIR/log/client.rgw.s3.out"
answers() { curl -s -o /dev/null --max-time 3 "$ENDPOINT/"; }

if answers; then echo "rgw-start: $ENDPOINT already answers" >&2; exit 0; fi
# without -f radosgw forks into the background and writes its pid file (as in s3-up.sh)
radosgw -c "$CONF" -n client.rgw.s3 >>"$LOG" 2>&1 || { echo "rgw-start: radosgw failed to start" >&2; tail -n 15 "$LOG" >&2; exit 1; }
end=$(( $(date +%s) + ${S3_TIMEOUT:-60} ))
until answers; do
  if [ "$(date +%s)" -ge "$end" ]; then
    echo "rgw-start: $ENDPOINT did not answer within ${S3_TIMEOUT:-60} s" >&2; tail -n 15 "$LOG" >&2; exit 1
  fi
  sleep 0.25
done
echo "rgw-start: $ENDPOINT answers again" >&2
