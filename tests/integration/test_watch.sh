#!/usr/bin/env bash
# test_watch.sh - `simpkictl watch` against the dev broker and PostgreSQL:
# every event once with its step (also on a topic created while it runs),
# the step table's counts, progress rows (garbage and a half-written line
# skipped), a message that is not an event, SIMs per state, --until reading
# up to the end, SIGTERM, Kafka and the database unreachable, the terminal
# redraw, usage.
set -euo pipefail
. "${SIMPKI_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

ctl=$(sp_bin simpkictl) || sp_fail "simpkictl is not built"
forge=$(sp_bin event_forge) || sp_fail "event_forge is not built"
work=$(mktemp -d "${TMPDIR:-/tmp}/simpki-watch.XXXXXX")
sp_on_exit "rm -rf '$work'"
# Event and progress times are printed in local time.
export TZ=UTC

# wait_for FILE REGEX [SECONDS]: until a line of FILE matches.
wait_for() {
	local i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	sp_fail "no line /$2/ in $1 after ${3:-20} s: $(cat "$1")"
}

# produce TOPIC KEY TYPE SUBJECT DATA
produce() {
	"$forge" --type "$3" --subject "$4" --data "$5" | sed "s|^|$2\t|" |
		kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t "$1" -K $'\t'
}

sp_step "usage"
"$ctl" watch --help >"$work/help" || sp_fail "--help failed"
for w in 'Usage: simpkictl watch' '--progress FILE' '--until FILE' \
	'SIMPKI_KAFKA_BOOTSTRAP' 'SIMPKI_DB_URL' 'Exit status'; do
	grep -qF -- "$w" "$work/help" || sp_fail "--help lacks '$w'"
done
"$ctl" --help | grep -q '^  watch ' || sp_fail "simpkictl --help does not list watch"
for args in "--frobnicate" "--interval 0" "--interval soon" "--topic" "stray"; do
	rc=0
	# shellcheck disable=SC2086
	"$ctl" watch $args >"$work/usage.out" 2>"$work/usage.err" || rc=$?
	[ "$rc" -eq 2 ] || sp_fail "watch $args: exit $rc, expected 2"
	[ -s "$work/usage.err" ] || sp_fail "watch $args: no message on stderr"
	[ ! -s "$work/usage.out" ] || sp_fail "watch $args: wrote to stdout"
done

sp_stack_up --without hlr,smtp,kannel

sp_step "events before the start, a message that is not an event"
produce orders batch/ORD-1-B001 batch.released batch/ORD-1-B001 \
	'{"batch_id":"ORD-1-B001","order_id":"ORD-1","quantity":1000}'
produce batches batch/ORD-1-B001 batch.output_accepted batch/ORD-1-B001 \
	'{"batch_id":"ORD-1-B001","order_id":"ORD-1","sims":1000}'
printf 'x\tthis is not an event\n' | kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t batches -K $'\t'
produce batches batch/ORD-1-B001 batch.provisioned batch/ORD-1-B001 \
	'{"batch_id":"ORD-1-B001","sims":1000,"loaded":990,"already_present":4,"failed":6}'

# SIMs per state, in the order of a SIM's life whatever the insert order.
sp_psql "INSERT INTO sims (iccid, imsi, batch_id, kek_id, secrets_enc, state) VALUES
  ('8984010000000000001', 452010000000001, 'ORD-1-B001', 'k', '\\x00', 'in_stock'),
  ('8984010000000000002', 452010000000002, 'ORD-1-B001', 'k', '\\x00', 'in_stock'),
  ('8984010000000000003', 452010000000003, 'ORD-1-B001', 'k', '\\x00', 'produced')"

progress=$work/progress
t0=1795627800000 # 2026-11-25T17:30:00Z
printf '%s\tstack\trun\tstarting the stack\n' "$t0" >"$progress"
printf 'hello world, not a progress line\n' >>"$progress"
printf '%s\tB3 pilot\tinfo\tinput file of the pilot\n' "$((t0 + 50))" >>"$progress"
printf '%s\tstack\tbogus\tbad state\n' "$((t0 + 100))" >>"$progress"
printf '%s\tload\tinfo\thalf a li' "$((t0 + 200))" >>"$progress" # no newline yet

sp_step "watch --plain follows"
until=$work/until
"$ctl" watch --plain --progress "$progress" --until "$until" --interval 0.2 \
	>"$work/out" 2>"$work/err" &
pid=$!
sp_on_exit "kill $pid 2>/dev/null || true"
wait_for "$work/out" '^[0-9:]{8} B6 +batch.provisioned batch/ORD-1-B001$'
wait_for "$work/out" '^17:30:00 \[stack\] run starting the stack$'

# A topic that did not exist when watch started, and the rest of the
# half-written progress line.
produce sims move/M-1 sims.handed_over move/M-1 \
	'{"move_id":"M-1","sims":600,"ctkv":"CTKV1"}'
printf 'ne\n%s\tstack\tok\tstack up\n' "$((t0 + 1500))" >>"$progress"
wait_for "$work/out" '^[0-9:]{8} B7 +sims.handed_over move/M-1$'
wait_for "$work/out" '^17:30:01 \[stack\] ok stack up$'
kill -0 "$pid" 2>/dev/null || sp_fail "watch ended before --until: $(cat "$work/err")"

sp_step "--until reads what was produced before it"
produce connections sim/8984010000000000001 sim.connected sim/8984010000000000001 \
	'{"iccid":"8984010000000000001"}'
touch "$until"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || sp_fail "watch --until: exit $rc: $(cat "$work/err")"

for re in '^[0-9:]{8} B2 +batch.released batch/ORD-1-B001$' \
	'^[0-9:]{8} B4 +batch.output_accepted batch/ORD-1-B001$' \
	'^[0-9:]{8} B9 +sim.connected sim/8984010000000000001$' \
	'^17:30:00 \[load\] info half a line$' \
	'^17:30:00 \[B3 pilot\] info input file of the pilot$'; do
	grep -Eq -- "$re" "$work/out" || sp_fail "no line /$re/: $(cat "$work/out")"
done
n=$(grep -Ec '^[0-9:]{8} [A-Z0-9-]+ +[a-z_.]+ ' "$work/out")
sp_assert_eq "$n" 5 "event lines (each event once)"
! grep -q 'hello world\|bogus' "$work/out" || sp_fail "a garbage progress line was shown"
! grep -q $'\033' "$work/out" || sp_fail "escape codes in --plain output"
# The final table: step, events, SIMs.
for re in '^ B2 +1 +1000 ' '^ B4 +1 +1000 ' '^ B5 +0 +0 ' '^ B6 +1 +994 ' \
	'^ B7 +1 +600 ' '^ B8 +0 +0 ' '^ B9 +1 +1 ' '^ A4 +0 +0 ' \
	'^ stack +ok +1\.5s +stack up$' '^ load +info +- +half a line$' \
	'^ B3 pilot +info +- +input file of the pilot$' \
	'^ produced 1 +in_stock 2$' \
	'total 5 event\(s\) in steps, 0 without a step, 1 unreadable message\(s\), 2 garbage progress line\(s\)'; do
	grep -Eq -- "$re" "$work/out" || sp_fail "final table lacks /$re/: $(cat "$work/out")"
done
grep -q 'B7 .*Bàn giao cho CTKV (handover)' "$work/out" || sp_fail "no Vietnamese label"
grep -q '"msg":"watch: not an event, skipped","topic":"batches"' "$work/err" ||
	sp_fail "the bad message was not reported: $(cat "$work/err")"

sp_step "SIGTERM: the final table, exit 0"
"$ctl" watch --plain --topic sims --topic orders >"$work/term.out" 2>"$work/term.err" &
pid=$!
sp_on_exit "kill $pid 2>/dev/null || true"
wait_for "$work/term.out" 'sims.handed_over move/M-1$'
wait_for "$work/term.out" 'batch.released batch/ORD-1-B001$'
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || sp_fail "SIGTERM: exit $rc"
grep -Eq '^ B7 +1 +600 ' "$work/term.out" || sp_fail "SIGTERM: no final table: $(cat "$work/term.out")"
grep -Eq '^ B4 +0 +0 ' "$work/term.out" || sp_fail "SIGTERM: read a topic it was not given"

sp_step "terminal: the screen is redrawn"
touch "$work/until2" # there already: one screen, then the final one
timeout 60 script -qec "TZ=UTC '$ctl' watch --until '$work/until2' --progress '$progress' --interval 0.1" \
	/dev/null </dev/null >"$work/screen" 2>&1 || sp_fail "terminal mode failed: $(cat "$work/screen")"
for w in $'\033[H' $'\033[J' 'Các bước (steps)' 'Sự kiện gần nhất (last events)' \
	'SIM theo trạng thái (SIMs by state)' 'Tiến trình (progress)' '(final)'; do
	grep -qF -- "$w" "$work/screen" || sp_fail "screen lacks '$w': $(cat -v "$work/screen")"
done
grep -Eq ' B7 +1 +600 ' "$work/screen" || sp_fail "screen: no B7 row: $(cat -v "$work/screen")"
grep -Eq ' stack +ok +1\.5s +stack up' "$work/screen" || sp_fail "screen: no progress row"
grep -Eq 'sims.handed_over +move/M-1' "$work/screen" || sp_fail "screen: no last events"
! grep -q '"level"' "$work/screen" || sp_fail "log lines on the screen: $(cat -v "$work/screen")"
# Within 80 columns.
python3 - "$work/screen" <<'PY' || sp_fail "screen lines longer than 80 columns"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "").split("\n"):
    if len(line) > 80:
        sys.exit("too long: " + line)
PY

sp_step "Kafka unreachable: keeps trying, says so, SIGTERM ends it"
"$ctl" watch --plain --bootstrap 127.0.0.1:1 --until "$work/until3" \
	>"$work/down.out" 2>"$work/down.err" &
pid=$!
sp_on_exit "kill $pid 2>/dev/null || true"
touch "$work/until3"
wait_for "$work/down.err" '"msg":"watch: kafka"'
sleep 1
kill -0 "$pid" 2>/dev/null || sp_fail "watch gave up on an unreachable broker"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || sp_fail "unreachable broker, SIGTERM: exit $rc"
grep -Eq '^ B7 +0 +0 ' "$work/down.out" || sp_fail "unreachable broker: no final table"

sp_step "database unreachable: a line, not the end"
SIMPKI_DB_URL=postgresql://127.0.0.1:1/simpki "$ctl" watch --plain --until "$work/until2" \
	>"$work/nodb.out" 2>"$work/nodb.err" || sp_fail "unreachable database: exit $?"
grep -q '^ database: cannot connect to PostgreSQL' "$work/nodb.out" ||
	sp_fail "no database line: $(cat "$work/nodb.out")"
grep -Eq '^ B7 +1 +600 ' "$work/nodb.out" || sp_fail "unreachable database: no table"

sp_step "ok"
