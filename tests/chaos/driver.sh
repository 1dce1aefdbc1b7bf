# shellcheck shell=bash
# driver.sh - the chaos driver of tests/chaos/run (sourced, after
# deploy/local/lib/{common,broker,pg,hlr,smtp,kannel,scenario}.sh and once
# sc_init has run). Loopback only: it signals the processes recorded in the
# stack's folder and drives the dev broker through its control FIFO.
#
#   ch_driver_start   the two lanes and the supervisor, in the background
#   ch_driver_wait    until both lanes are done (or the time limit), then
#                     the recovery probes; stops the supervisor
#   ch_driver_stop    stop the lanes now (the scenario failed)
#
# Lane A kills the services (SIGKILL) and starts them again on their port;
# lane B takes the parts away: one broker down and up, all brokers down and
# up, PostgreSQL's fast restart and a kill, OsmoHLR killed, the SMTP sink
# and Kannel stopped for a while. Each lane waits a random gap between its
# faults; at a step where some service or part is at work it takes that one
# first half the time. Both start once the scenario's setup is done. Some
# faults of each lane wait for a phase of the scenario (TAG "pilot:",
# "batch:" the production batch's files, "load:" its HLR load and report,
# "late:" B7-B11) and come there in quick succession.
#
# Every action is a line of $CH_LOG (tab-separated):
#   EPOCH_MS FAULT_ID EVENT KIND TARGET DETAIL
# EVENT: fault (done to it), back (it runs again), recovered (the probe
# passed; DETAIL secs=S from=fault|back), unrecovered (the probe gave up),
# crash (a process died that the driver did not kill), note, skip.
#
# Settings (set by tests/chaos/run): CH_DIR (this run's folder), CH_LOG,
# CH_SEED, CH_KILLS, CH_PLAN_B (kinds of lane B, one each, e.g. "broker_one
# broker_all pg_restart pg_kill batch:hlr_kill smtp kannel"), CH_GAP_A / CH_GAP_B
# ("MIN_MS MAX_MS"), CH_LIMIT_S (the lanes' time bound), CH_PROBE_S (longest
# a probe waits), CH_PROGRAMS (what lane A kills), CH_RESERVE_A (kills kept
# for a phase, "PHASE:NAME ...").

CH_PROGRAMS=${CH_PROGRAMS:-"order-intake sigverify vendor-exchange hlr-provisioner inventory notifier accounts dashboard"}

ch_now_ms() { date +%s%3N; }

# ch_log FID EVENT KIND TARGET [DETAIL]
ch_log() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(ch_now_ms)" "$1" "$2" "$3" "$4" "${5:-}" >>"$CH_LOG"
}

# ch_rand MIN MAX: a number in [MIN, MAX] into CH_R (not through $(...):
# a subshell's $RANDOM would not move this shell's sequence on).
ch_rand() {
	local span=$(($2 - $1 + 1))
	CH_R=$(($1 + (RANDOM * 32768 + RANDOM) % span))
}

ch_sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# The scenario's step now: the last one started and not finished.
ch_step() {
	awk -F'\t' '$3 == "run" { s = $2 } $3 == "ok" && $2 == s { s = "" } END { print (s == "" ? "-" : s) }' \
		"$SC_PROGRESS" 2>/dev/null
}

ch_scenario_over() { [ -e "$SC_RUN/done" ]; }
ch_scenario_failed() { [ -s "$SC_RUN/failed" ]; }

# What is at work in a step: the lanes' first pick there.
ch_busy_services() {
	case $1 in
	A4) echo order-intake notifier ;;
	B1 | B2 | "B2 pilot") echo order-intake sigverify ;;
	B3* | B4*) echo vendor-exchange ;;
	B5*) echo hlr-provisioner ;;
	B6*) echo notifier hlr-provisioner ;;
	"B7-B9 pilot") echo inventory hlr-provisioner accounts ;;
	B7 | B8) echo inventory notifier ;;
	B9) echo inventory hlr-provisioner order-intake accounts notifier ;;
	B10 | B11 | report) echo inventory ;;
	esac
}
ch_busy_parts() {
	case $1 in
	B5* | B9 | "B7-B9 pilot") echo hlr_kill ;;
	B6* | B7 | A4) echo smtp ;;
	esac
	case $1 in
	B9 | "B7-B9 pilot") echo kannel ;;
	esac
}

# Marks: the driver has NAME down on purpose (the supervisor leaves it).
ch_mark() { : >"$CH_DIR/down/$1"; }
ch_unmark() { rm -f "$CH_DIR/down/$1"; }

_ch_gone() { ! sp_proc_alive "$1" "$2"; }

_ch_pid_alive() { # NAME: the recorded process runs
	local pid sig start
	read -r pid sig start <"$SC_DIR/pids/$1" 2>/dev/null || return 1
	sp_proc_alive "$pid" "$start"
}

# ---- probes -----------------------------------------------------------------

# Caught up as of T (epoch ms): every event written to the outbox by then
# is published, and applied (in the inbox) by every consumer that reads its
# topic (the pairs seen so far). Prints the number of what is missing.
ch_missing_as_of() {
	sc_sql "WITH t AS (SELECT to_timestamp($1 / 1000.0) AS t),
	  subs AS (SELECT DISTINCT i.consumer, o.topic FROM inbox i JOIN outbox o USING (event_id))
	SELECT (SELECT count(*) FROM outbox_pending, t WHERE created_at <= t.t)
	     + (SELECT count(*) FROM outbox o JOIN subs s USING (topic), t
	         WHERE o.created_at <= t.t AND NOT EXISTS
	           (SELECT 1 FROM inbox i WHERE i.consumer = s.consumer AND i.event_id = o.event_id))" 2>/dev/null
}

ch_healthz() { # NAME: its /healthz answers 200
	local url code
	url=$(sc_url "$1")
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/healthz" 2>/dev/null) || code=000
	[ "$code" = 200 ]
}

ch_all_healthy() {
	local p
	for p in $CH_PROGRAMS; do
		ch_healthz "$p" || return 1
	done
}

# A consumer's restart is over once it holds partitions again: a line
# "partitions assigned" with a count > 0 after line FROM of its log.
ch_assigned_since() { # NAME FROM
	[ "$1" = dashboard ] && return 0
	tail -n +"$(($2 + 1))" "$SC_DIR/logs/$1.log" 2>/dev/null |
		grep -q '"partitions assigned","count":"[1-9]'
}

# ch_recovered KIND TARGET REF_MS [LOGLINE]: 0 when the pipeline is back.
ch_recovered() {
	local kind=$1 target=$2 ref=$3 from=${4:-0} n
	case $kind in
	kill)
		ch_healthz "$target" && ch_assigned_since "$target" "$from" || return 1
		;;
	*)
		ch_all_healthy || return 1
		;;
	esac
	case $kind in
	hlr_kill)
		[ "$(sc_sql "SELECT count(*) FROM hlr_loads WHERE state = 'stalled'" 2>/dev/null)" = 0 ] || return 1
		;;
	smtp | kannel)
		local ch=email
		[ "$kind" = kannel ] && ch=sms
		n=$(sc_sql "SELECT count(*) FROM notifications WHERE channel = '$ch' AND state = 'pending'
			AND created_at <= to_timestamp($ref / 1000.0)" 2>/dev/null)
		[ "$n" = 0 ] || return 1
		;;
	esac
	[ "$(ch_missing_as_of "$ref")" = 0 ]
}

# ch_probe FID KIND TARGET REF_MS FROM_WHAT [LOGLINE], in the background.
ch_probe() {
	local fid=$1 kind=$2 target=$3 ref=$4 what=$5 from=${6:-0} t0 now
	t0=$(ch_now_ms)
	while :; do
		kill -0 "$$" 2>/dev/null || return 1 # the run is gone
		if ch_recovered "$kind" "$target" "$ref" "$from"; then
			now=$(ch_now_ms)
			ch_log "$fid" recovered "$kind" "$target" "secs=$(printf '%d.%03d' $(((now - ref) / 1000)) $(((now - ref) % 1000))) from=$what"
			return 0
		fi
		now=$(ch_now_ms)
		if [ $((now - t0)) -gt $((CH_PROBE_S * 1000)) ]; then
			ch_log "$fid" unrecovered "$kind" "$target" "after=${CH_PROBE_S}s"
			return 1
		fi
		sleep 0.25
	done
}

# ---- lane A: the services -----------------------------------------------------

ch_kill_service() { # FID NAME
	local fid=$1 name=$2 pid sig start t0 lines i step
	step=$(ch_step)
	ch_mark "$name"
	if ! read -r pid sig start <"$SC_DIR/pids/$name" || ! sp_proc_alive "$pid" "$start"; then
		ch_log "$fid" skip kill "$name" "not running"
		ch_unmark "$name"
		return 1
	fi
	lines=$(wc -l <"$SC_DIR/logs/$name.log")
	kill -s KILL "$pid"
	t0=$(ch_now_ms)
	ch_log "$fid" fault kill "$name" "pid=$pid step=$step"
	for ((i = 0; i < 100; i++)); do
		sp_proc_alive "$pid" "$start" || break
		sleep 0.05
	done
	# A supervisor (systemd, Docker) takes a moment to start it again.
	ch_rand 0 1000
	ch_sleep_ms "$CH_R"
	for ((i = 1; i <= 3; i++)); do
		sc_service_restart "$SC_DIR" "$name" >>"$CH_DIR/driver.log" 2>&1 && break
		ch_log "$fid" crash kill "$name" "restart attempt $i failed"
		sleep 1
	done
	if [ "$i" -gt 3 ]; then
		ch_log "$fid" unrecovered kill "$name" "does not start again"
		ch_unmark "$name"
		return 1
	fi
	ch_log "$fid" back kill "$name" "down_ms=$(($(ch_now_ms) - t0))"
	ch_unmark "$name"
	ch_probe "$fid" kill "$name" "$t0" fault "$lines" &
	CH_PROBES+=($!)
}

# The kill list: the programs in a seeded order, round after round until
# CH_KILLS, so every one is hit as evenly as the count allows. Some wait
# for a phase (CH_RESERVE_A, "PHASE:NAME ..."): the services at work there.
ch_plan_kills() {
	local -a progs=($CH_PROGRAMS) round
	local i j t n=0
	CH_PLAN_A=()
	while [ "$n" -lt "$CH_KILLS" ]; do
		round=("${progs[@]}")
		for ((i = ${#round[@]} - 1; i > 0; i--)); do
			ch_rand 0 "$i"
			j=$CH_R
			t=${round[$i]} round[$i]=${round[$j]} round[$j]=$t
		done
		for t in "${round[@]}"; do
			[ "$n" -lt "$CH_KILLS" ] || break
			CH_PLAN_A+=("any:$t")
			n=$((n + 1))
		done
	done
	local reserve=${CH_RESERVE_A:-pilot:order-intake batch:vendor-exchange load:hlr-provisioner load:notifier late:inventory late:accounts}
	for t in $reserve; do
		_ch_tag_first "${t#*:}" "${t%%:*}"
	done
}

_ch_tag_first() { # WHAT TAG: the first untagged WHAT of lane A's plan
	local i
	for ((i = 0; i < ${#CH_PLAN_A[@]}; i++)); do
		[ "${CH_PLAN_A[$i]}" = "any:$1" ] && { CH_PLAN_A[$i]=$2:$1; return 0; }
	done
	return 1
}

# Where the scenario is, CH_PHASE: 0 pilot (before the production batch's
# B3), 1 batch (its input and output files, B3-B4), 2 load (its HLR load and
# report, B5-B6), 3 late (B7 to the end), 4 over.
ch_batch_phase() {
	if ch_scenario_over; then
		CH_PHASE=4
	elif grep -q $'\tB6\tok\t' "$SC_PROGRESS" 2>/dev/null; then
		CH_PHASE=3
	elif grep -q $'\tB5\trun\t' "$SC_PROGRESS" 2>/dev/null; then
		CH_PHASE=2
	elif grep -q $'\tB3\trun\t' "$SC_PROGRESS" 2>/dev/null; then
		CH_PHASE=1
	else
		CH_PHASE=0
	fi
}

# ch_pick ARRAY_NAME BUSY...: index into CH_PICK of a lane's next fault, or
# 1 when none may go now. Entries are TAG:WHAT, TAG any or the phase kept
# for (pilot, batch, load, late): such a one waits for its phase and goes
# first (or goes once its phase is past). Half the time the first entry
# that is busy in this step, else the first.
ch_pick() {
	local -n _ch_plan=$1
	shift
	local i b tag what p
	local -a ok=() now=()
	ch_batch_phase
	for ((i = 0; i < ${#_ch_plan[@]}; i++)); do
		tag=${_ch_plan[$i]%%:*}
		case $tag in pilot) p=0 ;; batch) p=1 ;; load) p=2 ;; late) p=3 ;; *) p=-1 ;; esac
		if [ "$p" -eq "$CH_PHASE" ]; then
			now+=("$i")
		elif [ "$p" -lt "$CH_PHASE" ]; then
			ok+=("$i")
		fi
	done
	ok=("${now[@]}" "${ok[@]}")
	[ "${#ok[@]}" -gt 0 ] || return 1
	CH_PICK=${ok[0]}
	ch_rand 0 1
	[ "$CH_R" -eq 0 ] && return 0
	for i in "${ok[@]}"; do
		what=${_ch_plan[$i]#*:}
		for b in "$@"; do
			[ "$what" = "$b" ] && { CH_PICK=$i; return 0; }
		done
	done
	return 0
}

_ch_lane_wait_start() {
	until grep -q $'\tsetup\tok\t' "$SC_PROGRESS" 2>/dev/null; do
		ch_scenario_over && return 1
		sleep 0.2
	done
}

_ch_time_left() { [ $(($(ch_now_ms) - CH_T0)) -lt $((CH_LIMIT_S * 1000)) ]; }

# ch_lane NAME PLAN_VAR GAP BUSY_FN ACTION_FN: one lane's faults, in turn.
ch_lane() {
	local lane=$1 busy=$4 action=$5 n=0 fid what gap_min gap_max
	local -n _ch_lplan=$2
	read -r gap_min gap_max <<<"$3"
	ch_log - note "plan-$lane" - "${_ch_lplan[*]}"
	_ch_lane_wait_start || ch_log - note "lane-$lane" - "the scenario ended before its setup"
	ch_rand 0 "$gap_min"
	ch_sleep_ms "$CH_R"
	while [ "${#_ch_lplan[@]}" -gt 0 ]; do
		kill -0 "$$" 2>/dev/null || return 0 # the run is gone
		ch_scenario_failed && { ch_log - note "lane-$lane" - "the scenario failed: stopping"; break; }
		_ch_time_left || { ch_log - skip "lane-$lane" - "time limit: ${#_ch_lplan[@]} faults not done"; break; }
		if ! ch_pick "$2" $("$busy" "$(ch_step)"); then
			sleep 0.2 # what is left waits for the production batch
			continue
		fi
		what=${_ch_lplan[$CH_PICK]#*:}
		_ch_lplan=("${_ch_lplan[@]:0:$CH_PICK}" "${_ch_lplan[@]:$((CH_PICK + 1))}")
		n=$((n + 1))
		fid=$(printf '%s%02d' "${lane^^}" "$n")
		"$action" "$fid" "$what"
		# Faster while the scenario's steps are short: they are what matters.
		if [ "$CH_PHASE" -le 3 ]; then
			ch_rand 200 1000
		else
			ch_rand "$gap_min" "$gap_max"
		fi
		ch_sleep_ms "$CH_R"
	done
	wait "${CH_PROBES[@]}" 2>/dev/null
	ch_log - note "lane-$lane" - "done"
}

ch_lane_a() {
	RANDOM=$CH_SEED
	CH_PROBES=()
	ch_plan_kills
	ch_lane a CH_PLAN_A "$CH_GAP_A" ch_busy_services ch_kill_service
}

# ---- lane B: the parts ----------------------------------------------------------

ch_fault_part() { # FID KIND
	local fid=$1 kind=$2 step t0 tb b target rc=0
	step=$(ch_step)
	case $kind in
	broker_one)
		ch_rand 1 "${SIMPKI_DEVBROKER_BROKERS:-3}"
		b=$CH_R
		sp_broker_ctl "$SC_DIR" down "$b" || rc=1
		t0=$(ch_now_ms)
		ch_log "$fid" fault "$kind" "broker$b" "step=$step"
		ch_rand 3000 8000
		ch_sleep_ms "$CH_R"
		sp_broker_ctl "$SC_DIR" up "$b" || rc=1
		target=broker$b
		;;
	broker_all)
		for ((b = 1; b <= ${SIMPKI_DEVBROKER_BROKERS:-3}; b++)); do
			sp_broker_ctl "$SC_DIR" down "$b" || rc=1
		done
		t0=$(ch_now_ms)
		ch_log "$fid" fault "$kind" all "step=$step"
		ch_rand 3000 6000
		ch_sleep_ms "$CH_R"
		for ((b = 1; b <= ${SIMPKI_DEVBROKER_BROKERS:-3}; b++)); do
			sp_broker_ctl "$SC_DIR" up "$b" || rc=1
		done
		target=all
		;;
	pg_restart)
		ch_mark pg
		t0=$(ch_now_ms)
		ch_log "$fid" fault "$kind" pg "step=$step"
		sp_pg_restart "$SC_DIR" || rc=1
		ch_unmark pg
		target=pg
		;;
	pg_kill)
		ch_mark pg
		t0=$(ch_now_ms)
		sp_pg_kill "$SC_DIR" || rc=1
		ch_log "$fid" fault "$kind" pg "step=$step"
		ch_rand 1000 3000
		ch_sleep_ms "$CH_R"
		sp_pg_start "$SC_DIR" || rc=1
		ch_unmark pg
		target=pg
		;;
	hlr_kill)
		ch_mark hlr
		t0=$(ch_now_ms)
		ch_log "$fid" fault "$kind" osmo-hlr "step=$step"
		ch_rand 1 4
		sp_hlr_crash "$SC_DIR" "$CH_R" || rc=1
		ch_unmark hlr
		target=osmo-hlr
		;;
	smtp)
		ch_mark smtp
		sp_smtp_down "$SC_DIR" || rc=1
		t0=$(ch_now_ms)
		ch_log "$fid" fault "$kind" smtp-sink "step=$step"
		ch_rand 5000 15000
		ch_sleep_ms "$CH_R"
		sp_smtp_up "$SC_DIR" >>"$CH_DIR/driver.log" 2>&1 || rc=1
		ch_unmark smtp
		target=smtp-sink
		;;
	kannel)
		ch_mark kannel_bearerbox
		ch_mark kannel_smsbox
		ch_mark kannel_fakesmsc
		sp_kannel_down "$SC_DIR" || rc=1
		t0=$(ch_now_ms)
		ch_log "$fid" fault "$kind" kannel "step=$step"
		ch_rand 5000 15000
		ch_sleep_ms "$CH_R"
		sp_kannel_up "$SC_DIR" >>"$CH_DIR/driver.log" 2>&1 || rc=1
		ch_unmark kannel_bearerbox
		ch_unmark kannel_smsbox
		ch_unmark kannel_fakesmsc
		target=kannel
		;;
	esac
	tb=$(ch_now_ms)
	if [ "$rc" -ne 0 ]; then
		ch_log "$fid" unrecovered "$kind" "$target" "the driver could not bring it back"
		return 1
	fi
	ch_log "$fid" back "$kind" "$target" "down_ms=$((tb - t0))"
	ch_probe "$fid" "$kind" "$target" "$tb" back &
	CH_PROBES+=($!)
}

ch_lane_b() {
	RANDOM=$((CH_SEED + 7919))
	CH_PROBES=()
	local -a plan=()
	local i j t
	for t in $CH_PLAN_B; do
		case $t in *:*) plan+=("$t") ;; *) plan+=("any:$t") ;; esac
	done
	for ((i = ${#plan[@]} - 1; i > 0; i--)); do
		ch_rand 0 "$i"
		j=$CH_R
		t=${plan[$i]} plan[$i]=${plan[$j]} plan[$j]=$t
	done
	ch_lane b plan "$CH_GAP_B" ch_busy_parts ch_fault_part
}

# ---- the supervisor: what died that the driver did not kill -------------------

ch_supervisor() {
	local f name
	while [ ! -e "$CH_DIR/stop-supervisor" ]; do
		# The run is gone (killed): nothing to look after any more.
		kill -0 "$$" 2>/dev/null || return 0
		for f in "$SC_DIR"/pids/*; do
			[ -f "$f" ] || continue
			name=${f##*/}
			[ -e "$CH_DIR/down/$name" ] && continue
			_ch_pid_alive "$name" && continue
			# Perhaps the driver just took it down, or just restarted it.
			sleep 0.5
			[ -e "$CH_DIR/down/$name" ] && continue
			_ch_pid_alive "$name" && continue
			[ -e "$CH_DIR/stop-supervisor" ] && return 0
			ch_log - crash "$name" "$name" "exited by itself; log tail in driver.log"
			{
				echo "== $name exited by itself at $(date -u +%FT%T.%3NZ)"
				tail -n 20 "$SC_DIR/logs/$name.log" 2>/dev/null
			} >>"$CH_DIR/driver.log"
			case " $CH_PROGRAMS " in
			*" $name "*)
				# Started again, as its supervisor would; the run still fails.
				sc_service_restart "$SC_DIR" "$name" >>"$CH_DIR/driver.log" 2>&1 ||
					ch_log - note "$name" "$name" "does not start again"
				;;
			*) rm -f "$f" ;; # a part: the run fails, nothing to restart it
			esac
		done
		sleep 0.5
	done
}

# ---- start, wait, stop ------------------------------------------------------------

ch_driver_start() {
	mkdir -p "$CH_DIR/down"
	rm -f "$CH_DIR/stop-supervisor"
	CH_T0=$(ch_now_ms)
	ch_log - note seed - "$CH_SEED"
	ch_lane_a &
	CH_LANE_A=$!
	ch_lane_b &
	CH_LANE_B=$!
	ch_supervisor &
	CH_SUPERVISOR=$!
}

ch_driver_wait() {
	wait "$CH_LANE_A" "$CH_LANE_B" 2>/dev/null
	: >"$CH_DIR/stop-supervisor"
	wait "$CH_SUPERVISOR" 2>/dev/null
}

ch_driver_stop() {
	local p
	for p in "$CH_LANE_A" "$CH_LANE_B"; do
		kill "$p" 2>/dev/null
	done
	ch_driver_wait
}
