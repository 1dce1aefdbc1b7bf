# hlr.sh - the "hlr" part of the local stack: OsmoHLR 1.5 with its own
# SQLite file. Needs common.sh and sp_export.
#
# OsmoHLR's CTRL (4259) and GSUP (4222) ports are fixed; only the address
# can be chosen. So each stack gets its own loopback address 127.0.0.X and
# binds CTRL, GSUP and VTY (4258) there.

SP_HLR_CTRL_PORT=4259
SP_HLR_GSUP_PORT=4222
SP_HLR_VTY_PORT=4258

_sp_hlr_write_cfg() {
	local cfg=$1 addr=$2
	cat >"$cfg" <<CFG
! Written by deploy/local/stack for this stack only.
log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging timestamp 1
 logging level main notice
line vty
 bind $addr $SP_HLR_VTY_PORT
ctrl
 bind $addr
hlr
 gsup
  bind ip $addr
CFG
}

# Ready = alive, CTRL answers a real GET, and the CTRL listener is ours (a
# racing stack on the same address must not pass for us).
_sp_hlr_ready() {
	local addr=$1 pid=$2 rc
	sp_proc_alive "$pid" || return 2
	"$SP_PY" "$SP_LIB_DIR/hlr_ctrl.py" --timeout 2 "$addr" "$SP_HLR_CTRL_PORT" \
		"GET 1 subscriber.by-imsi-001010000000001.info" >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || return 1
	# Without ss we cannot tell; the CTRL answer has to do.
	command -v ss >/dev/null 2>&1 || return 0
	ss -Hltnp "src $addr:$SP_HLR_CTRL_PORT" 2>/dev/null | grep -q "pid=$pid,"
}

_sp_hlr_wait() {
	local addr=$1 pid=$2 i rc
	for ((i = 0; i < 100; i++)); do
		_sp_hlr_ready "$addr" "$pid"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 2 ] && return 1
		sleep 0.1
	done
	return 1
}

# sp_hlr_up DIR
sp_hlr_up() {
	local dir=$1 bin x n attempt addr pid cfg lock ok=0 tried=0
	bin=$(command -v osmo-hlr) || {
		sp_note "hlr: osmo-hlr not found (Debian package osmo-hlr)"
		return 1
	}
	mkdir -p "$dir/hlr" "$dir/logs"
	cfg=$dir/hlr/osmo-hlr.cfg
	# Stacks of one user starting at the same moment take turns here; the
	# ownership check in _sp_hlr_ready covers everyone else.
	lock=/tmp/simpki-hlr-$(id -u).lock
	exec 8>>"$lock" || return 1
	if ! flock -w 120 8; then
		sp_note "hlr: timed out waiting for $lock"
		exec 8>&-
		return 1
	fi
	x=$((2 + RANDOM % 253))
	for ((n = 0; n < 253 && tried < 6; n++, x = (x - 1) % 253 + 2)); do
		addr=127.0.0.$x
		"$SP_PY" "$SP_LIB_DIR/freeport.py" --check "$addr" "$SP_HLR_CTRL_PORT" \
			"$SP_HLR_GSUP_PORT" "$SP_HLR_VTY_PORT" 2>/dev/null || continue
		tried=$((tried + 1))
		attempt=$tried
		_sp_hlr_write_cfg "$cfg" "$addr"
		rm -f "$dir/hlr/hlr.db"
		setsid "$bin" -c "$cfg" -l "$dir/hlr/hlr.db" -s \
			>"$dir/logs/hlr.log" 2>&1 </dev/null 8>&- &
		pid=$!
		sp_record_pid "$dir" hlr "$pid" TERM
		if _sp_hlr_wait "$addr" "$pid"; then
			ok=1
			break
		fi
		sp_note "hlr: osmo-hlr on $addr did not come up (attempt $attempt)"
		sp_log_tail "$dir/logs/hlr.log" 5
		sp_stop_pid "$pid" TERM "" hlr || true
		wait "$pid" 2>/dev/null || true
		rm -f "$dir/pids/hlr"
	done
	exec 8>&-
	if [ "$ok" -ne 1 ]; then
		if [ "$tried" -eq 0 ]; then
			sp_note "hlr: ports $SP_HLR_CTRL_PORT/$SP_HLR_GSUP_PORT/$SP_HLR_VTY_PORT busy on every 127.0.0.X (an osmo-hlr bound to 0.0.0.0?)"
		fi
		return 1
	fi
	sp_export SIMPKI_HLR_CTRL "$addr:$SP_HLR_CTRL_PORT"
	sp_export SIMPKI_HLR_VTY "$addr:$SP_HLR_VTY_PORT"
	sp_export SIMPKI_HLR_DB "$dir/hlr/hlr.db"
	sp_note "hlr: osmo-hlr pid $pid, CTRL at $addr:$SP_HLR_CTRL_PORT"
}

# ---- faults (tests/chaos) ---------------------------------------------------
# sp_hlr_crash DIR DOWN_S: SIGKILL to OsmoHLR, DOWN_S seconds away, then a
# start again on the same address with the same SQLite file (what it had
# committed stays). Holds the address lock meanwhile, so another stack
# starting now does not take the address. 0 once CTRL answers again.
sp_hlr_crash() {
	local dir=$1 down=$2 pid sig start addr bin lock rc=0
	bin=$(command -v osmo-hlr) || return 1
	read -r pid sig start <"$dir/pids/hlr" || return 1
	addr=$(sed -n 's/^ *bind ip //p' "$dir/hlr/osmo-hlr.cfg")
	[ -n "$addr" ] || return 1
	lock=/tmp/simpki-hlr-$(id -u).lock
	exec 8>>"$lock" || return 1
	flock -w 120 8 || { exec 8>&-; return 1; }
	if sp_proc_alive "$pid" "$start"; then
		kill -s KILL "$pid"
		sp_wait_for 10 _sp_hlr_gone "$pid" "$start" || rc=1
	fi
	sleep "$down"
	if [ "$rc" -eq 0 ]; then
		setsid "$bin" -c "$dir/hlr/osmo-hlr.cfg" -l "$dir/hlr/hlr.db" -s \
			>>"$dir/logs/hlr.log" 2>&1 </dev/null 8>&- &
		pid=$!
		sp_record_pid "$dir" hlr "$pid" TERM
		_sp_hlr_wait "$addr" "$pid" || rc=1
	fi
	exec 8>&-
	return $rc
}

_sp_hlr_gone() { ! sp_proc_alive "$1" "$2"; }
