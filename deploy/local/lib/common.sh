# common.sh - helpers shared by deploy/local/stack, deploy/local/run and the
# test harness. Sourced; defines functions only. All messages go to stderr:
# stdout of `stack up` is reserved for `export` lines.

SP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SP_REPO_DIR=$(cd "$SP_LIB_DIR/../../.." && pwd)
SP_PY=/usr/bin/python3

sp_note() { printf '%s: %s\n' "${SP_PROG:-simpki}" "$*" >&2; }
sp_warn() { printf '%s: warning: %s\n' "${SP_PROG:-simpki}" "$*" >&2; }

# Build folder holding devbroker, simpkictl and the services.
sp_build_dir() { printf '%s\n' "${SIMPKI_BUILD_DIR:-$SP_REPO_DIR/build}"; }

sp_is_root() { [ "$(id -u)" -eq 0 ]; }

# Process start time (clock ticks since boot): with the pid it names one
# process for good, so a recycled pid is never signalled by mistake.
sp_proc_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "${20}"
}

sp_proc_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	printf '%s\n' "${stat%% *}"
}

# Alive = exists, not a zombie, and (when given) the same start time.
sp_proc_alive() {
	local pid=$1 start=${2:-} st
	st=$(sp_proc_state "$pid") || return 1
	[ "$st" != Z ] || return 1
	[ -z "$start" ] || [ "$(sp_proc_starttime "$pid")" = "$start" ]
}

# sp_record_pid DIR NAME PID SIGNAL: DIR/pids/NAME holds "PID SIGNAL START".
sp_record_pid() {
	local dir=$1 name=$2 pid=$3 sig=$4 start
	start=$(sp_proc_starttime "$pid") || start=0
	mkdir -p "$dir/pids"
	printf '%s %s %s\n' "$pid" "$sig" "$start" >"$dir/pids/$name"
}

# sp_stop_pid PID SIGNAL START NAME: polite signal, then SIGKILL after
# SIMPKI_STOP_TIMEOUT seconds (default 15).
sp_stop_pid() {
	local pid=$1 sig=$2 start=$3 name=$4 i limit
	limit=$(( ${SIMPKI_STOP_TIMEOUT:-15} * 10 ))
	sp_proc_alive "$pid" "$start" || return 0
	kill -s "$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < limit; i++)); do
		sp_proc_alive "$pid" "$start" || return 0
		sleep 0.1
	done
	sp_warn "$name (pid $pid) ignored SIG$sig for ${SIMPKI_STOP_TIMEOUT:-15}s: killing it"
	kill -s KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		sp_proc_alive "$pid" "$start" || return 0
		sleep 0.1
	done
	sp_warn "$name (pid $pid) is still there after SIGKILL"
	return 1
}

# Stops every process recorded in DIR/pids: first what runs on the stack
# (services, the run's own helpers), so they can finish their work and
# commit while PostgreSQL and the broker are still there; then the parts,
# the newest first.
sp_stop_recorded() {
	local dir=$1 f pid sig start rc=0 name parts=" smtp kannel_smsbox kannel_bearerbox kannel_fakesmsc hlr pg kafka "
	[ -d "$dir/pids" ] || return 0
	for f in "$dir"/pids/*; do
		[ -f "$f" ] || continue
		name=${f##*/}
		case $parts in *" $name "*) continue ;; esac
		_sp_stop_recorded_one "$f" "$name" || rc=1
	done
	for name in $parts; do
		_sp_stop_recorded_one "$dir/pids/$name" "$name" || rc=1
	done
	# Anything left (a part this list does not know yet).
	for f in "$dir"/pids/*; do
		[ -f "$f" ] || continue
		_sp_stop_recorded_one "$f" "${f##*/}" || rc=1
	done
	return $rc
}

_sp_stop_recorded_one() {
	local f=$1 name=$2 pid sig start rc=0
	[ -f "$f" ] || return 0
	if read -r pid sig start <"$f" && sp_proc_alive "$pid" "$start"; then
		sp_note "stopping $name (pid $pid)"
		sp_stop_pid "$pid" "$sig" "$start" "$name" || rc=1
	fi
	rm -f "$f"
	return $rc
}

# Any recorded process still alive?
sp_any_recorded_alive() {
	local dir=$1 f pid sig start
	for f in "$dir"/pids/*; do
		[ -f "$f" ] || continue
		read -r pid sig start <"$f" || continue
		sp_proc_alive "$pid" "$start" && return 0
	done
	return 1
}

# sp_wait_for SECONDS CMD...: retries CMD every 0.1s until it succeeds.
sp_wait_for() {
	local limit=$(( $1 * 10 )) i
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Last lines of a log, indented, for a failure message.
sp_log_tail() {
	[ -f "$1" ] || return 0
	sp_note "last lines of $1:"
	tail -n "${2:-15}" "$1" | sed 's/^/    /' >&2
}

# Absolute form of a path (need not exist).
sp_abs_path() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

# sp_start_recorded DIR NAME CMD...: starts CMD in its own session with its
# output in DIR/logs/NAME.log, recorded in DIR/pids/NAME so that
# `deploy/local/stack down DIR` stops it (SIGTERM). Prints the pid.
sp_start_recorded() {
	local dir=$1 name=$2 pid
	shift 2
	mkdir -p "$dir/logs"
	setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
	pid=$!
	sp_record_pid "$dir" "$name" "$pid" TERM
	printf '%s\n' "$pid"
}
