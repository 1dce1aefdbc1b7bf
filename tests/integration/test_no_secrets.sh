#!/usr/bin/env bash
# No secret where it does not belong (issue 13, security checks): runs the
# end-to-end scenario (`deploy/local/run --once`) and, while its stack is
# up, no_secrets_check.sh collects every Ki, OPc, transport key, KEK,
# account password, OTP and API token the run generated and scans every
# log line, event, HTTP answer, file left in the work folders (but the
# vendor files and the key stores) and the database's text columns for
# them, in hex and in text: none may be found. Then the run's own stdout
# and stderr, whole, the same way.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-nosecrets.XXXXXX")
chmod 755 "$W"
RUN=$W/stack
sp_on_exit "'$SIMPKI_SOURCE_DIR/deploy/local/stack' down '$RUN' >/dev/null 2>&1; rm -rf '$W'"
_sp_harness_traps
_sp_watchdog "$RUN"
# The vendor simulator's keys, outside the run folder (the scan's list).
export SIMPKI_RUN_REVEAL_KEYS=$W/vendor-keys
export SIMPKI_RUN_WAIT_S=90
# The check's own files (the collected secrets among them), outside too.
export NS_WORK=$W/check
export NS_RUN_OUTPUT="$W/run.out $W/run.err"
mkdir -p "$NS_WORK"

sp_step "the whole pipeline, then every place scanned for the run's secrets"
rc=0
"$SIMPKI_SOURCE_DIR/deploy/local/run" --once --no-install --no-build --dir "$RUN" \
	--build-dir "$SIMPKI_BUILD_DIR" --then "bash '$SIMPKI_SOURCE_DIR/tests/integration/no_secrets_check.sh'" \
	>"$W/run.out" 2>"$W/run.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	# The check prints no secret: its hits name only kind, place, 4 chars.
	grep -E '^(==|FAIL|HIT|secrets:|scanned:|events:|database:)' "$W/run.err" | tail -70 >&2 || true
	tail -5 "$W/run.out" >&2
	sp_fail "deploy/local/run --once with the secrets check exited $rc"
fi
grep -q "ok - no secrets found" "$W/run.err" || sp_fail "the check did not run to its end"
grep -E '^(secrets|events|database|scanned):' "$W/run.err" >&2

sp_step "the run's stdout and stderr, whole"
rc=0
/usr/bin/python3 "$SIMPKI_SOURCE_DIR/tests/lib/scan_secrets.py" scan --secrets "$NS_WORK/secrets" \
	"$W/run.out" "$W/run.err" >"$W/hits.txt" 2>"$W/scan.err" || rc=$?
cat "$W/scan.err" >&2
[ "$rc" -eq 0 ] || sp_fail "secrets in the run's output: $(head -20 "$W/hits.txt")"
for f in "$RUN"/pids/*; do [ -e "$f" ] && sp_fail "a process is still recorded: $f"; done
echo "ok - no secrets" >&2
