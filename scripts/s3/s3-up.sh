#!/usr/bin/env bash
# s3-up.sh — bring up a throw-away, single-node Ceph cluster with a RADOS
# Gateway (S3 API) for a test suite.  Debian 12 (Ceph 16.2 "pacific"), root,
# no systemd: every daemon is started directly, with its pid file, logs,
# sockets and data under ONE state directory, so s3-down.sh can stop exactly
# what was started here and delete everything.
#
# Usage:  sudo ./s3-up.sh [STATE_DIR]
#
# Environment (all optional):
#   S3_STATE_DIR     state dir (default /tmp/s3-ceph; the 1st argument wins)
#   S3_PORT          S3 (radosgw/beast) port on 127.0.0.1      (default 7480)
#   S3_MON_PORT      ceph-mon msgr2 port on 127.0.0.1         (default 3300;
#                    the next free port is taken if it is busy)
#   S3_REGION        region written to the env file            (default us-east-1)
#   S3_ACCESS_KEY    access key of the S3 user                 (default TESTACCESSKEY0000001)
#   S3_SECRET_KEY    secret key of the S3 user                 (default testsecretkey/0000000000000000000000000)
#   S3_USER          radosgw user id                           (default testuser)
#   S3_OSD_BACKEND   bluestore (default): BlueStore on a sparse file in the state dir;
#                    memstore: all data in the OSD's RAM — starts ~5 s faster, but
#                    its RSS grows to ~2-3x the data stored and, without a mgr, its
#                    size cap is not enforced: avoid it for large uploads
#   S3_OSD_SIZE      bytes: bluestore file size (default 10 GiB, sparse: only
#                    what is written uses disk) / memstore cap (default 2 GiB)
#   S3_WITH_MGR      1 = also start a ceph-mgr (not needed by radosgw; default 0)
#   S3_NO_INSTALL    1 = never call apt-get (fail if a binary is missing)
#   S3_TIMEOUT       seconds to wait for each step                (default 120)
#
# Needs: s3-down.sh next to this script; bash, curl, coreutils.
#
# On success it prints, and writes to $STATE_DIR/env (shell-sourceable):
#   S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY (+ AWS_* aliases)
# and exits 0.  On failure it prints the tail of the relevant log, stops what
# it started and exits non-zero.
#
# Running it again while the cluster is up and answering is a no-op (it
# re-prints the env); a stale/broken state dir is torn down and rebuilt.

set -euo pipefail

STATE_DIR="${1:-${S3_STATE_DIR:-/tmp/s3-ceph}}"
S3_PORT="${S3_PORT:-7480}"
S3_MON_PORT="${S3_MON_PORT:-3300}"
S3_REGION="${S3_REGION:-us-east-1}"
S3_ACCESS_KEY="${S3_ACCESS_KEY:-TESTACCESSKEY0000001}"
S3_SECRET_KEY="${S3_SECRET_KEY:-testsecretkey/0000000000000000000000000}"
S3_USER="${S3_USER:-testuser}"
S3_OSD_BACKEND="${S3_OSD_BACKEND:-bluestore}"
S3_WITH_MGR="${S3_WITH_MGR:-0}"
S3_NO_INSTALL="${S3_NO_INSTALL:-0}"
S3_TIMEOUT="${S3_TIMEOUT:-120}"
case "$S3_OSD_BACKEND" in
  memstore)  S3_OSD_SIZE="${S3_OSD_SIZE:-$((2 * 1024 * 1024 * 1024))}" ;;
  bluestore) S3_OSD_SIZE="${S3_OSD_SIZE:-$((10 * 1024 * 1024 * 1024))}" ;;
  *) echo "s3-up: S3_OSD_BACKEND must be memstore or bluestore" >&2; exit 2 ;;
esac

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="$(mkdir -p "$STATE_DIR" && cd "$STATE_DIR" && pwd)"  # absolute path
CONF="$STATE_DIR/ceph.conf"
LOG="$STATE_DIR/log"
RUN="$STATE_DIR/run"
ENDPOINT="http://127.0.0.1:${S3_PORT}"
T0=$(date +%s)

log() { printf 's3-up [%3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() {
  log "ERROR: $*"
  for f in "$LOG"/*.log "$LOG"/*.out; do
    [ -s "$f" ] || continue
    echo "----- tail of $f -----" >&2; tail -n 15 "$f" >&2
  done
  # leave nothing half-started behind
  S3_KEEP_STATE=1 "$HERE/s3-down.sh" "$STATE_DIR" >&2 || true
  exit 1
}

[ "$(id -u)" = 0 ] || { echo "s3-up: must run as root" >&2; exit 1; }

# ---------------------------------------------------------------- 1. packages
# ceph-mon + ceph-osd + radosgw pull in ceph-common (ceph, ceph-authtool,
# monmaptool) and ceph-base; radosgw-admin ships in the radosgw package.
# ceph-mgr is only installed when asked for (it adds ~35 packages).
# (Measured on Debian 12: 64 packages / 61 MB, ~36 s; +ceph-mgr 35 pkgs, ~21 s.)
need_pkgs=()
command -v ceph-mon      >/dev/null || need_pkgs+=(ceph-mon)
command -v ceph-osd      >/dev/null || need_pkgs+=(ceph-osd)
command -v radosgw       >/dev/null || need_pkgs+=(radosgw)
command -v radosgw-admin >/dev/null || need_pkgs+=(radosgw)
command -v ceph          >/dev/null || need_pkgs+=(ceph-common)
command -v curl          >/dev/null || need_pkgs+=(curl)
if [ "$S3_WITH_MGR" = 1 ]; then command -v ceph-mgr >/dev/null || need_pkgs+=(ceph-mgr); fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  [ "$S3_NO_INSTALL" = 1 ] && { echo "s3-up: missing packages: ${need_pkgs[*]}" >&2; exit 1; }
  log "installing ${need_pkgs[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  APT_LOG="$(mktemp "${TMPDIR:-/tmp}/s3-up-apt.XXXXXX")"
  # wait for another apt/dpkg run (a parallel test run, unattended upgrades) instead of failing at once
  APT=(apt-get -y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
  # the package lists may be absent/stale on a fresh machine
  if ! "${APT[@]}" install "${need_pkgs[@]}" >"$APT_LOG" 2>&1; then
    apt-get -q -o DPkg::Lock::Timeout=300 update >>"$APT_LOG" 2>&1
    "${APT[@]}" install "${need_pkgs[@]}" >>"$APT_LOG" 2>&1 \
      || { tail -n 20 "$APT_LOG" >&2; echo "s3-up: apt-get install failed (log: $APT_LOG)" >&2; exit 1; }
  fi
  rm -f "$APT_LOG"
fi

# ------------------------------------------------- 2. already up? else reset
s3_answers() { curl -s -o /dev/null --max-time 3 "$ENDPOINT/"; }
if [ -f "$STATE_DIR/env" ] && [ -f "$RUN/client.rgw.s3.pid" ] \
   && kill -0 "$(cat "$RUN/client.rgw.s3.pid")" 2>/dev/null && s3_answers; then
  log "already running in $STATE_DIR"
  cat "$STATE_DIR/env"
  exit 0
fi
if [ -n "$(ls -A "$STATE_DIR" 2>/dev/null)" ]; then
  [ -e "$STATE_DIR/.s3-up-state" ] \
    || { echo "s3-up: $STATE_DIR is not empty and not ours (no .s3-up-state); refusing" >&2; exit 1; }
  log "stale state in $STATE_DIR: tearing it down first"
  "$HERE/s3-down.sh" "$STATE_DIR" >&2 || true
fi
mkdir -p "$STATE_DIR" "$LOG" "$RUN" "$STATE_DIR/mon" "$STATE_DIR/osd" "$STATE_DIR/rgw" "$STATE_DIR/mgr"
echo "state dir of s3-up.sh; s3-down.sh deletes it" >"$STATE_DIR/.s3-up-state"

# is a TCP port on 127.0.0.1 in use?  (bash /dev/tcp: no ss/netstat needed)
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy "$S3_PORT" && die "S3 port $S3_PORT is already in use (set S3_PORT)"
for _ in $(seq 1 50); do port_busy "$S3_MON_PORT" || break; S3_MON_PORT=$((S3_MON_PORT + 1)); done
port_busy "$S3_MON_PORT" && die "no free port for ceph-mon"

# ---------------------------------------------------------- 3. configuration
FSID="$(cat /proc/sys/kernel/random/uuid)"
if [ "$S3_OSD_BACKEND" = memstore ]; then
  OSD_STORE="osd_objectstore = memstore
memstore_device_bytes = $S3_OSD_SIZE"
else
  OSD_STORE="osd_objectstore = bluestore
bluestore_block_path = $STATE_DIR/osd/block
bluestore_block_create = true
bluestore_block_size = $S3_OSD_SIZE
bluestore_fsck_on_mount = false
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_umount = false
osd_memory_target = 1073741824"
fi

cat >"$CONF" <<EOF
# generated by s3-up.sh — throw-away single-node cluster, NOT for production
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$S3_MON_PORT
public_addr = 127.0.0.1
ms_bind_ipv6 = false
ms_bind_msgr1 = false
keyring = $STATE_DIR/keyring
run_dir = $RUN
admin_socket = $RUN/\$name.asok
pid_file = $RUN/\$name.pid
log_file = $LOG/\$name.log
mon_cluster_log_file = $LOG/cluster.log
log_to_stderr = false
err_to_stderr = true
# crash dumps stay in the state dir, not in /var/lib/ceph/crash
crash_dir = $STATE_DIR/crash
# one OSD only: one replica, no host-level failure domain
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
# radosgw creates ~7-8 pools; 8 PGs each keeps us far below mon_max_pg_per_osd
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
# quiet the health warnings that make no sense for a test cluster
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
auth_allow_insecure_global_id_reclaim = false
# the disk of a CI machine may be fairly full; do not stop the mon for that
mon_data_avail_crit = 1
mon_data_avail_warn = 2

[mon]
mon_data = $STATE_DIR/mon/\$id
# commit map changes after 0.1 s instead of 1 s: radosgw creates its ~7 pools
# one by one on first start, each one a new osdmap epoch (saves ~6 s)
paxos_propose_interval = 0.1
mon_allow_pool_delete = true

[osd]
osd_data = $STATE_DIR/osd/\$id
$OSD_STORE
osd_crush_update_on_start = true
# a file looks like a rotational disk -> 5 op shards, and bluestore opens and
# closes the block file once per shard at start (~0.3 s each): use 2
osd_op_num_shards = 2

[mgr]
mgr_data = $STATE_DIR/mgr/\$id

[client]
# ceph CLI / radosgw-admin log into the state dir too, not /var/log/ceph
log_file = $LOG/\$name.log

[client.rgw.s3]
rgw_frontends = beast endpoint=127.0.0.1:$S3_PORT
rgw_data = $STATE_DIR/rgw
rgw_thread_pool_size = 64
# deleted data is garbage-collected after 5 min instead of 2 h (disk/RAM)
rgw_gc_obj_min_wait = 300
rgw_gc_processor_period = 300
# no virtual-host addressing needed: path-style only (rgw_dns_name unset)
EOF
export CEPH_CONF="$CONF"   # every ceph tool below reads this
CEPH=(timeout 30 ceph --connect-timeout 20 -n client.admin)

# ---------------------------------------------------------------- 4. keys
# One keyring for all entities; ceph-mon --mkfs imports every key in it (with
# its caps) into the monitor's auth database, so nothing else needs `auth add`.
KR="$STATE_DIR/keyring"
ceph-authtool --create-keyring "$KR" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$KR" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool "$KR" --gen-key -n osd.0 \
  --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
ceph-authtool "$KR" --gen-key -n mgr.x \
  --cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool "$KR" --gen-key -n client.rgw.s3 \
  --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
chmod 600 "$KR"

# ----------------------------------------------------------------- 5. mon
log "creating mon (127.0.0.1:$S3_MON_PORT)"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$S3_MON_PORT]" \
  --enable-all-features --set-min-mon-release pacific "$STATE_DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE_DIR/monmap" --keyring "$KR" \
  >"$LOG/mon.a.out" 2>&1 || die "ceph-mon --mkfs failed"
# without -f the daemons fork into the background and write pid_file
ceph-mon -c "$CONF" -i a >>"$LOG/mon.a.out" 2>&1 || die "ceph-mon failed to start"
wait_for() {  # wait_for "what" cmd...   (polls every 0.5 s up to S3_TIMEOUT)
  local what=$1; shift; local end=$(( $(date +%s) + S3_TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out waiting for $what"
    sleep 0.5
  done
}
wait_for "ceph-mon quorum" "${CEPH[@]}" mon stat

# ----------------------------------------------------------------- 6. mgr
if [ "$S3_WITH_MGR" = 1 ]; then
  log "starting mgr"
  mkdir -p "$STATE_DIR/mgr/x"
  ceph-mgr -c "$CONF" -i x >"$LOG/mgr.x.out" 2>&1 || die "ceph-mgr failed to start"
fi

# ----------------------------------------------------------------- 7. osd
log "creating osd.0 ($S3_OSD_BACKEND, $((S3_OSD_SIZE / 1048576)) MiB)"
OSD_UUID="$(cat /proc/sys/kernel/random/uuid)"
OSD_ID="$("${CEPH[@]}" osd create "$OSD_UUID")" || die "ceph osd create failed"
[ "$OSD_ID" = 0 ] || die "expected osd id 0, got '$OSD_ID'"
mkdir -p "$STATE_DIR/osd/0"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$LOG/osd.0.out" 2>&1 || die "ceph-osd --mkfs failed"
ceph-osd -c "$CONF" -i 0 >>"$LOG/osd.0.out" 2>&1 || die "ceph-osd failed to start"
osd_up() { "${CEPH[@]}" osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
wait_for "osd.0 up" osd_up

# -------------------------------------------------------------- 8. radosgw
log "starting radosgw on $ENDPOINT"
radosgw -c "$CONF" -n client.rgw.s3 >"$LOG/client.rgw.s3.out" 2>&1 || die "radosgw failed to start"
# radosgw creates its pools (.rgw.root, default.rgw.*) on first start; it
# only listens once they exist and are active
wait_for "radosgw on port $S3_PORT" s3_answers

# -------------------------------------------------------------- 9. S3 user
log "creating S3 user $S3_USER"
radosgw-admin -n client.admin user create --uid="$S3_USER" --display-name="S3 test user" \
  --access-key="$S3_ACCESS_KEY" --secret="$S3_SECRET_KEY" \
  >"$LOG/user-create.out" 2>&1 || die "radosgw-admin user create failed"

# an authenticated request must work (ListBuckets with SigV4).  NB: curl
# 7.88's --aws-sigv4 does not send x-amz-content-sha256 by itself, and
# radosgw then answers 403 SignatureDoesNotMatch: the header must be given.
s3_auth_ok() {
  curl -sf -o /dev/null --max-time 5 --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    --aws-sigv4 "aws:amz:$S3_REGION:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "$ENDPOINT/"
}
wait_for "an authenticated ListBuckets" s3_auth_ok

cat >"$STATE_DIR/env" <<EOF
S3_ENDPOINT=$ENDPOINT
S3_REGION=$S3_REGION
S3_ACCESS_KEY=$S3_ACCESS_KEY
S3_SECRET_KEY=$S3_SECRET_KEY
S3_FORCE_PATH_STYLE=true
AWS_ENDPOINT_URL=$ENDPOINT
AWS_REGION=$S3_REGION
AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
CEPH_CONF=$CONF
EOF
log "S3 ready at $ENDPOINT (state: $STATE_DIR)"
cat "$STATE_DIR/env"
