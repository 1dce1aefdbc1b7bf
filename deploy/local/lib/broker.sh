# broker.sh - drive a running devbroker through its control FIFO.
#
#   sp_broker_ctl STACKDIR down 1      (also: up N, create TOPIC PARTITIONS)
#
# Writes the command (like `echo "down 1" > STACKDIR/broker.ctl` would) and
# waits until devbroker acknowledges it in STACKDIR/logs/kafka.log. Returns 0
# on an "ok" ack, 1 on an error ack or when no ack comes within 10 s.

sp_broker_ctl() {
	local dir=$1 fifo log before i line
	shift
	fifo=$dir/broker.ctl
	log=$dir/logs/kafka.log
	if [ ! -p "$fifo" ]; then
		printf 'sp_broker_ctl: %s is not a devbroker control FIFO\n' "$fifo" >&2
		return 1
	fi
	before=$(grep -c '"msg":"control command' "$log" 2>/dev/null) || before=0
	# O_NONBLOCK open in `devbroker ctl` fails fast when nobody listens;
	# a plain `echo > FIFO` would block forever instead.
	if [ -x "$(sp_build_dir 2>/dev/null)/tools/devbroker/devbroker" ]; then
		"$(sp_build_dir)/tools/devbroker/devbroker" ctl "$fifo" "$@" || return 1
	else
		timeout 5 bash -c 'printf "%s\n" "$2" >"$1"' _ "$fifo" "$*" || return 1
	fi
	for ((i = 0; i < 100; i++)); do
		line=$(grep '"msg":"control command' "$log" 2>/dev/null | sed -n "$((before + 1))p")
		if [ -n "$line" ]; then
			case $line in
			*'"result":"ok"'*) return 0 ;;
			*) printf 'sp_broker_ctl: %s\n' "$line" >&2; return 1 ;;
			esac
		fi
		sleep 0.1
	done
	printf 'sp_broker_ctl: no acknowledgement for "%s" in %s\n' "$*" "$log" >&2
	return 1
}
