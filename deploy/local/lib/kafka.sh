# kafka.sh - the "kafka" part of the local stack: devbroker (librdkafka's
# mock cluster) with a control FIFO. Needs common.sh and sp_export.

# sp_kafka_up DIR
sp_kafka_up() {
	local dir=$1 bin pid t
	local -a args
	bin=$(sp_build_dir)/tools/devbroker/devbroker
	if [ ! -x "$bin" ]; then
		sp_note "kafka: $bin not found; build it first:" \
			"cmake --build $(sp_build_dir) --target devbroker"
		return 1
	fi
	mkdir -p "$dir/kafka" "$dir/logs"
	rm -f "$dir/kafka/bootstrap" "$dir/broker.ctl"
	args=(--brokers "${SIMPKI_DEVBROKER_BROKERS:-3}"
		--bootstrap-file "$dir/kafka/bootstrap" --control "$dir/broker.ctl")
	for t in ${SIMPKI_DEVBROKER_TOPICS:-}; do
		args+=(--topic "$t")
	done
	# Own session: a Ctrl-C meant for `deploy/local/run` must not reach it;
	# stdout/stderr to files so `$(stack up)` is not held open.
	setsid "$bin" "${args[@]}" >"$dir/logs/kafka.out" 2>"$dir/logs/kafka.log" </dev/null &
	pid=$!
	sp_record_pid "$dir" kafka "$pid" TERM
	# The file appears only once the cluster, topics and FIFO all exist.
	if ! sp_wait_for 20 _sp_kafka_ready "$dir" "$pid"; then
		if sp_proc_alive "$pid"; then
			sp_note "kafka: devbroker (pid $pid) not ready after 20s"
		else
			sp_note "kafka: devbroker exited during start"
		fi
		sp_log_tail "$dir/logs/kafka.log"
		return 1
	fi
	sp_export SIMPKI_KAFKA_BOOTSTRAP "$(head -n1 "$dir/kafka/bootstrap")"
	sp_export SIMPKI_DEVBROKER_CTL "$dir/broker.ctl"
	sp_note "kafka: devbroker pid $pid at $(head -n1 "$dir/kafka/bootstrap")"
}

_sp_kafka_ready() {
	[ -s "$1/kafka/bootstrap" ] && [ -p "$1/broker.ctl" ] && return 0
	sp_proc_alive "$2" || return 0 # stop waiting: it died
	return 1
}
