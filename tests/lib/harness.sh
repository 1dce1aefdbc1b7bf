# tests/lib/harness.sh - sourced by tests/integration/test_*.sh.
#
#   . "$(dirname "$0")/../lib/harness.sh"
#   sp_stack_up                  # or: sp_stack_up --without hlr
#   sp_psql 'SELECT 1'
#
# sp_stack_up starts a real local stack (deploy/local/stack) in a fresh temp
# folder, evals its exports, and tears it down when the script exits
# (EXIT/INT/TERM; SIMPKI_KEEP_STACK=1 keeps the folder and its logs). Do not
# set your own EXIT trap: register cleanups with sp_on_exit instead.
# Everything is on free ports and private folders, so tests run side by side.

SP_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SIMPKI_SOURCE_DIR:=$(cd "$SP_HARNESS_DIR/../.." && pwd)}"
: "${SIMPKI_BUILD_DIR:=$SIMPKI_SOURCE_DIR/build}"
export SIMPKI_SOURCE_DIR SIMPKI_BUILD_DIR
# Throw-away clusters: durability does not matter, speed does.
export SIMPKI_PG_FAST=1

SP_PROG=${SP_PROG:-$(basename "$0" .sh)}
# shellcheck source=../../deploy/local/lib/common.sh
. "$SIMPKI_SOURCE_DIR/deploy/local/lib/common.sh"
. "$SIMPKI_SOURCE_DIR/deploy/local/lib/broker.sh"

SP_STACK=$SIMPKI_SOURCE_DIR/deploy/local/stack
SP_HLR_CTRL_PY=$SIMPKI_SOURCE_DIR/deploy/local/lib/hlr_ctrl.py
SP_TEST_STACKS=()   # folders to take down at exit
SP_TEST_WATCHERS=() # their watchdog pids
SP_ON_EXIT=()       # commands registered with sp_on_exit

sp_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

sp_step() { printf '== %s\n' "$*" >&2; }

# sp_assert_eq ACTUAL EXPECTED MSG
sp_assert_eq() {
	[ "$1" = "$2" ] || sp_fail "${3:-values differ}: got '$1', expected '$2'"
}

sp_psql() {
	[ -n "${SIMPKI_DB_URL:-}" ] || sp_fail "sp_psql: SIMPKI_DB_URL is not set (stack without pg?)"
	psql -X -A -t -q -v ON_ERROR_STOP=1 "$SIMPKI_DB_URL" -c "$1"
}

# sp_hlr_ctrl "GET 1 var": one CTRL command to this stack's OsmoHLR.
sp_hlr_ctrl() {
	[ -n "${SIMPKI_HLR_CTRL:-}" ] || sp_fail "sp_hlr_ctrl: SIMPKI_HLR_CTRL is not set"
	"$SP_PY" "$SP_HLR_CTRL_PY" "${SIMPKI_HLR_CTRL%:*}" "${SIMPKI_HLR_CTRL##*:}" "$1"
}

# sp_bin NAME: path of a built program (tools/, tests/, bench/, services/).
sp_bin() {
	local d f
	for d in tools tests bench services; do
		[ -d "$SIMPKI_BUILD_DIR/$d" ] || continue
		f=$(find "$SIMPKI_BUILD_DIR/$d" -maxdepth 4 -type f -name "$1" -perm -u+x \
			-not -path '*/CMakeFiles/*' 2>/dev/null | head -n1)
		if [ -n "$f" ]; then
			printf '%s\n' "$f"
			return 0
		fi
	done
	printf 'sp_bin: %s not built under %s\n' "$1" "$SIMPKI_BUILD_DIR" >&2
	return 1
}

sp_on_exit() { SP_ON_EXIT+=("$*"); }

_sp_harness_exit() {
	local rc=$? i dir keep=
	trap - EXIT INT TERM
	for ((i = ${#SP_ON_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${SP_ON_EXIT[$i]}" || true
	done
	for i in "${SP_TEST_WATCHERS[@]}"; do
		kill "$i" 2>/dev/null || true
	done
	[ "${SIMPKI_KEEP_STACK:-0}" = 1 ] && keep=--keep
	for dir in "${SP_TEST_STACKS[@]}"; do
		[ -e "$dir" ] || continue
		"$SP_STACK" down "$dir" $keep || rc=1
	done
	exit "$rc"
}

_sp_harness_traps() {
	trap _sp_harness_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Takes the stack down if this shell dies without running its traps
# (SIGKILL from a test runner's timeout), so nothing is left behind.
_sp_watchdog() {
	local dir=$1 keep=
	[ "${SIMPKI_KEEP_STACK:-0}" = 1 ] && keep=--keep
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done
		[ -e "$2" ] && exec "$3" down "$2" $4' _ "$$" "$dir" "$SP_STACK" "$keep" \
		>/dev/null 2>&1 </dev/null &
	SP_TEST_WATCHERS+=("$!")
}

# sp_stack_new VAR [--without ...]: starts a stack in a fresh folder and
# stores its export lines in VAR (not evaluated), for tests that need more
# than one stack. Torn down at exit like sp_stack_up's.
sp_stack_new() {
	local var=$1 dir out
	shift
	dir=$(mktemp -d "${TMPDIR:-/tmp}/simpki-test.XXXXXX") || sp_fail "mktemp failed"
	# Readable by the postgres user, so the cluster can live inside it.
	chmod 755 "$dir"
	SP_TEST_STACKS+=("$dir")
	_sp_harness_traps
	_sp_watchdog "$dir"
	out=$("$SP_STACK" up "$dir" "$@") || sp_fail "deploy/local/stack up $dir $* failed"
	printf -v "$var" '%s' "$out"
}

# sp_stack_up [--without PART,...]: starts a stack and exports its variables.
sp_stack_up() {
	local env
	sp_stack_new env "$@"
	eval "$env"
}
