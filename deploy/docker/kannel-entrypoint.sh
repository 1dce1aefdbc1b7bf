#!/bin/bash
# kannel-entrypoint.sh - the kannel container's entrypoint (Debian's kannel
# package: bearerbox and smsbox).
#
#   kannel-entrypoint.sh run      render the configuration, start bearerbox,
#                                 then smsbox; stop both when either ends
#                                 (the restart policy starts them again)
#   kannel-entrypoint.sh render   only render the configuration
#   kannel-entrypoint.sh health   bearerbox runs with smsbox on-line, and
#                                 sendsms answers (403 without credentials)
#
# The template (KANNEL_TEMPLATE) holds placeholders for the passwords; the
# rendered file (KANNEL_RUN_DIR/kannel.conf, mode 0600) holds them.
set -eu

template=${KANNEL_TEMPLATE:-/etc/kannel/kannel.conf}
run_dir=${KANNEL_RUN_DIR:-/run/kannel}
secrets=${KANNEL_SECRETS_DIR:-/run/secrets}
conf=$run_dir/kannel.conf

die() {
	echo "kannel: $*" >&2
	exit 1
}

# A secret's first line; refused when empty or when it cannot sit inside a
# quoted Kannel value.
secret() {
	local file=$secrets/$1 value
	[ -r "$file" ] || die "secret $1 is missing or unreadable ($file)"
	IFS= read -r value <"$file" || [ -n "$value" ] || die "secret $1 is empty"
	[ -n "$value" ] || die "secret $1 is empty"
	case $value in
	*[\"\\]*) die "secret $1 holds a quote or a backslash, which Kannel cannot read" ;;
	esac
	printf '%s' "$value"
}

# Escape for the replacement side of sed's s|||.
sed_escape() {
	printf '%s' "$1" | sed -e 's/[|&\\]/\\&/g'
}

render() {
	local admin sendsms smsc
	[ -r "$template" ] || die "no configuration template at $template"
	admin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	sendsms=$(secret kannel_password)
	smsc=$(secret kannel_smsc_password)
	(
		umask 077
		sed -e "/^[[:space:]]*#/!s|@ADMIN_PASSWORD@|$(sed_escape "$admin")|g" \
			-e "/^[[:space:]]*#/!s|@SENDSMS_PASSWORD@|$(sed_escape "$sendsms")|g" \
			-e "/^[[:space:]]*#/!s|@SMSC_PASSWORD@|$(sed_escape "$smsc")|g" \
			"$template" >"$conf.new"
		printf '%s\n' "$admin" >"$run_dir/admin.password"
	)
	if grep -v '^[[:space:]]*#' "$conf.new" | grep -q '@[A-Z_]*@'; then
		die "$template has a placeholder this script does not know"
	fi
	mv "$conf.new" "$conf"
}

# `key = value` of the rendered file's first group that has it.
setting() {
	sed -n -e "s/^$1[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*$/\1/p" "$conf" | head -n1
}

health() {
	local admin sendsms pw status code
	admin=$(setting admin-port)
	sendsms=$(setting sendsms-port)
	pw=$(cat "$run_dir/admin.password") || return 1
	status=$(printf 'url = "http://127.0.0.1:%s/status.txt?password=%s"\n' "$admin" "$pw" |
		curl -s --max-time 3 -K -) || return 1
	case $status in
	*"Status: running"*) ;;
	*) echo "kannel: bearerbox is not running" >&2; return 1 ;;
	esac
	case $status in
	*"smsbox:"*"on-line"*) ;;
	*) echo "kannel: smsbox is not linked to bearerbox" >&2; return 1 ;;
	esac
	code=$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' \
		"http://127.0.0.1:$sendsms/cgi-bin/sendsms") || code=
	[ "$code" = 403 ] || { echo "kannel: sendsms answered '$code'" >&2; return 1; }
}

run() {
	local bb sb='' i stopping=0
	render
	# -v 1: info and up (debug would print the configuration, passwords
	# included).
	/usr/sbin/bearerbox -v 1 "$conf" &
	bb=$!
	trap 'stopping=1; kill -TERM $bb $sb 2>/dev/null' TERM INT
	# smsbox gives up at once when bearerbox's box port is not open yet.
	for ((i = 0; i < 300; i++)); do
		kill -0 "$bb" 2>/dev/null || die "bearerbox exited during start"
		(exec 3<>/dev/tcp/127.0.0.1/"$(setting smsbox-port)") 2>/dev/null && break
		sleep 0.2
	done
	# Warning and up only: at info smsbox logs each SMS's text, and ours
	# carry passwords and OTPs.
	/usr/sbin/smsbox -v 2 "$conf" &
	sb=$!
	# Either one ending ends the container; a stop request ends it cleanly.
	wait -n "$bb" "$sb" || true
	kill -TERM "$bb" "$sb" 2>/dev/null || true
	wait || true
	[ "$stopping" -eq 1 ] || die "bearerbox or smsbox ended"
}

case ${1:-run} in
run) run ;;
render) render ;;
health) health ;;
*)
	echo "usage: kannel-entrypoint.sh [run | render | health]" >&2
	exit 2
	;;
esac
