# kannel.sh - the "kannel" part of the local stack: Kannel's bearerbox and
# smsbox with a fake SMSC (fakesmsc from kannel-extras) on free loopback
# ports, configured in DIR/kannel. Needs common.sh; exports through
# sp_export (deploy/local/stack) on its first start.
#
# fakesmsc prints every message it is handed on its log
# (SIMPKI_KANNEL_SMSC_LOG); deploy/local/lib/fakesmsc_decode.py turns those lines
# back into text. The sendsms password is random, in a 0600 file.
#
# Fault tests (source this file after tests/lib/harness.sh):
#   sp_kannel_down DIR / sp_kannel_up DIR            all of Kannel (sendsms
#                                                    refuses connections)
#   sp_kannel_smsc_down DIR / sp_kannel_smsc_up DIR  only the fake SMSC:
#                                                    Kannel queues ("3: Queued")
# A restart keeps the ports, the configuration and the password.

SP_KANNEL_USER=simpki
SP_KANNEL_FAKESMSC=/usr/lib/kannel/test/fakesmsc

_sp_kannel_stop_named() {
	local dir=$1 name=$2 pid sig start
	[ -f "$dir/pids/$name" ] || return 0
	read -r pid sig start <"$dir/pids/$name" || return 0
	sp_stop_pid "$pid" "$sig" "$start" "$name" || return 1
	rm -f "$dir/pids/$name"
}

_sp_kannel_alive_named() {
	local pid sig start
	[ -f "$1/pids/$2" ] || return 1
	read -r pid sig start <"$1/pids/$2" || return 1
	sp_proc_alive "$pid" "$start"
}

_sp_kannel_bin() {
	command -v "$1" 2>/dev/null && return 0
	[ -x "/usr/sbin/$1" ] && printf '/usr/sbin/%s\n' "$1" && return 0
	return 1
}

# A random secret of 24 hex digits.
_sp_kannel_secret() {
	od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
}

# Four distinct free ports: admin, box (smsbox link), fake SMSC, sendsms.
# The fake SMSC listens on every address (its port cannot be bound to
# loopback), so that one must be free on 0.0.0.0 too.
_sp_kannel_pick_ports() {
	local p ports=() i
	for ((i = 0; i < 50 && ${#ports[@]} < 4; i++)); do
		p=$("$SP_PY" "$SP_LIB_DIR/freeport.py") || return 1
		[[ " ${ports[*]} " == *" $p "* ]] && continue
		if [ "${#ports[@]}" -eq 2 ]; then
			"$SP_PY" "$SP_LIB_DIR/freeport.py" --check 0.0.0.0 "$p" 2>/dev/null || continue
		fi
		ports+=("$p")
	done
	[ "${#ports[@]}" -eq 4 ] || return 1
	printf '%s %s %s %s\n' "${ports[@]}"
}

# Written once per stack (umask 077: it holds both passwords).
_sp_kannel_write_cfg() {
	local dir=$1 admin=$2 box=$3 smsc=$4 sendsms=$5 adminpw=$6 pw=$7
	(
		umask 077
		cat >"$dir/kannel/kannel.conf" <<CFG
# Written by deploy/local/stack for this stack only.
group = core
admin-port = $admin
admin-interface = 127.0.0.1
admin-password = $adminpw
admin-allow-ip = 127.0.0.1
smsbox-port = $box
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1

# fakesmsc connects here and prints what it is sent.
group = smsc
smsc = fake
smsc-id = fake
port = $smsc
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $box
sendsms-port = $sendsms
sendsms-interface = 127.0.0.1

group = sendsms-user
username = $SP_KANNEL_USER
password = $pw
concatenation = true
max-messages = 10

# fakesmsc sends one message of its own at start: take it, answer nothing.
group = sms-service
keyword = default
max-messages = 0
text = ""
CFG
		printf '%s\n' "$pw" >"$dir/kannel/sendsms.password"
		printf '%s\n' "$adminpw" >"$dir/kannel/admin.password"
	)
}

# bearerbox's status page, read with the admin password kept off the
# command line.
_sp_kannel_status() {
	local dir=$1 admin pw
	read -r admin _ _ _ <"$dir/kannel/ports" || return 1
	pw=$(cat "$dir/kannel/admin.password") || return 1
	printf 'url = "http://127.0.0.1:%s/status.txt?password=%s"\n' "$admin" "$pw" |
		curl -s --max-time 2 -K - 2>/dev/null
}

# _sp_kannel_wait DIR WHAT: bearerbox (its status answers), smsbox (it is
# linked to bearerbox and its sendsms port answers), smsc (fakesmsc online).
_sp_kannel_wait() {
	local dir=$1 what=$2 sendsms i status code
	read -r _ _ _ sendsms <"$dir/kannel/ports" || return 1
	for ((i = 0; i < 100; i++)); do
		_sp_kannel_alive_named "$dir" "kannel_$what" || return 1
		status=$(_sp_kannel_status "$dir") || status=
		case $what in
		bearerbox) [[ $status == *"Status: running"* ]] && return 0 ;;
		smsbox)
			if [[ $status == *"smsbox:"*"on-line"* ]]; then
				code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' \
					"http://127.0.0.1:$sendsms/cgi-bin/sendsms" 2>/dev/null) || code=
				[ "$code" = 403 ] && return 0
			fi
			;;
		fakesmsc) [[ $status == *"fake[fake]"*"(online"* ]] && return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}

# _sp_kannel_start DIR WHAT: starts one process of the part and waits.
_sp_kannel_start() {
	local dir=$1 what=$2 bin smsc pid level=1
	case $what in
	bearerbox | smsbox)
		bin=$(_sp_kannel_bin "$what") || {
			sp_note "kannel: $what not found (Debian package kannel)"
			return 1
		}
		# bearerbox at info; smsbox at warning: at info it logs each SMS's
		# text, and ours carry passwords and OTPs (found by
		# tests/integration/test_no_secrets.sh). Debug would print the
		# configuration, passwords included.
		[ "$what" = smsbox ] && level=2
		pid=$(cd "$dir/kannel" && sp_start_recorded "$dir" "kannel_$what" \
			"$bin" -v "$level" "$dir/kannel/kannel.conf") || return 1
		;;
	fakesmsc)
		[ -x "$SP_KANNEL_FAKESMSC" ] || {
			sp_note "kannel: $SP_KANNEL_FAKESMSC not found (Debian package kannel-extras)"
			return 1
		}
		read -r _ _ smsc _ <"$dir/kannel/ports" || return 1
		pid=$(cd "$dir/kannel" && sp_start_recorded "$dir" kannel_fakesmsc \
			"$SP_KANNEL_FAKESMSC" -H 127.0.0.1 -r "$smsc" -i 3600 -m 1 \
			"100 200 text hello") || return 1
		;;
	esac
	if ! _sp_kannel_wait "$dir" "$what"; then
		sp_note "kannel: $what (pid $pid) did not come up"
		sp_log_tail "$dir/logs/kannel_$what.log" 5
		return 1
	fi
}

# sp_kannel_up DIR: first start on free ports, or a restart of whatever is
# not running, on the ports recorded in DIR/kannel/ports.
sp_kannel_up() {
	local dir=$1 first=1 attempt ports admin box smsc sendsms w ok
	mkdir -p "$dir/kannel" "$dir/logs" || return 1
	[ -f "$dir/kannel/ports" ] && first=0
	for ((attempt = 1; attempt <= 3; attempt++)); do
		if [ "$first" -eq 1 ]; then
			ports=$(_sp_kannel_pick_ports) || {
				sp_note "kannel: no free ports"
				return 1
			}
			read -r admin box smsc sendsms <<<"$ports"
			_sp_kannel_write_cfg "$dir" "$admin" "$box" "$smsc" "$sendsms" \
				"$(_sp_kannel_secret)" "$(_sp_kannel_secret)" || return 1
			printf '%s\n' "$ports" >"$dir/kannel/ports"
		fi
		ok=1
		for w in bearerbox smsbox fakesmsc; do
			_sp_kannel_alive_named "$dir" "kannel_$w" && continue
			_sp_kannel_start "$dir" "$w" || { ok=0; break; }
		done
		[ "$ok" -eq 1 ] && break
		sp_kannel_down "$dir" || return 1
		# New ports help when another stack took ours; a restart keeps them.
		[ "$first" -eq 1 ] || sleep 1
	done
	[ "$ok" -eq 1 ] || return 1
	read -r admin box smsc sendsms <"$dir/kannel/ports"
	if [ "$first" -eq 1 ] && declare -F sp_export >/dev/null; then
		sp_export SIMPKI_KANNEL_URL "http://127.0.0.1:$sendsms/cgi-bin/sendsms"
		sp_export SIMPKI_KANNEL_USER "$SP_KANNEL_USER"
		sp_export SIMPKI_KANNEL_PASSWORD_FILE "$dir/kannel/sendsms.password"
		sp_export SIMPKI_KANNEL_SMSC_LOG "$dir/logs/kannel_fakesmsc.log"
	fi
	sp_note "kannel: sendsms at 127.0.0.1:$sendsms, fake SMSC on port $smsc"
}

# sp_kannel_down DIR: stops smsbox, the fake SMSC and bearerbox.
sp_kannel_down() {
	local dir=$1 rc=0 w
	for w in smsbox fakesmsc bearerbox; do
		_sp_kannel_stop_named "$dir" "kannel_$w" || rc=1
	done
	return $rc
}

# Only the fake SMSC: Kannel stays up and queues what it is given.
sp_kannel_smsc_down() {
	_sp_kannel_stop_named "$1" kannel_fakesmsc
}

sp_kannel_smsc_up() {
	_sp_kannel_alive_named "$1" kannel_fakesmsc && return 0
	_sp_kannel_start "$1" fakesmsc
}
