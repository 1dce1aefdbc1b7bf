#!/usr/bin/env bash
# The access matrix (issue 13): every HTTP endpoint of every service x every
# role and scope x a missing, malformed or empty header, a forged token, a
# disabled user's, an expired one, one about to expire, a renewed one and the
# token it replaced, and one from before tokens expired; each cell checked
# against access_policy.txt, the documented policy (README, "Access"), by
# access_matrix.py, which also checks that every route in the code has a row.
# Bodies are valid and made afresh for each cell, so an allowed cell really
# reaches its 2xx. The checker is shown not to be blind (cells flipped in a
# copy of the table are reported, a route without a row is refused), and a
# token's life is followed through: `simpkictl user add --token-days`,
# `user renew`, and a token accepted until its end and refused as expired
# ("token_expired", not "unknown") a moment later, by each service.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
source "$SIMPKI_SOURCE_DIR/tests/lib/sigverify_pki.sh"
source "$SIMPKI_SOURCE_DIR/tests/lib/batches.sh"

PY=/usr/bin/python3
POLICY=$SIMPKI_SOURCE_DIR/tests/integration/access_policy.txt
MATRIX=$SIMPKI_SOURCE_DIR/tests/integration/access_matrix.py

sp_step "the policy table: complete, and a row for every route in the code"
$PY "$MATRIX" "$POLICY" --check-table --source "$SIMPKI_SOURCE_DIR" >&2 || sp_fail "the policy table is unusable"

sp_stack_up --without hlr
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W/tok"
chmod 700 "$W" "$W/tok"
LOGDIR=$SIMPKI_STACK_DIR/logs
export SIMPKI_LOG_LEVEL=info SIMPKI_ORDER_MAX_BATCH=1000 SIMPKI_OPERATOR=test-admin
for t in orders vendors batches registrations sims connections notifications accounts \
	bcycp.orders.inbound sigverify.requests sigverify.results; do
	sp_broker_ctl "$SIMPKI_STACK_DIR" create "$t" 3 || sp_fail "cannot create topic $t"
done
sp_batches_init "$W/batches"
CTL=$SP_CTL
"$CTL" org load "$SIMPKI_SOURCE_DIR/deploy/local/org.sample.json" >/dev/null || sp_fail "org load"
"$CTL" tariffs load "$SIMPKI_SOURCE_DIR/deploy/local/tariffs.sample.json" >/dev/null || sp_fail "tariffs load"
"$CTL" numbers load "$SIMPKI_SOURCE_DIR/deploy/local/numbers.sample" >/dev/null || sp_fail "numbers load"

sp_step "users, one per role and scope; token life from simpkictl user"
"$CTL" user --help | grep -q -- "--token-days N" || sp_fail "user --help does not name --token-days"
"$CTL" user --help | grep -q "simpkictl user renew USER_ID" || sp_fail "user --help does not name renew"
mkuser() { # COLUMN ARGS...: user m-COLUMN, its token in $W/tok/COLUMN
	local col=$1
	shift
	"$CTL" user add "m-$col" "$@" >"$W/tok/$col" 2>"$W/user.err" || sp_fail "user add m-$col: $(cat "$W/user.err")"
	[[ $(cat "$W/tok/$col") =~ ^[0-9a-f]{64}$ ]] || sp_fail "user add m-$col printed no token"
}
mkuser khdn --role ban_khdn
grep -Eq "^user m-khdn \(ban_khdn\) created; the token above is shown once and is valid until 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \(90 days\)$" "$W/user.err" ||
	sp_fail "user add does not say when the token ends: $(cat "$W/user.err")"
mkuser khcn --role ban_khcn
mkuser tctk --role tt_tctk
mkuser bcycp --role bcycp
mkuser audit --role auditor
mkuser ctkv1 --role ctkv --ctkv CTKV1
mkuser ctkv2 --role ctkv --ctkv CTKV2
mkuser shop1 --role shop --shop HNI-001
mkuser shop1b --role shop --shop HNI-002
mkuser shop2 --role shop --shop HCM-001
mkuser disab --role ban_khdn
mkuser expir --role ban_khdn --token-days 1
mkuser soon --role ban_khdn --token-days 1
mkuser renew --role ban_khdn --token-days 7
mkuser legacy --role ban_khdn
days() { sp_psql "SELECT round(extract(epoch FROM token_expires_at - now()) / 86400, 2) FROM users WHERE user_id = '$1'"; }
sp_assert_eq "$(days m-khdn)" 90.00 "a token's life by default"
sp_assert_eq "$(days m-expir)" 1.00 "--token-days 1"
sp_assert_eq "$(days m-renew)" 7.00 "--token-days 7"
nusers=$(sp_psql "SELECT count(*) FROM users")
for bad in 0 3651 -5 1.5 abc ""; do
	rc=0
	"$CTL" user add m-bad --role auditor --token-days "$bad" >"$W/out" 2>"$W/err" || rc=$?
	sp_assert_eq "$rc" 2 "user add --token-days '$bad'"
	grep -q -- "--token-days must be a whole number of days from 1 to 3650" "$W/err" || sp_fail "reason for '$bad': $(cat "$W/err")"
	[ -s "$W/out" ] && sp_fail "a refused user add printed a token"
done
sp_assert_eq "$(sp_psql "SELECT count(*) FROM users")" "$nusers" "users after refused adds"
# The renewal: a new token, the old one dead at once (the matrix's columns
# renew and old), recorded with who renewed it.
mv "$W/tok/renew" "$W/tok/old"
"$CTL" user renew m-renew --token-days 30 >"$W/tok/renew" 2>"$W/user.err" || sp_fail "user renew: $(cat "$W/user.err")"
[[ $(cat "$W/tok/renew") =~ ^[0-9a-f]{64}$ ]] || sp_fail "user renew printed no token"
cmp -s "$W/tok/renew" "$W/tok/old" && sp_fail "user renew kept the token"
grep -Eq "^user m-renew has a new token \(above, shown once\), valid until 20[0-9-]{8}T[0-9:]{8}Z \(30 days\); the old one no longer works$" "$W/user.err" ||
	sp_fail "user renew's message: $(cat "$W/user.err")"
sp_assert_eq "$(days m-renew)" 30.00 "a renewal's --token-days"
sp_assert_eq "$(sp_psql "SELECT token_renewed_by || '/' || (token_renewed_at IS NOT NULL) FROM users WHERE user_id = 'm-renew'")" "test-admin/true" "who renewed"
sp_psql "UPDATE users SET disabled_at = now() WHERE user_id = 'm-disab'" >/dev/null
refused_renew() { # RC REASON ARGS...
	local want=$1 reason=$2 rc=0
	shift 2
	"$CTL" user renew "$@" >"$W/out" 2>"$W/err" || rc=$?
	sp_assert_eq "$rc" "$want" "user renew $*"
	grep -q -- "$reason" "$W/err" || sp_fail "user renew $*: $(cat "$W/err")"
	[ -s "$W/out" ] && sp_fail "a refused renewal printed a token"
	true
}
refused_renew 1 "refused: no user m-nobody" m-nobody
refused_renew 1 "refused: user m-disab is disabled" m-disab
refused_renew 2 "keeps the user's role and scope" m-khdn --role auditor
refused_renew 2 "from 1 to 3650" m-khdn --token-days 0
refused_renew 2 "Usage: simpkictl user add"
# The other broken credentials, by the database's clock.
sp_psql "UPDATE users SET token_expires_at = now() - interval '1 second' WHERE user_id = 'm-expir'" >/dev/null
sp_psql "UPDATE users SET token_expires_at = now() + interval '1 hour' WHERE user_id = 'm-soon'" >/dev/null
sp_psql "UPDATE users SET token_expires_at = NULL WHERE user_id = 'm-legacy'" >/dev/null # as before 0011
openssl rand -hex 32 >"$W/tok/forged"

sp_step "SIMs in every state the fixtures need"
OID=$(sp_order MATRIX-VN BCYCP-ACCESS-1 300 usim_milenage)
BATCH=$(sp_psql "SELECT batch_id FROM batches WHERE order_id = '$OID' AND kind = 'production' ORDER BY batch_id LIMIT 1")
[ -n "$BATCH" ] || sp_fail "no production batch for $OID"
sp_batch_produce "$BATCH" "$W/keys"
# The HLR side is hlr-provisioner's (its own test): loaded here by hand.
sp_psql "UPDATE sims SET state = 'provisioned' WHERE batch_id = '$BATCH'" >/dev/null
mapfile -t SIM < <(sp_psql "SELECT iccid FROM sims WHERE batch_id = '$BATCH' ORDER BY iccid")
[ "${#SIM[@]}" -eq 300 ] || sp_fail "${#SIM[@]} SIMs in $BATCH"

start() { # NAME [VAR=VALUE...]: started on a free port (stopped with the stack)
	local name=$1 port
	shift
	sp_start_recorded "$SIMPKI_STACK_DIR" "$name" env SIMPKI_HTTP_PORT=0 \
		SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500,fetch.wait.max.ms=50" \
		"$@" "$(sp_bin "$name")" >/dev/null
	for _ in $(seq 300); do
		port=$(sed -n "s/.*\"$name started\".*\"http_port\":\"\([0-9]*\)\".*/\1/p" "$LOGDIR/$name.log" | tail -n1)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || sp_fail "$name did not start: $(tail -5 "$LOGDIR/$name.log")"
	printf '%s http://127.0.0.1:%s\n' "$name" "$port" >>"$W/urls"
}
url() { awk -v s="$1" '$1 == s { print $2 }' "$W/urls"; }
: >"$W/urls"
start inventory
# api COLUMN METHOD SERVICE PATH [JSON]: status in $W/status, body in
# $W/body; the token goes through a config on stdin, never a command line.
api() {
	{ [ -s "$W/tok/$1" ] && printf 'header = "Authorization: Bearer %s"\n' "$(cat "$W/tok/$1")"; true; } |
		curl -K - -s -o "$W/body" -w '%{http_code}' -X "$2" -H 'Content-Type: application/json' \
			${5:+--data-binary "$5"} --max-time 20 "$(url "$3")$4" >"$W/status" || echo 000 >"$W/status"
}
ok() { # WANT WHAT
	sp_assert_eq "$(cat "$W/status")" "$1" "$2: $(head -c 300 "$W/body")"
}
range() { printf '{%s"iccid_first": "%s", "iccid_last": "%s"}' "$1" "${SIM[$2]}" "${SIM[$3]}"; }
# 0-39 provisioned; 40-59 handed over to CTKV1; 60-99 in its stock; 100-139
# at HNI-001; 140-179 connected there; 180-199 sold there.
api khdn POST inventory /v1/handovers "$(range '"ctkv": "CTKV1", "purpose": "customers", ' 40 299)"
ok 201 "setup handover"
api ctkv1 POST inventory /v1/stock-ins "$(range '' 60 299)"
ok 201 "setup stock-in"
api ctkv1 POST inventory /v1/transfers "$(range '"shop": "HNI-001", ' 100 299)"
ok 201 "setup transfer"
FORGE=$(sp_bin event_forge)
: >"$W/answers.jsonl"
for i in $(seq 140 199); do
	api shop1 POST inventory /v1/connections "{\"iccid\": \"${SIM[$i]}\", \"swap\": false, \"package\": \"PKI-1Y\"}"
	ok 202 "setup connection $i"
	read -r req msisdn < <($PY -c 'import json,sys; b=json.load(open(sys.argv[1])); print(b["request_id"], b["msisdn"])' "$W/body")
	[ "$i" -eq 140 ] && CONN=$req
	imsi=$(sp_psql "SELECT imsi FROM sims WHERE iccid = '${SIM[$i]}'")
	prev=$(sp_psql "SELECT payload::json->>'hash' FROM outbox WHERE subject = 'connection/$req' ORDER BY seq DESC LIMIT 1")
	# hlr-provisioner's answer (its own test drives the real HLR).
	"$FORGE" --type connection.hlr_done --subject "connection/$req" --prev "$prev" \
		--data "{\"request_id\": \"$req\", \"iccid\": \"${SIM[$i]}\", \"imsi\": \"$imsi\", \"msisdn\": \"$msisdn\", \"swap\": false, \"old_imsi\": null}" \
		>>"$W/answers.jsonl"
done
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t connections -l "$W/answers.jsonl"
for _ in $(seq 600); do
	[ "$(sp_psql "SELECT count(*) FROM connections WHERE state = 'done'")" = 60 ] && break
	sleep 0.1
done
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE batch_id = '$BATCH' AND state = 'connected'")" 60 "SIMs connected"
for i in $(seq 180 199); do
	api shop1 POST inventory /v1/sales "{\"iccid\": \"${SIM[$i]}\", \"buyer\": {\"name\": \"Người Mua\", \"id_number\": \"001190000997\"}}"
	ok 201 "setup sale $i"
	[ "$i" -eq 180 ] && INVOICE=$($PY -c 'import json,sys; b=json.load(open(sys.argv[1])); print("%s/%s" % (b["series"], b["number"]))' "$W/body")
done
sp_assert_eq "$(sp_psql "SELECT string_agg(state || '=' || n, ' ' ORDER BY state) FROM (SELECT state, count(*) n FROM sims WHERE batch_id = '$BATCH' GROUP BY 1) s")" \
	"at_shop=140 connected=40 handed_over=20 in_stock=40 provisioned=40 sold=20" "the SIMs' states before the matrix"

sp_step "a signed order, an account, and the other services"
cat >"$W/order.json" <<JSON
{"bcycp_ref": "BCYCP-ACCESS-2", "issued_on": "2026-11-20", "vendor": "MATRIX-VN", "quantity": 10,
 "profile": "usim_milenage", "contact": {"name": "Nguyễn Văn An", "email": "an@bcy.gov.vn"}}
JSON
sp_svpki_sign "$SP_BATCH_PKI" valid "$W/order.json" "$W/order.p7s" -certfile "$SP_BATCH_PKI/sub.pem" -outform DER ||
	sp_fail "signing the order"
# An account to log into, its password hashed as secret.c does (scrypt).
openssl rand -hex 12 >"$W/account.pw"
HASH=$($PY -c 'import hashlib,os,sys
pw = open(sys.argv[1]).read().strip().encode(); salt = os.urandom(16)
key = hashlib.scrypt(pw, salt=salt, n=16384, r=8, p=1, maxmem=64 << 20, dklen=32)
print("scrypt$N=16384,r=8,p=1$%s$%s" % (salt.hex(), key.hex()))' "$W/account.pw")
sp_psql "INSERT INTO accounts (login, iccid, password_hash) VALUES ('84900000001', '${SIM[299]}', '$HASH')" >/dev/null
start order-intake
start sigverify
start vendor-exchange
start hlr-provisioner SIMPKI_HLR_CTRL=127.0.0.1:1 # no HLR: "not connected", still healthy
start notifier
start accounts
start dashboard
for _ in $(seq 600); do
	api audit GET dashboard "/api/orders/$OID"
	[ "$(cat "$W/status")" = 200 ] && break
	sleep 0.1
done
ok 200 "the dashboard has read the order"

sp_step "the matrix: every endpoint x every caller"
(
	umask 077
	$PY - "$W" "$OID" "$CONN" "$INVOICE" "${SIM[*]}" >"$W/context.json" <<'PYEOF'
import base64, json, sys
w, oid, conn, invoice, sims = sys.argv[1:6]
sims = sims.split()
cols = ["khdn", "khcn", "tctk", "bcycp", "audit", "ctkv1", "ctkv2", "shop1", "shop1b",
        "shop2", "forged", "disab", "expir", "soon", "renew", "old", "legacy"]
tokens = {c: open("%s/tok/%s" % (w, c)).read().strip() for c in cols}
urls = dict(l.split() for l in open(w + "/urls"))
print(json.dumps({
    "urls": urls, "tokens": tokens,
    "users": {c: "m-" + c for c in cols if c not in ("forged", "old")},
    "order_id": oid, "vendor_id": "MATRIX-VN", "connection_id": conn, "invoice": invoice,
    "notice_prefix": "CTS-ACCESS",
    "order_document_b64": base64.b64encode(open(w + "/order.json", "rb").read()).decode(),
    "order_signature_b64": base64.b64encode(open(w + "/order.p7s", "rb").read()).decode(),
    "account_login": "84900000001", "account_password": open(w + "/account.pw").read().strip(),
    "recovery_login": "84900000002",
    "pools": {"provisioned": sims[0:40], "handed_over": sims[40:60], "in_stock": sims[60:100],
              "at_shop": sims[100:140], "connected": sims[140:180], "sold": sims[180:200]},
}))
PYEOF
)
rc=0
$PY "$MATRIX" "$POLICY" --context "$W/context.json" --source "$SIMPKI_SOURCE_DIR" \
	--report "$W/matrix.json" >"$W/matrix.out" 2>"$W/matrix.err" || rc=$?
cat "$W/matrix.out" "$W/matrix.err" >&2
sp_assert_eq "$rc" 0 "cells not as the policy says (MISMATCH lines above)"
grep -q "^access matrix: 48 endpoints x 20 callers = 960 cells, 960 as the policy says$" "$W/matrix.out" ||
	sp_fail "not every cell was checked: $(head -1 "$W/matrix.out")"
# Allowed writes really happened: one SIM each.
sp_assert_eq "$(sp_psql "SELECT string_agg(kind || '=' || n, ' ' ORDER BY kind) FROM (SELECT kind, count(*) n FROM custody_moves WHERE by_user LIKE 'm-%' AND sims = 1 GROUP BY 1) s")" \
	"handover=4 mark_faulty=6 return=2 stock_in=1 transfer=1 walk_in=2" "the single-SIM moves the matrix made"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM registration_notices WHERE notice_ref LIKE 'CTS-ACCESS-%'")" 5 "notices taken (bcycp, khdn, soon, renew, legacy)"
grep -q '"notice received over HTTP".*"user":"m-bcycp"' "$LOGDIR/order-intake.log" || sp_fail "a notice's sender is not logged"
grep -q '"request refused: token expired".*"user":"m-expir"' "$LOGDIR/inventory.log" || sp_fail "an expired token is not logged with its user"

sp_step "the checker is not blind: flipped cells are reported, a route without a row refused"
# flip FILE 'SERVICE METHOD PATH' COLUMN VALUE: that one cell changed.
flip() {
	$PY - "$1" "$2" "$3" "$4" <<'PYEOF'
import sys
path, row, col, value = sys.argv[1:5]
lines = open(path, encoding="utf-8").read().split("\n")
header = next(l.split() for l in lines if l.startswith("service "))
n = header.index(col)
hits = 0
for i, l in enumerate(lines):
    parts = l.split()
    if not l.startswith("#") and " ".join(parts[:3]) == row:
        parts[n] = value
        lines[i] = " ".join(parts)
        hits += 1
assert hits == 1, (row, hits)
open(path, "w", encoding="utf-8").write("\n".join(lines))
PYEOF
}
cp "$POLICY" "$W/flipped.txt"
flip "$W/flipped.txt" "inventory GET /v1/stock?ctkv=CTKV1" ctkv2 2xx
flip "$W/flipped.txt" "dashboard GET /api/state" expir 2xx
flip "$W/flipped.txt" "order-intake GET /healthz" none 401
rc=0
$PY "$MATRIX" "$W/flipped.txt" --context "$W/context.json" --source "$SIMPKI_SOURCE_DIR" \
	--rows '^(inventory GET /v1/stock\?ctkv=CTKV1|dashboard GET /api/state|order-intake GET /healthz) ' \
	>"$W/flipped.out" 2>"$W/flipped.err" || rc=$?
sp_assert_eq "$rc" 1 "the checker on a table with three cells flipped"
sp_assert_eq "$(grep -c '^MISMATCH' "$W/flipped.err")" 3 "mismatches reported: $(cat "$W/flipped.err")"
grep -q "^MISMATCH inventory GET /v1/stock?ctkv=CTKV1 \[-\] x ctkv2: the policy says 2xx, the service answered 403" "$W/flipped.err" ||
	sp_fail "the flipped stock cell: $(cat "$W/flipped.err")"
grep -q "^MISMATCH dashboard GET /api/state \[-\] x expir: the policy says 2xx, the service answered 401" "$W/flipped.err" ||
	sp_fail "the flipped dashboard cell: $(cat "$W/flipped.err")"
grep -q "^MISMATCH order-intake GET /healthz \[-\] x none: the policy says 401, the service answered 200" "$W/flipped.err" ||
	sp_fail "the flipped healthz cell: $(cat "$W/flipped.err")"
grep -q "^access matrix: 3 endpoints x 20 callers = 60 cells, 57 as the policy says$" "$W/flipped.out" ||
	sp_fail "the flipped run's summary: $(head -1 "$W/flipped.out")"
grep -v "POST /v1/returns" "$POLICY" >"$W/short.txt"
rc=0
$PY "$MATRIX" "$W/short.txt" --check-table --source "$SIMPKI_SOURCE_DIR" 2>"$W/short.err" || rc=$?
sp_assert_eq "$rc" 2 "a table without a route's row"
grep -q "route POST /v1/returns of inventory has no row" "$W/short.err" || sp_fail "the missing row: $(cat "$W/short.err")"

sp_step "a token about to expire works until its end, then is refused as expired; a renewal revives it"
# check COLUMN WANT_STATUS [WANT_CODE]: the same token on the three services
# that take tokens.
check() {
	local what
	for what in "inventory /v1/stock" "order-intake /v1/vendors/MATRIX-VN" "dashboard /api/state"; do
		api "$1" GET ${what}
		ok "$2" "$1's token on $what"
		if [ -n "${3:-}" ]; then
			$PY -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["code"] == sys.argv[2], b' "$W/body" "$3" ||
				sp_fail "$1's token on $what: $(cat "$W/body")"
		fi
	done
}
sp_psql "UPDATE users SET token_expires_at = now() + interval '4 seconds' WHERE user_id = 'm-soon'" >/dev/null
T0=$SECONDS
check soon 200
[ $((SECONDS - T0)) -lt 4 ] || sp_fail "too slow to see the token before its end"
sleep 5
check soon 401 token_expired
grep -q "the token has expired" "$W/body" || sp_fail "the expired token's reason: $(cat "$W/body")"
grep -q "m-soon" "$W/body" && sp_fail "the refusal names the user"
mv "$W/tok/soon" "$W/tok/soon-old"
"$CTL" user renew m-soon >"$W/tok/soon" 2>/dev/null || sp_fail "user renew m-soon"
sp_assert_eq "$(days m-soon)" 90.00 "a renewal's default life"
check soon 200
check soon-old 401 bad_token
check expir 401 token_expired
check forged 401 bad_token

sp_step "no token in a log"
for f in "$W"/tok/*; do
	grep -rqF "$(cat "$f")" "$LOGDIR" && sp_fail "the token of $(basename "$f") is in a log"
done
echo "ok - access matrix" >&2
