#!/usr/bin/env bash
# dashboard_check.sh - run by test_dashboard.sh through `deploy/local/run
# --then`, while the run's stack is still up: the operations dashboard from
# the outside. Its page and files; its tokens (401, 403); its counts against
# PostgreSQL; a headless Chromium on the page while further events arrive,
# whose counts must change through the server-sent events without a reload;
# screenshots; a second dashboard rebuilding the same state from the topics.
# Needs the stack's variables, SIMPKI_RUN_DIR, SIMPKI_SOURCE_DIR,
# SIMPKI_BUILD_DIR and DASHBOARD_ARTIFACTS (where the screenshots go).
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
RUN=$SIMPKI_RUN_DIR
ART=${DASHBOARD_ARTIFACTS:?DASHBOARD_ARTIFACTS is not set}
W=$RUN/dashboard-check
mkdir -p "$W" "$ART"
PY=/usr/bin/python3
# shellcheck disable=SC1091
source "$RUN/run/ids"
CTL=$(sp_bin simpkictl)
FORGE=$(sp_bin event_forge)
DASH=$(sp_bin dashboard)
command -v chromium >/dev/null || sp_fail "chromium is not installed (Debian package chromium)"
URL=$(awk '$1 == "dashboard" { print $2 }' "$RUN/run/urls")
[ -n "$URL" ] || sp_fail "no dashboard in $RUN/run/urls"
TOKEN_FILE=$RUN/run/dashboard.token
sp_assert_eq "$(stat -c %a "$TOKEN_FILE")" 600 "the dashboard token file's mode"
TOKEN=$(cat "$TOKEN_FILE")
[ "${#TOKEN}" -eq 64 ] || sp_fail "the dashboard token file does not hold a token"

# status TOKEN PATH [METHOD]: the HTTP status; the body in $W/body. The
# token goes through a config on stdin, never on a command line.
status() {
	{ [ -n "$1" ] && printf 'header = "Authorization: Bearer %s"\n' "$1"; true; } |
		curl -s -K - -o "$W/body" -w '%{http_code}' -X "${3:-GET}" --max-time 20 "$URL$2" || echo 000
}

sp_step "the page and its files need no token; the data does"
sp_assert_eq "$(status "" /)" 200 "GET /"
grep -q "Bảng điều hành" "$W/body" || sp_fail "the page has no Vietnamese title"
grep -q "operations dashboard" "$W/body" || sp_fail "the page has no English term"
grep -Eq 'src="https?://|href="https?://' "$W/body" && sp_fail "the page loads something from outside"
sp_assert_eq "$(status "" /static/dashboard.js)" 200 "GET /static/dashboard.js"
grep -q "EventSource" "$W/body" || sp_fail "the script does not follow the events"
sp_assert_eq "$(status "" /static/dashboard.css)" 200 "GET /static/dashboard.css"
sp_assert_eq "$(status "" /static/nothing.js)" 404 "an unknown file"
sp_assert_eq "$(status "" /api/state)" 401 "no token"
sp_assert_eq "$(status "0000000000000000000000000000000000000000000000000000000000000000" /api/state)" 401 "an unknown token"
SHOP_TOKEN=$("$CTL" user add dash-shop-test --role shop --shop HNI-001)
sp_assert_eq "$(status "$SHOP_TOKEN" /api/state)" 403 "a shop's token"
grep -q '"code":"forbidden"' "$W/body" || sp_fail "403 without its code: $(cat "$W/body")"
sp_assert_eq "$(status "$SHOP_TOKEN" "/api/orders/$ORDER_ID")" 403 "a shop's token, an order"
KHDN_TOKEN=$("$CTL" user add dash-khdn-test --role ban_khdn)
sp_assert_eq "$(status "$KHDN_TOKEN" /api/state)" 200 "Ban KHDN's token"
sp_assert_eq "$(status "$TOKEN" /api/state)" 200 "the auditor's token"
sp_assert_eq "$(status "$TOKEN" /api/state POST)" 405 "read-only"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/api/events?token=nope" || true)
sp_assert_eq "$code" 401 "the event stream with an unknown token"

# The SIMs per state in PostgreSQL and on the dashboard, as one line each.
db_states() {
	sp_psql "SELECT coalesce(string_agg(state || '=' || n, ' ' ORDER BY state), '') FROM (SELECT state, count(*) n FROM sims GROUP BY 1) s"
}
api_states() { # the JSON in $W/body, states with SIMs
	"$PY" -c 'import json,sys
s = json.load(open(sys.argv[1]))["sims"]
print(" ".join("%s=%d" % (k, v) for k, v in sorted(s.items()) if v))' "$W/body"
}

sp_step "the dashboard has read the topics: its counts are the database's"
DB=$(db_states)
[ -n "$DB" ] || sp_fail "no SIMs in the database"
ok=0
for _ in $(seq 1 60); do
	if [ "$(status "$TOKEN" /api/state)" = 200 ] && [ "$(api_states)" = "$DB" ] &&
		"$PY" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["reader"]["caught_up"] else 1)' "$W/body"; then
		ok=1
		break
	fi
	sleep 0.5
done
[ "$ok" = 1 ] || sp_fail "SIMs per state: dashboard '$(api_states)', database '$DB'"
cp "$W/body" "$W/state.json"
# Per batch too, and the A5 cases, the CTKVs, the services.
sp_assert_eq "$("$PY" -c 'import json,sys
s = json.load(open(sys.argv[1]))
out = []
for o in s["orders"]:
    for b in o["batches"]:
        for k, v in sorted(b["counts"].items()):
            if v: out.append("%s:%s=%d" % (b["batch_id"], k, v))
print(" ".join(sorted(out)))' "$W/state.json")" \
	"$(sp_psql "SELECT string_agg(batch_id || ':' || state || '=' || n, ' ' ORDER BY batch_id || ':' || state) FROM (SELECT batch_id, state, count(*) n FROM sims GROUP BY 1, 2) s")" \
	"SIMs per batch and state"
sp_assert_eq "$("$PY" -c 'import json,sys
c = json.load(open(sys.argv[1]))["cases"]
print("closed=%d waiting=%d" % (c["closed"], c["open"] + c["due"] + c["breached"]))' "$W/state.json")" \
	"$(sp_psql "SELECT 'closed=' || count(*) FILTER (WHERE state = 'connected') || ' waiting=' || count(*) FILTER (WHERE state = 'open') FROM connection_cases")" \
	"A5 cases"
sp_assert_eq "$("$PY" -c 'import json,sys
s = json.load(open(sys.argv[1]))
print(" ".join("%s=%d/%d/%d" % (c["ctkv"], c["stock"], c["connected"], c["sold"]) for c in s["ctkv"] if c["stock"] + c["connected"] + c["sold"]))' "$W/state.json")" \
	"$(sp_psql "SELECT string_agg(ctkv_id || '=' || st || '/' || co || '/' || so, ' ' ORDER BY ctkv_id) FROM (SELECT ctkv_id, count(*) FILTER (WHERE state IN ('handed_over', 'in_stock', 'at_shop')) st, count(*) FILTER (WHERE state = 'connected') co, count(*) FILTER (WHERE state IN ('sold', 'delivered')) so FROM sims WHERE ctkv_id IS NOT NULL GROUP BY 1) s")" \
	"stock / connected / sold per CTKV"
"$PY" - "$W/state.json" <<'PY' || sp_fail "the services' health on the dashboard"
import json, sys
s = json.load(open(sys.argv[1]))
names = {v["name"]: v for v in s["services"]}
for n in ("order-intake", "sigverify", "vendor-exchange", "hlr-provisioner", "inventory", "notifier", "accounts"):
    v = names.get(n)
    assert v, "no %s" % n
    assert v["healthy"], "%s: %r" % (n, v)
assert names["inventory"]["outbox_lag"] is not None, names["inventory"]
assert len(s["hlr"]["reports"]) == 2, s["hlr"]["reports"]
PY

sp_step "an order's drill-down: its timeline with who did each step, its A5 cases"
sp_assert_eq "$(status "$TOKEN" "/api/orders/$ORDER_ID")" 200 "GET /api/orders/$ORDER_ID"
"$PY" - "$W/body" <<'PY' || sp_fail "the order's timeline: $(head -c 600 "$W/body")"
import json, sys
o = json.load(open(sys.argv[1]))
tl = o["timeline"]
types = [e["type"] for e in tl]
for t in ("vendor.agreement_recorded", "order.accepted", "batch.released", "batch.input_issued",
          "batch.output_accepted", "batch.provisioned", "vendor.pilot_passed", "sims.handed_over",
          "sims.stocked_in", "sims.transferred", "sim.connected", "sim.sold", "sim.delivered", "case.closed"):
    assert t in types, "no %s in %s" % (t, sorted(set(types)))
assert [e["time"] for e in tl] == sorted(e["time"] for e in tl), "not in time order"
by = {e["type"]: e for e in tl}
assert by["sims.handed_over"]["who"] == "khdn-an", by["sims.handed_over"]
assert by["sims.handed_over"]["label"] == "Bàn giao cho CTKV" and by["sims.handed_over"]["term"] == "handover"
assert by["sims.stocked_in"]["who"].startswith("ctkv"), by["sims.stocked_in"]
assert len(o["cases"]) == 2, o["cases"]
assert all(c["status"] == "closed" and c["deadline"] for c in o["cases"]), o["cases"]
PY
sp_assert_eq "$(status "$TOKEN" /api/orders/ORD-1999-000000)" 404 "an unknown order"

# Five SIMs no batch knows, stocked in at CTKV9, then one of them faulty:
# events only the dashboard looks at (the services ignore these types).
forge_stock() {
	"$FORGE" --type sims.stocked_in --subject range/MV-2099-00000001 \
		--data "{\"move_id\":\"MV-2099-00000001\",\"iccid_first\":\"8984019999999990000\",\"iccid_last\":\"8984019999999990040\",\"sims\":5,\"ctkv\":\"CTKV9\",\"by\":\"dashboard-test\"}"
}
forge_faulty() {
	"$FORGE" --type sim.faulty --subject sim/8984019999999990020 \
		--data '{"iccid":"8984019999999990020","from":"in_stock","reason":"the dashboard test","by":"dashboard-test","ctkv":"CTKV9"}'
}

sp_step "headless Chromium: the page's counts are the database's, and change as events arrive"
IN_STOCK=$(sp_psql "SELECT count(*) FROM sims WHERE state = 'in_stock'")
FAULTY=$(sp_psql "SELECT count(*) FROM sims WHERE state = 'faulty'")
TOTAL=$(sp_psql "SELECT count(*) FROM sims")
declare -f forge_stock forge_faulty >"$W/forge.sh"
# The page stays open (tests/lib/browser.py drives it over the DevTools
# protocol) while the events arrive one after the other; each must reach
# the table through the event stream, without a reload.
FORGE=$FORGE "$PY" "$SIMPKI_SOURCE_DIR/tests/lib/browser.py" --profile "$W/chrome-profile" \
	--url "$URL/#token=$TOKEN" --dom "$W/dom.html" --screenshot "$ART/dashboard.png" \
	--wait-js "document.getElementById('status').getAttribute('data-live') === '1'" \
	--change-js "document.getElementById('state-in_stock').textContent" \
	--step ". '$W/forge.sh' && forge_stock | kcat -P -b '$SIMPKI_KAFKA_BOOTSTRAP' -t sims" \
	--step ". '$W/forge.sh' && forge_faulty | kcat -P -b '$SIMPKI_KAFKA_BOOTSTRAP' -t sims" ||
	sp_fail "the page in headless Chromium did not follow the events (see $W/chrome-profile/chromium.log)"
"$PY" - "$W/dom.html" "$TOTAL" "$IN_STOCK" "$FAULTY" "$DB" <<'PY' || sp_fail "the page in the browser (DOM in $W/dom.html)"
import re, sys, html
dom, total, in_stock, faulty, db = open(sys.argv[1], encoding="utf-8").read(), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
m = re.search(r'<pre id="update-log"[^>]*>(.*?)</pre>', dom, re.S)
assert m, "no update log: the script did not run"
lines = [l for l in html.unescape(m.group(1)).splitlines() if l.strip()]
assert len(lines) >= 3, lines
def counts(line):
    return dict(kv.split("=") for kv in line.split()[1:])
first, last = counts(lines[0]), counts(lines[-1])
# The first state drawn is the database's.
shown = " ".join("%s=%s" % (k, v) for k, v in sorted(first.items()) if k not in ("total", "events") and v != "0")
assert shown == db, "first drawn %s, database %s" % (shown, db)
assert int(first["total"]) == total, (first, total)
# Then, through the event stream (no reload), five SIMs more in stock, and
# one of them faulty.
seen = [counts(l) for l in lines]
assert any(int(c["in_stock"]) == in_stock + 5 and int(c["faulty"]) == faulty for c in seen), lines
assert int(last["in_stock"]) == in_stock + 4 and int(last["faulty"]) == faulty + 1, lines
assert int(last["total"]) == total + 5, lines
assert int(last["events"]) > int(first["events"]), lines
# The table the operator reads says the same.
cell = re.search(r'id="state-in_stock"[^>]*>([^<]*)<', dom)
assert cell and int(re.sub(r"\D", "", cell.group(1))) == in_stock + 4, cell and cell.group(1)
assert 'data-live="1"' in dom, "the page is not following the events"
assert 'data-ctkv="CTKV9" data-series="stock" data-value="4"' in dom, "CTKV9's stock bar"
print("page updates: %d, in_stock %d -> %s, faulty %d -> %s" % (len(lines), in_stock, last["in_stock"], faulty, last["faulty"]), file=sys.stderr)
PY

sp_step "the drill-down of an order, in the browser"
"$PY" "$SIMPKI_SOURCE_DIR/tests/lib/browser.py" --profile "$W/chrome-profile" --height 1600 \
	--url "$URL/#token=$TOKEN&order=$ORDER_ID" --dom "$W/order.html" --screenshot "$ART/dashboard-order.png" \
	--wait-js "document.querySelectorAll('#detail-body .timeline li').length > 10" ||
	sp_fail "the order's drill-down in headless Chromium"
grep -q 'data-type="sims.handed_over"' "$W/order.html" || sp_fail "the drill-down's timeline has no handover"
grep -q "Bàn giao cho CTKV" "$W/order.html" || sp_fail "the drill-down's labels are not in Vietnamese"
for f in "$ART/dashboard.png" "$ART/dashboard-order.png"; do
	[ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -gt 20000 ] || sp_fail "no screenshot $f"
done

sp_step "in the browser, no token or a wrong one shows the sign-in form"
"$PY" "$SIMPKI_SOURCE_DIR/tests/lib/browser.py" --profile "$W/chrome-profile-wrong" --url "$URL/#token=wrong" \
	--wait-js "!document.getElementById('login').hidden && document.getElementById('main').hidden && document.getElementById('login-error').textContent.length > 0" ||
	sp_fail "a wrong token in the page"
"$PY" "$SIMPKI_SOURCE_DIR/tests/lib/browser.py" --profile "$W/chrome-profile-none" --url "$URL/" \
	--wait-js "!document.getElementById('login').hidden && document.getElementById('main').hidden" ||
	sp_fail "the page without a token"
"$DASH" --help | grep -q "auditor or ban_khdn" || sp_fail "dashboard --help"

sp_step "a restart shows the same page: a second dashboard rebuilds it from the topics"
# What does not depend on the time or the order the partitions were read in.
cat >"$W/norm.py" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
if not s["reader"]["caught_up"]:
    sys.exit(1)
for k in ("generated_at", "services", "reader", "hlr", "recent"):
    s.pop(k)
for c in s["cases"]["list"]:
    c.pop("seconds_left", None)
s["cases"]["list"].sort(key=lambda c: c["case_id"])
s["orders"].sort(key=lambda o: o["order_id"])
for o in s["orders"]:
    o["batches"].sort(key=lambda b: b["batch_id"])
s["other_batches"].sort(key=lambda b: b["batch_id"])
s["ctkv"].sort(key=lambda c: c["ctkv"])
out = json.dumps(s, sort_keys=True)
if len(sys.argv) > 2:
    sys.exit(0 if out == open(sys.argv[2]).read() else 1)
print(out, end="")
PY
status "$TOKEN" /api/state >/dev/null
"$PY" "$W/norm.py" "$W/body" >"$W/first.json"
SIMPKI_HTTP_PORT=0 "$DASH" >"$W/second.log" 2>&1 &
second=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*"dashboard started".*"http_port":"\([0-9]*\)".*/\1/p' "$W/second.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { kill "$second"; sp_fail "the second dashboard did not start: $(tail -3 "$W/second.log")"; }
same=0
for _ in $(seq 1 60); do
	{ printf 'header = "Authorization: Bearer %s"\n' "$TOKEN"; } |
		curl -s -K - -o "$W/body2" --max-time 10 "http://127.0.0.1:$port/api/state" || true
	if "$PY" "$W/norm.py" "$W/body2" "$W/first.json" 2>/dev/null; then
		same=1
		break
	fi
	sleep 0.5
done
kill -TERM "$second"
wait "$second" || true
[ "$same" = 1 ] || sp_fail "the second dashboard's state differs (see $W/body2 and $W/first.json)"

echo "ok - dashboard checked" >&2
