#!/usr/bin/env bash
# The local stack itself: deploy/local/stack up/down, each part answering,
# broker fault control, stacks side by side, and bad invocations.
set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

KCAT_TIMEOUT=60

# kcat_roundtrip PREFIX: produce one unique message to a new topic, read it
# back with a new consumer group; fails the test when it does not come back.
kcat_roundtrip() {
	local topic=$1.$RANDOM$RANDOM msg got
	msg="stack-test-$$-$RANDOM-$(date +%s%N)"
	printf '%s\n' "$msg" | timeout "$KCAT_TIMEOUT" kcat -P -q -b "$SIMPKI_KAFKA_BOOTSTRAP" \
		-t "$topic" -k k1 -X message.timeout.ms=30000 ||
		sp_fail "kcat could not produce to $topic"
	got=$(timeout "$KCAT_TIMEOUT" kcat -C -q -b "$SIMPKI_KAFKA_BOOTSTRAP" -G "g-$topic-$RANDOM" \
		-X auto.offset.reset=earliest -c 1 -f '%s\n' "$topic") ||
		sp_fail "kcat could not consume from $topic"
	sp_assert_eq "$got" "$msg" "message read back from $topic"
}

# pids_gone PIDFILE...: every recorded process has exited (a zombie waiting
# for init to reap it counts as exited).
pids_gone() {
	local pid st
	for pid in "$@"; do
		st=$(sp_proc_state "$pid") || continue
		[ "$st" = Z ] && continue
		return 1
	done
	return 0
}

# Runs CMD, expecting failure with a message matching PATTERN on stderr.
expect_fail() {
	local pattern=$1 err rc=0
	shift
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] || sp_fail "'$*' succeeded, expected a failure"
	grep -qE -- "$pattern" <<<"$err" || sp_fail "'$*': message '$err' does not match /$pattern/"
}

sp_step "bad invocations"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/simpki-scratch.XXXXXX")
sp_on_exit "rm -rf '$scratch'"
expect_fail 'missing DIR' "$SP_STACK" up
expect_fail 'missing DIR' "$SP_STACK" up --without hlr
expect_fail "unknown part 'bogus'" "$SP_STACK" up "$scratch/s1" --without pg,bogus
[ ! -e "$scratch/s1" ] || sp_fail "a refused 'up' created its folder"
expect_fail 'unknown option' "$SP_STACK" up "$scratch/s1" --frob
expect_fail 'missing DIR' "$SP_STACK" down
expect_fail "unknown command 'sideways'" "$SP_STACK" sideways
mkdir "$scratch/notastack" && echo keep >"$scratch/notastack/file"
expect_fail 'not a stack folder' "$SP_STACK" down "$scratch/notastack"
expect_fail 'not empty' "$SP_STACK" up "$scratch/notastack"
sp_assert_eq "$(cat "$scratch/notastack/file")" keep "a refused down/up left a foreign folder alone"
"$SP_STACK" --help | grep -q 'deploy/local/stack up DIR' || sp_fail "--help says nothing useful"
"$SP_STACK" down "$scratch/never-existed" 2>/dev/null || sp_fail "down of a missing folder should succeed"

sp_step "devbroker refuses bad input and writes nothing"
devbroker=$(sp_bin devbroker) || sp_fail "devbroker not built"
mkdir "$scratch/db"
for args in "--brokers 0" "--brokers 33" "--brokers x" "--topic bad/name" "--topic ok:0" \
	"--topic ok:x" "--frob" "stray"; do
	rc=0
	# shellcheck disable=SC2086
	err=$("$devbroker" $args --bootstrap-file "$scratch/db/bs" --control "$scratch/db/ctl" 2>&1 >/dev/null) || rc=$?
	sp_assert_eq "$rc" 2 "devbroker $args exit status"
	[ -n "$err" ] || sp_fail "devbroker $args: no message"
	[ -z "$(ls -A "$scratch/db")" ] || sp_fail "devbroker $args wrote files: $(ls -A "$scratch/db")"
done
expect_fail 'not a devbroker control FIFO' "$devbroker" ctl "$scratch/db/none" down 1
mkfifo "$scratch/db/orphan"
expect_fail 'no devbroker is listening' "$devbroker" ctl "$scratch/db/orphan" down 1
expect_fail 'usage' "$devbroker" ctl "$scratch/db/orphan"
rm -f "$scratch/db/orphan"

sp_step "a part failing to start tears down the others"
mkdir -p "$scratch/fakebin"
printf '#!/bin/sh\necho "fake osmo-hlr refuses" >&2\nexit 1\n' >"$scratch/fakebin/osmo-hlr"
chmod +x "$scratch/fakebin/osmo-hlr"
failed_dir=$scratch/failing
err=$(PATH="$scratch/fakebin:$PATH" "$SP_STACK" up "$failed_dir" 2>&1 >/dev/null) &&
	sp_fail "up succeeded with a broken osmo-hlr"
grep -q "part 'hlr' failed" <<<"$err" || sp_fail "failure does not name the part: $err"
[ ! -e "$failed_dir" ] || sp_fail "failed up left $failed_dir behind"
sleep 0.5
if pgrep -f -- "$failed_dir/" >/dev/null; then
	pgrep -af -- "$failed_dir/" >&2
	sp_fail "failed up left processes running"
fi

sp_step "full stack up"
sp_stack_up
for v in SIMPKI_STACK_DIR SIMPKI_KAFKA_BOOTSTRAP SIMPKI_DEVBROKER_CTL SIMPKI_DB_URL \
	SIMPKI_PG_PORT SIMPKI_PG_DATA SIMPKI_HLR_CTRL; do
	[ -n "${!v:-}" ] || sp_fail "$v not exported"
done
A_DIR=$SIMPKI_STACK_DIR
expect_fail 'already running' "$SP_STACK" up "$A_DIR"

sp_step "postgresql"
sp_assert_eq "$(sp_psql 'SELECT 1')" 1 "SELECT 1"
sp_assert_eq "$(sp_psql 'SELECT current_database()')" simpki "database name"
sp_assert_eq "$(sp_psql "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'simpki'")" \
	UTF8 "database encoding"
sp_assert_eq "$(sp_psql "SELECT to_regclass('schema_migrations') IS NOT NULL")" t \
	"schema_migrations after stack up"
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM schema_migrations')" \
	"$(ls "$SIMPKI_SOURCE_DIR"/schemas/sql/*.sql | wc -l)" "migrations applied"
sp_assert_eq "$(sp_psql "SELECT to_regclass('outbox_pending') IS NOT NULL")" t "outbox_pending view"

sp_step "osmo-hlr ctrl"
rc=0
out=$(sp_hlr_ctrl "GET 1 subscriber.by-imsi-001010000000001.info") || rc=$?
sp_assert_eq "$rc" 3 "exit status of a GET for an unknown subscriber"
sp_assert_eq "$out" "ERROR 1 No such subscriber." "reply for an unknown subscriber"
out=$(sp_hlr_ctrl "SET 2 subscriber.create 001010000000123") || sp_fail "subscriber.create: $out"
[[ $out == "SET_REPLY 2 subscriber.create "* ]] || sp_fail "subscriber.create reply: $out"
out=$(sp_hlr_ctrl "GET 3 subscriber.by-imsi-001010000000123.info") || sp_fail "info: $out"
grep -qP '^imsi\t001010000000123$' <<<"$out" || sp_fail "info does not show the IMSI: $out"
rc=0
"$SP_PY" "$SP_HLR_CTRL_PY" 127.0.0.1 1 "GET 1 x" >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "hlr_ctrl.py on a closed port"

sp_step "broker produce/consume"
kcat_roundtrip "stack.check"
broker1=${SIMPKI_KAFKA_BOOTSTRAP%%,*}

sp_step "broker down 1 / up 1"
sp_broker_ctl "$A_DIR" down 1 || sp_fail "down 1 not acknowledged"
# The fault must be real: broker 1 alone no longer answers.
if timeout 30 kcat -L -q -b "$broker1" -m 3 >/dev/null 2>&1; then
	sp_fail "broker 1 ($broker1) still answers after 'down 1'"
fi
sp_broker_ctl "$A_DIR" up 1 || sp_fail "up 1 not acknowledged"
sp_wait_for 30 eval 'timeout 10 kcat -L -q -b "$broker1" -m 3 >/dev/null 2>&1' ||
	sp_fail "broker 1 does not answer after 'up 1'"
kcat_roundtrip "stack.check"
kcat_roundtrip "stack.after-fault"
if sp_broker_ctl "$A_DIR" down 7 2>/dev/null; then
	sp_fail "'down 7' accepted on a 3-broker cluster"
fi
grep -q '"cmd":"down 7","result":"error","reason":"broker id must be 1..3"' "$A_DIR/logs/kafka.log" ||
	sp_fail "no error ack for 'down 7'"
# The documented plain-shell way works too.
before=$(grep -c '"result":"ok"' "$A_DIR/logs/kafka.log")
timeout 5 bash -c 'echo "create stack.made 2" >"$SIMPKI_DEVBROKER_CTL"' || sp_fail "echo to the FIFO"
sp_wait_for 10 eval '[ "$(grep -c "\"result\":\"ok\"" "$A_DIR/logs/kafka.log")" -gt "$before" ]' ||
	sp_fail "no ack for a command written with echo"
timeout 30 kcat -L -q -b "$SIMPKI_KAFKA_BOOTSTRAP" -t stack.made | grep -q 'with 2 partitions' ||
	sp_fail "topic created through the FIFO is missing or has the wrong partition count"

# Bad commands are refused with an error ack and change nothing.
for bad in "create bad/name 1" "create stack.zero 0" "create stack.extra 1 2" "down 0" "up x" "frob"; do
	if sp_broker_ctl "$A_DIR" $bad 2>/dev/null; then
		sp_fail "devbroker accepted '$bad'"
	fi
	grep -qF "\"cmd\":\"$bad\",\"result\":\"error\"" "$A_DIR/logs/kafka.log" ||
		sp_fail "no error ack for '$bad'"
done
topics=$(timeout 30 kcat -L -q -b "$SIMPKI_KAFKA_BOOTSTRAP")
grep -qE 'stack\.zero|stack\.extra|bad' <<<"$topics" && sp_fail "a refused create made a topic"
[ "$(grep -c '^ *broker [0-9]* at' <<<"$topics")" -eq 3 ] || sp_fail "cluster lost a broker: $topics"
kcat_roundtrip "stack.after-bad"

sp_step "two more stacks at the same time"
A_ENV=$(env | grep '^SIMPKI_' | sort)
# Started in parallel (so they race for ports and addresses); the folders
# are registered with the harness so they go down at exit whatever happens.
b_out=$scratch/b.env c_out=$scratch/c.env
B_DIR=$(mktemp -d "${TMPDIR:-/tmp}/simpki-test.XXXXXX"); chmod 755 "$B_DIR"
C_DIR=$(mktemp -d "${TMPDIR:-/tmp}/simpki-test.XXXXXX"); chmod 755 "$C_DIR"
SP_TEST_STACKS+=("$B_DIR" "$C_DIR")
"$SP_STACK" up "$B_DIR" >"$b_out" 2>"$scratch/b.err" & bpid=$!
"$SP_STACK" up "$C_DIR" --without kafka,hlr >"$c_out" 2>"$scratch/c.err" & cpid=$!
wait "$bpid" || { cat "$scratch/b.err" >&2; sp_fail "second stack failed to start"; }
wait "$cpid" || { cat "$scratch/c.err" >&2; sp_fail "third stack failed to start"; }
# stdout carries nothing but export lines.
grep -qv '^export SIMPKI_[A-Z_]*=' "$b_out" "$c_out" && sp_fail "stack up printed something else than exports"
B_BOOT=$( (eval "$(cat "$b_out")"; echo "$SIMPKI_KAFKA_BOOTSTRAP"))
B_DB=$( (eval "$(cat "$b_out")"; echo "$SIMPKI_DB_URL"))
B_HLR=$( (eval "$(cat "$b_out")"; echo "$SIMPKI_HLR_CTRL"))
C_DB=$( (eval "$(cat "$c_out")"; echo "$SIMPKI_DB_URL"))
grep -q SIMPKI_KAFKA_BOOTSTRAP "$c_out" && sp_fail "--without kafka still exported kafka"
grep -q SIMPKI_HLR_CTRL "$c_out" && sp_fail "--without hlr still exported hlr"
[ ! -e "$C_DIR/pids/kafka" ] && [ ! -e "$C_DIR/pids/hlr" ] || sp_fail "--without still started parts"
[ "$B_BOOT" != "$SIMPKI_KAFKA_BOOTSTRAP" ] || sp_fail "two stacks share a broker"
[ "$B_HLR" != "$SIMPKI_HLR_CTRL" ] || sp_fail "two stacks share an HLR address"
[ "$B_DB" != "$SIMPKI_DB_URL" ] && [ "$C_DB" != "$SIMPKI_DB_URL" ] && [ "$B_DB" != "$C_DB" ] ||
	sp_fail "stacks share a database URL"
# Each part is really its own: data written in A is not in B or C.
sp_psql 'CREATE TABLE only_in_a (x int)'
for url in "$B_DB" "$C_DB"; do
	sp_assert_eq "$(psql -X -A -t -v ON_ERROR_STOP=1 "$url" -c "SELECT to_regclass('only_in_a') IS NULL")" t \
		"table of stack A visible through $url"
done
rc=0
"$SP_PY" "$SP_HLR_CTRL_PY" "${B_HLR%:*}" "${B_HLR##*:}" \
	"GET 1 subscriber.by-imsi-001010000000123.info" >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 3 "subscriber of stack A seen in stack B's HLR"
(SIMPKI_KAFKA_BOOTSTRAP=$B_BOOT; kcat_roundtrip "stack.b") || sp_fail "stack B's broker"
sp_assert_eq "$(env | grep '^SIMPKI_' | sort)" "$A_ENV" "environment of stack A after starting others"

sp_step "down stops everything and removes the folder"
for d in "$B_DIR" "$C_DIR"; do
	pids=$(cat "$d"/pids/* | awk '{print $1}')
	[ -n "$pids" ] || sp_fail "no pids recorded in $d"
	pgdata=$(sed -n 's/^export SIMPKI_PG_DATA=//p' "$([ "$d" = "$B_DIR" ] && echo "$b_out" || echo "$c_out")")
	"$SP_STACK" down "$d" 2>/dev/null || sp_fail "down $d failed"
	# shellcheck disable=SC2086
	sp_wait_for 5 pids_gone $pids || sp_fail "processes of $d still running after down: $pids"
	[ ! -e "$d" ] || sp_fail "down left $d behind"
	[ ! -e "$pgdata" ] || sp_fail "down left the PostgreSQL data $pgdata behind"
	"$SP_STACK" down "$d" 2>/dev/null || sp_fail "second down of $d failed"
done
# Stack A still works after its neighbours went away.
sp_assert_eq "$(sp_psql 'SELECT 1')" 1 "stack A after the others went down"
kcat_roundtrip "stack.last"

echo "PASS: test_stack" >&2
