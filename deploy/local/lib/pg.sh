# pg.sh - the "pg" part of the local stack: a throw-away PostgreSQL 15
# cluster on a free loopback port, with database "simpki" migrated.
# Needs common.sh and sp_export.
#
# SIMPKI_PG_FAST=1 turns off fsync & co: for tests only (data loss on a
# crash is fine there, not for deploy/local/run).

SP_PG_BIN=${SIMPKI_PG_BIN:-/usr/lib/postgresql/15/bin}

# Runs a PostgreSQL program as the cluster's owner: initdb and postgres
# refuse root. From / so the user need not reach our working directory.
_sp_pg_as_owner() {
	if sp_is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# Where the cluster lives: DIR/pg when the owner can reach it and the
# socket path stays short, else a private folder under /tmp recorded in
# DIR/pg/base so `down` removes it.
_sp_pg_base() {
	local dir=$1 base
	if sp_is_root; then
		if ! id postgres >/dev/null 2>&1; then
			sp_note "pg: running as root needs the 'postgres' user (Debian package postgresql)"
			return 1
		fi
		if runuser -u postgres -- test -x "$dir" && [ "${#dir}" -lt 70 ]; then
			base=$dir/pg
		else
			base=$(mktemp -d /tmp/simpki-pg.XXXXXX) || return 1
			printf '%s\n' "$base" >"$dir/pg/base"
		fi
		chown postgres:postgres "$base" || return 1
	elif [ "${#dir}" -lt 70 ]; then
		base=$dir/pg
	else
		base=$(mktemp -d /tmp/simpki-pg.XXXXXX) || return 1
		printf '%s\n' "$base" >"$dir/pg/base"
	fi
	printf '%s\n' "$base"
}

# sp_pg_up DIR
sp_pg_up() {
	local dir=$1 base data sock port attempt pid opts url ctl started=0
	if [ ! -x "$SP_PG_BIN/initdb" ]; then
		sp_note "pg: $SP_PG_BIN/initdb not found (Debian package postgresql, version 15)"
		return 1
	fi
	mkdir -p "$dir/pg" "$dir/logs"
	base=$(_sp_pg_base "$dir") || { sp_note "pg: cannot make a data folder"; return 1; }
	data=$base/data
	sock=$base/sock
	_sp_pg_as_owner mkdir -p "$sock" || return 1
	ln -sfn "$base/postgres.log" "$dir/logs/pg.log"

	sp_note "pg: initdb in $data"
	if ! _sp_pg_as_owner "$SP_PG_BIN/initdb" -D "$data" -U postgres -A trust \
		--encoding UTF8 --locale=C --no-sync >"$dir/logs/pg-initdb.log" 2>&1; then
		sp_note "pg: initdb failed"
		sp_log_tail "$dir/logs/pg-initdb.log"
		return 1
	fi

	opts="-c listen_addresses=127.0.0.1 -k '$sock'"
	if [ "${SIMPKI_PG_FAST:-0}" = 1 ]; then
		opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	fi
	# The port is free only when asked; another process may take it
	# before postgres binds, so try a few.
	for attempt in 1 2 3 4 5; do
		port=$("$SP_PY" "$SP_LIB_DIR/freeport.py" 127.0.0.1) || return 1
		if _sp_pg_as_owner "$SP_PG_BIN/pg_ctl" -D "$data" -l "$base/postgres.log" \
			-w -t 60 -o "-p $port $opts" start >>"$dir/logs/pg-ctl.log" 2>&1; then
			started=1
			break
		fi
		sp_note "pg: start on port $port failed (attempt $attempt)"
		# A postmaster that came up too late for -w must not linger.
		_sp_pg_as_owner "$SP_PG_BIN/pg_ctl" -D "$data" -m immediate stop \
			>>"$dir/logs/pg-ctl.log" 2>&1 || true
	done
	if [ "$started" -ne 1 ]; then
		sp_log_tail "$base/postgres.log"
		return 1
	fi
	pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null)
	if [ -z "$pid" ] || ! sp_proc_alive "$pid"; then
		sp_note "pg: no postmaster pid in $data/postmaster.pid"
		return 1
	fi
	# SIGINT is PostgreSQL's "fast" shutdown: does not wait for clients.
	sp_record_pid "$dir" pg "$pid" INT

	if ! psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres \
		-d postgres -c 'CREATE DATABASE simpki' >>"$dir/logs/pg-ctl.log" 2>&1; then
		sp_note "pg: CREATE DATABASE simpki failed"
		sp_log_tail "$dir/logs/pg-ctl.log"
		return 1
	fi
	url=postgresql://postgres@127.0.0.1:$port/simpki

	ctl=$(sp_build_dir)/tools/simpkictl/simpkictl
	if [ ! -x "$ctl" ]; then
		sp_note "pg: $ctl is not built (build the project first): cannot migrate"
		return 1
	fi
	sp_note "pg: migrating with $ctl db migrate"
	if ! SIMPKI_DB_URL=$url "$ctl" db migrate >"$dir/logs/pg-migrate.log" 2>&1; then
		sp_note "pg: simpkictl db migrate failed"
		sp_log_tail "$dir/logs/pg-migrate.log"
		return 1
	fi

	sp_export SIMPKI_DB_URL "$url"
	sp_export SIMPKI_PG_PORT "$port"
	sp_export SIMPKI_PG_DATA "$data"
	sp_note "pg: postgres pid $pid on 127.0.0.1:$port"
}

# sp_pg_cleanup DIR [keep]: after the postmaster is stopped, remove a data
# folder kept outside DIR (copying its log into DIR when keeping DIR).
sp_pg_cleanup() {
	local dir=$1 keep=${2:-} base
	[ -f "$dir/pg/base" ] || return 0
	base=$(head -n1 "$dir/pg/base")
	case $base in
	/tmp/simpki-pg.*) ;;
	*) sp_warn "pg: unexpected data folder '$base' recorded; leaving it"; return 0 ;;
	esac
	if [ -n "$keep" ] && [ -f "$base/postgres.log" ]; then
		rm -f "$dir/logs/pg.log"
		cp "$base/postgres.log" "$dir/logs/pg.log" 2>/dev/null || true
	fi
	rm -rf "$base"
	rm -f "$dir/pg/base"
}

# ---- faults (tests/chaos) ---------------------------------------------------
# sp_pg_restart DIR           PostgreSQL's fast shutdown, then a start with
#                             the same options; the new postmaster recorded
# sp_pg_kill DIR              SIGKILL to the postmaster (a crash: its backends
#                             notice and exit, the next start recovers)
# sp_pg_start DIR             after sp_pg_kill: start again, same options
# Each returns once the server takes connections again (or 1).

_sp_pg_data() {
	local dir=$1 base=$1/pg
	[ -f "$dir/pg/base" ] && base=$(head -n1 "$dir/pg/base")
	printf '%s\n' "$base/data"
}

sp_pg_restart() {
	local dir=$1 data pid
	data=$(_sp_pg_data "$dir")
	# restart reuses the options in postmaster.opts; -w waits for the start.
	_sp_pg_as_owner "$SP_PG_BIN/pg_ctl" -D "$data" -l "${data%/data}/postgres.log" \
		-m fast -w -t 60 restart >>"$dir/logs/pg-ctl.log" 2>&1 || return 1
	pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null)
	[ -n "$pid" ] && sp_proc_alive "$pid" || return 1
	sp_record_pid "$dir" pg "$pid" INT
}

sp_pg_kill() {
	local dir=$1 pid sig start
	read -r pid sig start <"$dir/pids/pg" || return 1
	sp_proc_alive "$pid" "$start" || return 1
	kill -s KILL "$pid"
	sp_wait_for 10 _sp_pg_gone "$pid" "$start"
}

_sp_pg_gone() { ! sp_proc_alive "$1" "$2"; }

sp_pg_start() {
	local dir=$1 data opts=() o pid i
	data=$(_sp_pg_data "$dir")
	# postmaster.opts: the program, then its arguments, each double-quoted.
	eval "opts=($(cat "$data/postmaster.opts"))" || return 1
	local args=""
	for ((i = 1; i < ${#opts[@]}; i++)); do
		o=${opts[$i]}
		if [ "$o" = -D ]; then
			i=$((i + 1))
			continue
		fi
		args+=" $(printf '%q' "$o")"
	done
	# The killed postmaster's backends hold its shared memory until they
	# notice and exit; until then a new postmaster refuses to start.
	for ((i = 0; i < 60; i++)); do
		if _sp_pg_as_owner "$SP_PG_BIN/pg_ctl" -D "$data" -l "${data%/data}/postgres.log" \
			-w -t 60 -o "$args" start >>"$dir/logs/pg-ctl.log" 2>&1; then
			pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null)
			[ -n "$pid" ] && sp_proc_alive "$pid" || return 1
			sp_record_pid "$dir" pg "$pid" INT
			return 0
		fi
		sleep 1
	done
	return 1
}
