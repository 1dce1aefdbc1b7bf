#!/usr/bin/env bash
# test_chaos.sh - the chaos run's short form (tests/chaos/run --short): the
# local pipeline with a 2,000-SIM batch while every service is SIGKILLed
# and started again, a broker and then all brokers go down, PostgreSQL is
# restarted and killed, OsmoHLR killed, the SMTP sink and Kannel stopped;
# then exactly once is checked from the outside. In the sanitizer build
# (ctest of build-asan) the services run under LeakSanitizer and their logs
# must hold no report once they stopped on SIGTERM.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-chaos.XXXXXX")
chmod 755 "$W"
RUN=$W/run
sp_on_exit "'$SIMPKI_SOURCE_DIR/deploy/local/stack' down '$RUN/stack' >/dev/null 2>&1; [ \"\${SIMPKI_KEEP_STACK:-0}\" = 1 ] || rm -rf '$W'"
_sp_harness_traps
_sp_watchdog "$RUN/stack"
CHAOS=$SIMPKI_SOURCE_DIR/tests/chaos/run

sp_step "tests/chaos/run --help and a bad argument"
"$CHAOS" --help | grep -q -- "--long" || sp_fail "chaos --help"
rc=0; "$CHAOS" --bogus >/dev/null 2>"$W/err" || rc=$?
sp_assert_eq "$rc" 2 "chaos --bogus"
rc=0; "$CHAOS" --sims 12 --dir "$RUN" >/dev/null 2>"$W/err" || rc=$?
sp_assert_eq "$rc" 2 "a batch too small for the scenario"

sp_step "the short form"
rc=0
"$CHAOS" --short --dir "$RUN" --build-dir "$SIMPKI_BUILD_DIR" --report "$W/report.kv" \
	>"$W/out" 2>"$W/err" || rc=$?
cat "$W/out" >&2
if [ "$rc" -ne 0 ]; then
	tail -30 "$W/err" >&2
	grep -E '^(FAIL|finding)' "$RUN/check.log" 2>/dev/null | head -20 >&2
	# Keep what tells why.
	mkdir -p "$SIMPKI_BUILD_DIR/test-artifacts/chaos"
	cp -r "$RUN/chaos.log" "$RUN/driver.log" "$RUN/check.log" "$RUN/report.txt" "$RUN/stack/logs" \
		"$SIMPKI_BUILD_DIR/test-artifacts/chaos/" 2>/dev/null || true
	sp_fail "tests/chaos/run --short exited $rc (logs in $SIMPKI_BUILD_DIR/test-artifacts/chaos)"
fi
kv() { sed -n "s/^$1=//p" "$W/report.kv"; }
sp_assert_eq "$(kv result)" pass "result"
sp_assert_eq "$(kv duplicates)" 0 "duplicates found"
sp_assert_eq "$(kv missing)" 0 "missing"
sp_assert_eq "$(kv crashes)" 0 "processes that died by themselves"
sp_assert_eq "$(kv sanitizer_reports)" 0 "sanitizer reports"
[ "$(kv kills_survived)" -ge 8 ] || sp_fail "kills survived: $(kv kills_survived)"
for s in order-intake sigverify vendor-exchange hlr-provisioner inventory notifier accounts dashboard; do
	[ "$(kv "kills.$s")" -ge 1 ] || sp_fail "$s was not killed"
done
for f in broker_one broker_all pg_restart pg_kill hlr_kill smtp kannel; do
	[ "$(kv "faults.$f")" -ge 1 ] || sp_fail "no $f fault"
	[ -n "$(kv "recover_s.$f.max")" ] || sp_fail "no recovery time for $f"
done
echo "ok - chaos, short form ($(kv wall_s) s)" >&2
