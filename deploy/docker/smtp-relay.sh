#!/bin/bash
# smtp-relay.sh - the smtp-relay container's entrypoint (Debian's postfix).
#
#   smtp-relay.sh run      set myhostname and relayhost from the environment
#                          (RELAY_HOSTNAME, RELAYHOST) and run Postfix in the
#                          foreground
#   smtp-relay.sh health   Postfix's master runs and port 25 greets with 220
set -eu

health() {
	local line
	postfix status >/dev/null 2>&1 || { echo "smtp-relay: postfix is not running" >&2; return 1; }
	exec 3<>/dev/tcp/127.0.0.1/25 || return 1
	IFS= read -r -t 5 line <&3 || line=
	printf 'QUIT\r\n' >&3 2>/dev/null || true
	exec 3>&-
	case $line in
	220*) return 0 ;;
	*) echo "smtp-relay: no 220 greeting on port 25" >&2; return 1 ;;
	esac
}

case ${1:-run} in
run)
	postconf -e "myhostname=${RELAY_HOSTNAME:-simpki-relay.localdomain}" \
		"relayhost=${RELAYHOST:-}"
	postfix check
	exec postfix start-fg
	;;
health) health ;;
*)
	echo "usage: smtp-relay.sh [run | health]" >&2
	exit 2
	;;
esac
