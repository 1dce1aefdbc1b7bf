#!/usr/bin/env bash
# test_events_dump.sh - `simpkictl events dump` against the dev broker:
# every message of several topics and partitions, once, in partition
# order, and nothing produced after the start; repeatable (no commits);
# clear failures.
set -euo pipefail
. "${SIMPKI_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

ctl=$(sp_bin simpkictl) || sp_fail "simpkictl is not built"
export SIMPKI_DEVBROKER_TOPICS="ev.a:3 ev.b:2 ev.empty:1"
sp_stack_up --without pg,hlr
work=$(mktemp -d "${TMPDIR:-/tmp}/simpki-dump.XXXXXX")
sp_on_exit "rm -rf '$work'"

sp_step "producing"
for i in $(seq 1 30); do
	printf 'k%d:{"topic":"ev.a","key":"k%d","n":%d}\n' $((i % 4)) $((i % 4)) "$i"
done >"$work/a.in"
for i in $(seq 1 5); do
	printf 'b:{"topic":"ev.b","key":"b","n":%d}\n' "$i"
done >"$work/b.in"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t ev.a -K: -l "$work/a.in"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t ev.b -K: -l "$work/b.in"
cut -d: -f2- "$work/a.in" "$work/b.in" | sort >"$work/expected"

sp_step "dump"
"$ctl" events dump --topic ev.a --topic ev.b --topic ev.empty --timeout-ms 10000 \
	>"$work/out1" 2>"$work/err1" || sp_fail "dump failed: $(cat "$work/err1")"
sort "$work/out1" | diff -u "$work/expected" - || sp_fail "dump output differs"
# Per key (one partition each) the order is the produce order.
for k in k0 k1 k2 k3 b; do
	grep "\"key\":\"$k\"" "$work/out1" | sed 's/.*"n":\([0-9]*\)}/\1/' >"$work/got.$k"
	sort -n "$work/got.$k" | diff -q - "$work/got.$k" >/dev/null ||
		sp_fail "key $k out of order: $(tr '\n' ' ' <"$work/got.$k")"
done
grep -q '"msg":"events dumped","count":"35"' "$work/err1" || sp_fail "summary log: $(cat "$work/err1")"

sp_step "dump again: the same (nothing was committed)"
"$ctl" events dump --topic ev.b --topic ev.a >"$work/out2" 2>"$work/err2" ||
	sp_fail "second dump failed: $(cat "$work/err2")"
sort "$work/out2" | diff -u "$work/expected" - || sp_fail "second dump differs"

sp_step "errors"
rc=0
"$ctl" events dump --topic ev.a --bootstrap 127.0.0.1:1 --timeout-ms 1000 \
	>"$work/out3" 2>"$work/err3" || rc=$?
[ "$rc" -eq 1 ] || sp_fail "unreachable broker: exit $rc"
grep -q '"msg":"events dump failed"' "$work/err3" || sp_fail "no error: $(cat "$work/err3")"
[ ! -s "$work/out3" ] || sp_fail "unreachable broker printed events"
rc=0
"$ctl" events dump >/dev/null 2>"$work/err4" || rc=$?
[ "$rc" -eq 2 ] || sp_fail "missing --topic: exit $rc"
grep -q -- '--topic is required' "$work/err4" || sp_fail "missing --topic: $(cat "$work/err4")"
for t in 0 -5 10s "" " 5" +5 99999999999999999999; do
	rc=0
	"$ctl" events dump --topic ev.a --timeout-ms "$t" >"$work/out5" 2>"$work/err5" || rc=$?
	[ "$rc" -eq 2 ] || sp_fail "--timeout-ms '$t': exit $rc"
	grep -q -- "--timeout-ms must be a number of milliseconds between 1 and 86400000, not \"$t\"" "$work/err5" ||
		sp_fail "--timeout-ms '$t': $(cat "$work/err5")"
	[ ! -s "$work/out5" ] || sp_fail "--timeout-ms '$t' printed events"
done

sp_step "ok"
