#!/usr/bin/env bash
# test_db_restart.sh - a service answers again once PostgreSQL is back from
# a restart (found by tests/chaos: the token check read through a connection
# the restart had broken, and nothing reconnected it, so inventory, the
# dashboard and order-intake's notice import answered 503 until they were
# restarted themselves). Requests may fail while the server is away; a few
# seconds after it is back they must succeed again, with no restart.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
source "$SIMPKI_SOURCE_DIR/deploy/local/lib/pg.sh"

sp_stack_up --without hlr,smtp,kannel
CTL=$(sp_bin simpkictl)
LOGS=$SIMPKI_STACK_DIR/logs

sp_step "inventory and the dashboard, and a user"
"$CTL" org load "$SIMPKI_SOURCE_DIR/deploy/local/org.sample.json" >/dev/null
TOKEN=$("$CTL" user add khdn-db --role ban_khdn)
start() { # NAME: started, port in PORT_<name>
	local name=$1 bin port
	bin=$(sp_bin "$name")
	SIMPKI_HTTP_PORT=0 "$bin" >>"$LOGS/$name.log" 2>&1 &
	sp_on_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	for _ in $(seq 300); do
		port=$(sed -n "s/.*\"$name started\".*\"http_port\":\"\([0-9]*\)\".*/\1/p" "$LOGS/$name.log")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || sp_fail "$name did not start: $(tail -5 "$LOGS/$name.log")"
	printf -v "PORT_${name//-/_}" '%s' "$port"
}
start inventory
start dashboard
get() { # URL: the status of an authenticated GET
	printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" |
		curl -K - -s -o /dev/null -w '%{http_code}' --max-time 10 "$1" || true
}
INV=http://127.0.0.1:$PORT_inventory/v1/reports/reconcile
DASH=http://127.0.0.1:$PORT_dashboard/api/state
sp_assert_eq "$(get "$INV")" 200 "inventory before the restart"
sp_assert_eq "$(get "$DASH")" 200 "the dashboard before the restart"

for how in restart kill; do
	sp_step "PostgreSQL: $how"
	if [ "$how" = restart ]; then
		sp_pg_restart "$SIMPKI_STACK_DIR" || sp_fail "pg restart"
	else
		sp_pg_kill "$SIMPKI_STACK_DIR" || sp_fail "pg kill"
		sp_pg_start "$SIMPKI_STACK_DIR" || sp_fail "pg start after the kill"
	fi
	for url in "$INV" "$DASH"; do
		ok=0
		for _ in $(seq 40); do
			[ "$(get "$url")" = 200 ] && { ok=1; break; }
			sleep 0.25
		done
		[ "$ok" -eq 1 ] || sp_fail "$url still refused 10 s after PostgreSQL's $how: $(get "$url")"
	done
	for p in "$PORT_inventory" "$PORT_dashboard"; do
		sp_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/healthz")" 200 "/healthz after the $how"
	done
done
echo "ok - the services answer again after PostgreSQL's restart and crash" >&2
