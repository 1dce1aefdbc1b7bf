#!/usr/bin/env bash
# The operations dashboard during the end-to-end run: `deploy/local/run
# --once` starts it after the services and prints its URL; through --then,
# dashboard_check.sh checks it from the outside (tokens, counts against
# PostgreSQL, a headless Chromium following the page while events arrive,
# a restart) and leaves screenshots in $SIMPKI_BUILD_DIR/test-artifacts/.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

command -v chromium >/dev/null || sp_fail "chromium is not installed (Debian package chromium, in deploy/local/lib/packages.sh)"
W=$(mktemp -d "${TMPDIR:-/tmp}/simpki-dash.XXXXXX")
chmod 755 "$W"
RUN=$W/stack
sp_on_exit "'$SIMPKI_SOURCE_DIR/deploy/local/stack' down '$RUN' >/dev/null 2>&1; rm -rf '$W'"
_sp_harness_traps
_sp_watchdog "$RUN"
export SIMPKI_RUN_WAIT_S=90
export SIMPKI_RUN_QUANTITY=400
export DASHBOARD_ARTIFACTS=$SIMPKI_BUILD_DIR/test-artifacts

sp_step "deploy/local/run with the dashboard, checked from the outside"
rc=0
"$SIMPKI_SOURCE_DIR/deploy/local/run" --once --no-install --no-build --dir "$RUN" \
	--build-dir "$SIMPKI_BUILD_DIR" \
	--then "bash '$SIMPKI_SOURCE_DIR/tests/integration/dashboard_check.sh'" \
	>"$W/run.out" 2>"$W/run.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -40 "$W/run.err" >&2
	tail -20 "$W/run.out" >&2
	for f in "$RUN"/logs/dashboard.log "$RUN"/dashboard-check/second.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
	done
	sp_fail "deploy/local/run --once exited $rc"
fi
grep -q "ok - dashboard checked" "$W/run.err" || sp_fail "the check did not run to its end"
grep -Eq "^Operations dashboard \(bảng điều hành\): http://127\.0\.0\.1:[0-9]+/$" "$W/run.out" ||
	sp_fail "the run does not print the dashboard's URL"
grep -Eq "^  dashboard http://127\.0\.0\.1:[0-9]+$" "$W/run.out" || sp_fail "the dashboard is not among the services"
grep -q "/run/dashboard.token" "$W/run.out" || sp_fail "the run does not say where the dashboard's token is"
# The token itself is never printed, nor logged.
TOKEN=$(cat "$RUN/run/dashboard.token")
if grep -rF "$TOKEN" "$W/run.out" "$W/run.err" "$RUN/logs" >/dev/null; then
	sp_fail "the dashboard's token was printed or logged"
fi
[ -s "$DASHBOARD_ARTIFACTS/dashboard.png" ] || sp_fail "no screenshot"
for f in "$RUN"/pids/*; do [ -e "$f" ] && sp_fail "a process is still recorded: $f"; done
echo "ok - dashboard (screenshots in $DASHBOARD_ARTIFACTS)" >&2
