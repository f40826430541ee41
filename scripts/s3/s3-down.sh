#!/usr/bin/env bash
# s3-down.sh — stop the throw-away Ceph/radosgw cluster started by s3-up.sh
# and delete its state directory.
#
# Usage:  sudo ./s3-down.sh [STATE_DIR]      (default: $S3_STATE_DIR or /tmp/s3-ceph)
#   S3_KEEP_STATE=1   stop the daemons but keep the state dir (logs) for a post-mortem
#
# Only processes started by s3-up.sh for THIS state dir are stopped: the ones
# named in its pid files and, as a fallback (a daemon that died before writing
# its pid file, a pid file already removed), the ceph daemons whose command
# line is "<daemon> -c <STATE_DIR>/ceph.conf ...".  Nothing is killed by name.
# Safe to run when nothing is running or the dir does not exist (exit 0).

set -uo pipefail

STATE_DIR="${1:-${S3_STATE_DIR:-/tmp/s3-ceph}}"
[ -d "$STATE_DIR" ] || exit 0
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
CONF="$STATE_DIR/ceph.conf"
RUN="$STATE_DIR/run"

# pid -> is it one of our daemons?  Its command line must be exactly what
# s3-up.sh ran: "<ceph-mon|ceph-osd|ceph-mgr|radosgw> -c <STATE_DIR>/ceph.conf ..."
# (guards against a recycled pid and against other clusters on the machine)
ours() {
  local cmd prog
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" || return 1
  prog="${cmd%% *}"; prog="${prog##*/}"
  case "$prog" in ceph-mon|ceph-osd|ceph-mgr|radosgw) ;; *) return 1 ;; esac
  [[ "${cmd#* }" == "-c $CONF "* ]]
}

pids=()
# stop order: gateway first, then osd, mgr, mon last
for name in client.rgw.s3 osd.0 mgr.x mon.a; do
  f="$RUN/$name.pid"
  [ -f "$f" ] || continue
  p="$(cat "$f" 2>/dev/null)"
  [[ "$p" =~ ^[0-9]+$ ]] && ours "$p" && pids+=("$p")
done
# fallback scan of /proc for our own command line
for d in /proc/[0-9]*; do
  p="${d#/proc/}"
  ours "$p" && [[ " ${pids[*]-} " != *" $p "* ]] && pids+=("$p")
done

# is any of them still running?  (a zombie waiting for its parent to reap it
# counts as gone: the daemons are double-forked, their parent is PID 1)
alive() {
  local p st
  for p in "${pids[@]}"; do
    st="$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" || continue
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] && return 0
  done
  return 1
}
if [ "${#pids[@]}" -gt 0 ]; then
  echo "s3-down: stopping pids ${pids[*]}" >&2
  if [ "${S3_KEEP_STATE:-0}" = 1 ]; then
    # keeping the state (post-mortem): graceful SIGTERM so logs are flushed,
    # SIGKILL after 10 s (a memstore OSD dumps its whole RAM content to disk
    # on a clean shutdown, which can take a while)
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 20); do alive || break; sleep 0.5; done
  fi
  # everything is thrown away anyway: no need for a clean shutdown
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # wait until they are gone, so the ports are free for the next s3-up.sh
  for _ in $(seq 1 40); do alive || break; sleep 0.25; done
fi

if [ "${S3_KEEP_STATE:-0}" != 1 ]; then
  # refuse to delete a directory that s3-up.sh did not create
  if [ ! -e "$STATE_DIR/.s3-up-state" ] && [ -n "$(ls -A "$STATE_DIR")" ]; then
    echo "s3-down: $STATE_DIR has no .s3-up-state marker; not deleting it" >&2
    exit 1
  fi
  rm -rf -- "$STATE_DIR"
  echo "s3-down: removed $STATE_DIR" >&2
fi
exit 0
