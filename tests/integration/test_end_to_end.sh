#!/usr/bin/env bash
# The README's first command, end to end: `deploy/local/run --once` drives
# the whole pipeline (A4, B1-B11 for a pilot and a production batch) on a
# stack and services of its own, and end_to_end_check.sh asserts the final
# state from the outside before the stack goes down. Then a run that breaks
# at B9 (hlr-provisioner dies mid-swap) must fail naming that step, and
# a run in the same folder again must start afresh.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-e2e.XXXXXX")
chmod 755 "$W"
RUN=$W/stack
# The run keeps its folder for its files; the test removes it.
sp_on_exit "'$SIMPKI_SOURCE_DIR/deploy/local/stack' down '$RUN' >/dev/null 2>&1; rm -rf '$W'"
_sp_harness_traps
_sp_watchdog "$RUN"
export SIMPKI_RUN_REVEAL_KEYS=$W/vendor-keys
# Services slowed by the sanitizers still answer well within this.
export SIMPKI_RUN_WAIT_S=90
RUNCMD=("$SIMPKI_SOURCE_DIR/deploy/local/run" --once --no-install --no-build --dir "$RUN"
	--build-dir "$SIMPKI_BUILD_DIR")

sp_step "deploy/local/run --help and a bad argument"
"${RUNCMD[0]}" --help | grep -q -- "--once" || sp_fail "run --help"
rc=0; "${RUNCMD[0]}" --bogus >/dev/null 2>"$W/err" || rc=$?
sp_assert_eq "$rc" 2 "run --bogus"
grep -q "unknown argument '--bogus'" "$W/err" || sp_fail "run --bogus: $(cat "$W/err")"
rc=0; SIMPKI_RUN_QUANTITY=12 "${RUNCMD[0]}" --once --no-install --no-build --dir "$RUN" >/dev/null 2>"$W/err" || rc=$?
sp_assert_eq "$rc" 2 "a production batch too small for the scenario"
[ ! -e "$RUN" ] || sp_fail "a refused run created $RUN"

sp_step "the whole pipeline, checked from the outside"
rc=0
"${RUNCMD[@]}" --then "bash '$SIMPKI_SOURCE_DIR/tests/integration/end_to_end_check.sh'" \
	>"$W/run.out" 2>"$W/run.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -40 "$W/run.err" >&2
	tail -30 "$W/run.out" >&2
	sp_fail "deploy/local/run --once exited $rc"
fi
grep -q "ok - end-to-end state checked" "$W/run.err" || sp_fail "the check did not run to its end"
# The live view, one line per event and per step (stdout is not a terminal).
for t in case.opened order.accepted batch.input_issued batch.provisioned sims.handed_over sim.connected sim.delivered; do
	grep -q " $t " "$W/run.out" || sp_fail "the live view did not show a $t event"
done
grep -q "B9" "$W/run.out" || sp_fail "the live view did not show step B9"
grep -q "^simpki local run: done" "$W/run.out" || sp_fail "summary: $(grep 'simpki local run' "$W/run.out")"
grep -Eq "^  ok +B5 +[0-9.]+s +[0-9]+ loaded" "$W/run.out" || sp_fail "time per step in the summary"
grep -q "invoice .*/out/invoices/1C26TK1-0000001.html" "$W/run.out" || sp_fail "the summary does not point to the invoices"
grep -q "e-mails received (SMTP) .*(9 messages)" "$W/run.out" || sp_fail "the summary's e-mail count: $(grep e-mails "$W/run.out")"
grep -Eq "^  inventory http://127.0.0.1:[0-9]+$" "$W/run.out" || sp_fail "the summary does not give the services' URLs"
[ -f "$RUN/out/summary.txt" ] || sp_fail "no summary.txt"
# Nothing secret on the screen: no key the vendor revealed, no token.
cut -d' ' -f2 "$W"/vendor-keys.* | sort -u >"$W/kis"
if grep -F -f "$W/kis" "$W/run.out" "$W/run.err" >/dev/null; then sp_fail "a Ki reached the run's output"; fi
for f in "$RUN"/pids/*; do [ -e "$f" ] && sp_fail "a process is still recorded: $f"; done

sp_step "a run that breaks at B9 fails naming the step, and leaves nothing running"
rm -f "$W"/vendor-keys.*
rc=0
SIMPKI_RUN_QUANTITY=400 SIMPKI_RUN_WAIT_S=15 SIMPKI_FAILPOINT=connect.after_clear_old \
	"${RUNCMD[@]}" >"$W/run2.out" 2>"$W/run2.err" || rc=$?
sp_assert_eq "$rc" 1 "a run whose hlr-provisioner dies mid-swap"
grep -q "the run failed at step B9" "$W/run2.err" || sp_fail "the failing step is not named: $(tail -5 "$W/run2.err")"
grep -q "^simpki local run: FAILED at B9: timed out after 15s waiting for connection" "$W/run2.out" ||
	sp_fail "summary of the failed run: $(grep 'simpki local run' "$W/run2.out")"
for f in "$RUN"/pids/*; do [ -e "$f" ] && sp_fail "a process is still recorded: $f"; done
[ -s "$RUN/out/summary.txt" ] || sp_fail "the failed run's files are not kept"
echo "ok - end to end" >&2
