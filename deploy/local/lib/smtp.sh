# smtp.sh - the "smtp" part of the local stack: an SMTP sink (aiosmtpd with
# the handler smtp_sink.MailDir) on a free loopback port, keeping every
# message it accepts as DIR/smtp/mail/NNNN.eml. Needs common.sh; exports
# through sp_export (deploy/local/stack) on its first start.
#
# Fault tests (source this file after tests/lib/harness.sh):
#   sp_smtp_down "$SIMPKI_STACK_DIR"   # stop the sink: connections refused
#   sp_smtp_up "$SIMPKI_STACK_DIR"     # start it again, same port, same folder
# A recipient tempfail...@ gets a 451 and reject...@ a 550 (smtp_sink.py).

# Stops the process recorded as DIR/pids/NAME, if it runs, and forgets it.
_sp_smtp_stop_named() {
	local dir=$1 name=$2 pid sig start
	[ -f "$dir/pids/$name" ] || return 0
	read -r pid sig start <"$dir/pids/$name" || return 0
	sp_stop_pid "$pid" "$sig" "$start" "$name" || return 1
	rm -f "$dir/pids/$name"
}

# 0 when the process recorded as DIR/pids/NAME runs.
_sp_smtp_alive_named() {
	local pid sig start
	[ -f "$1/pids/$2" ] || return 1
	read -r pid sig start <"$1/pids/$2" || return 1
	sp_proc_alive "$pid" "$start"
}

# Ready = alive, says 220 on connect, and the listener is ours (a racing
# stack that took the port must not pass for us).
_sp_smtp_ready() {
	local port=$1 pid=$2 fd line
	sp_proc_alive "$pid" || return 2
	{ exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
	IFS= read -r -t 2 line <&"$fd" || line=
	printf 'QUIT\r\n' 1>&"$fd" 2>/dev/null
	exec {fd}>&-
	[[ $line == 220* ]] || return 1
	command -v ss >/dev/null 2>&1 || return 0
	ss -Hltnp "src 127.0.0.1:$port" 2>/dev/null | grep -q "pid=$pid,"
}

_sp_smtp_wait() {
	local port=$1 pid=$2 i rc
	for ((i = 0; i < 100; i++)); do
		_sp_smtp_ready "$port" "$pid"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 2 ] && return 1
		sleep 0.1
	done
	return 1
}

# sp_smtp_up DIR: first start on a free port, or a restart on the port
# recorded in DIR/smtp/port.
sp_smtp_up() {
	local dir=$1 port pid attempt tries=3 first=1
	"$SP_PY" -c 'import aiosmtpd' 2>/dev/null || {
		sp_note "smtp: aiosmtpd not found for $SP_PY (Debian package python3-aiosmtpd)"
		return 1
	}
	mkdir -p "$dir/smtp/mail" "$dir/logs" || return 1
	if [ -f "$dir/smtp/port" ]; then
		first=0
		port=$(cat "$dir/smtp/port")
		if _sp_smtp_alive_named "$dir" smtp; then
			sp_note "smtp: already running"
			return 0
		fi
	fi
	for ((attempt = 1; attempt <= tries; attempt++)); do
		if [ "$first" -eq 1 ]; then
			port=$("$SP_PY" "$SP_LIB_DIR/freeport.py") || return 1
		fi
		PYTHONPATH=$SP_LIB_DIR PYTHONDONTWRITEBYTECODE=1 setsid "$SP_PY" -m aiosmtpd -n -l "127.0.0.1:$port" \
			-c smtp_sink.MailDir "$dir/smtp/mail" >>"$dir/logs/smtp.log" 2>&1 </dev/null &
		pid=$!
		sp_record_pid "$dir" smtp "$pid" TERM
		if _sp_smtp_wait "$port" "$pid"; then
			printf '%s\n' "$port" >"$dir/smtp/port"
			if [ "$first" -eq 1 ] && declare -F sp_export >/dev/null; then
				sp_export SIMPKI_SMTP_URL "smtp://127.0.0.1:$port"
				sp_export SIMPKI_SMTP_MAILDIR "$dir/smtp/mail"
			fi
			sp_note "smtp: sink pid $pid on 127.0.0.1:$port, mail in $dir/smtp/mail"
			return 0
		fi
		sp_note "smtp: sink on 127.0.0.1:$port did not come up (attempt $attempt)"
		sp_log_tail "$dir/logs/smtp.log" 5
		_sp_smtp_stop_named "$dir" smtp || true
		# A restart keeps its port: a second try only helps if the old
		# listener was still going away.
		[ "$first" -eq 1 ] || sleep 1
	done
	return 1
}

# sp_smtp_down DIR: stops the sink; its port and mail stay for sp_smtp_up.
sp_smtp_down() {
	_sp_smtp_stop_named "$1" smtp
}
