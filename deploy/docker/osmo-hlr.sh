#!/bin/bash
# osmo-hlr.sh - the osmo-hlr container's entrypoint.
#
#   osmo-hlr.sh run                  OsmoHLR in the foreground, its SQLite
#                                    file on the volume /var/lib/osmocom
#   osmo-hlr.sh health [HOST PORT]   the health check: a real CTRL GET must
#                                    be answered (default 127.0.0.1 4259)
#
# The health check speaks CTRL over IPA framing with bash's /dev/tcp, since
# the image carries no client: 2-byte big-endian length, stream byte 0xEE,
# then the payload (extension byte 0x00 and the ASCII command). Any answer
# to our id counts, an ERROR for the unknown IMSI included: CTRL is serving.
set -eu

cfg=${OSMO_HLR_CFG:-/etc/osmocom/osmo-hlr.cfg}
db=${OSMO_HLR_DB:-/var/lib/osmocom/hlr.db}

health() {
	local host=${1:-127.0.0.1} port=${2:-4259} cmd len frame payload
	cmd="GET 4259 subscriber.by-imsi-001010000000001.info"
	len=$((${#cmd} + 1))
	exec 3<>"/dev/tcp/$host/$port" || return 1
	printf "\\x$(printf %02x $((len >> 8)))\\x$(printf %02x $((len & 255)))\\xee\\x00%s" "$cmd" >&3
	# Up to three frames: a TRAP or an IPA ping may come before our answer.
	for _ in 1 2 3; do
		frame=$(timeout 3 head -c 3 <&3 | od -An -tu1) || break
		# shellcheck disable=SC2086 # split "len-hi len-lo stream"
		set -- $frame
		[ $# -eq 3 ] || break
		payload=$(timeout 3 head -c $(($1 * 256 + $2)) <&3 | tr -c '[:print:]' ' ') || break
		case $payload in
		*"GET_REPLY 4259 "* | *"ERROR 4259 "*) exec 3>&-; return 0 ;;
		esac
	done
	exec 3>&-
	echo "osmo-hlr: no CTRL answer from $host:$port" >&2
	return 1
}

case ${1:-run} in
run)
	# -U: a newer osmo-hlr may upgrade the schema of the file it finds.
	exec osmo-hlr -c "$cfg" -l "$db" -U
	;;
health)
	shift
	health "$@"
	;;
*)
	echo "usage: osmo-hlr.sh [run | health [HOST PORT]]" >&2
	exit 2
	;;
esac
