#!/usr/bin/env bash
# order-intake end to end on a real stack: BCYCP orders (B1) through the CLI,
# HTTP and the inbound topic; vendors, agreements and pilots (B2); Cục CTS
# notices (A4). Every refused input must give its reason, exit non-zero (or
# 4xx), leave every table as it was, and write exactly one event saying so.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
source "$SIMPKI_SOURCE_DIR/tests/lib/sigverify_pki.sh"

sp_stack_up --without hlr
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
PKI=$SIMPKI_STACK_DIR/pki
sp_svpki_build "$PKI" || sp_fail "cannot build the test PKI"
# sign IN OUT [SIGNER]: a detached DER signature (the officer is "valid").
sign() { sp_svpki_sign "$PKI" "${3:-valid}" "$1" "$2" -certfile "$PKI/sub.pem" -outform DER; }
export SIMPKI_SIG_TRUST_DIR=$PKI/trust SIMPKI_SIG_CRL_DIR=$PKI/crl
export SIMPKI_ORDER_MAX_QUANTITY=100000 SIMPKI_ORDER_MAX_BATCH=400
export SIMPKI_LOG_LEVEL=error SIMPKI_OPERATOR=test-khdn
CTL=$(sp_bin simpkictl)
PY=/usr/bin/python3

# order REF VENDOR QTY [EXTRA_JSON_MEMBERS]: write and sign $W/REF.json.
order() {
	local extra=${4:+, $4}
	cat >"$W/$1.json" <<JSON
{"bcycp_ref": "$1", "issued_on": "2026-11-20", "vendor": "$2", "quantity": $3,
 "profile": "usim_milenage", "contact": {"name": "Nguyễn Văn An", "email": "an@bcy.gov.vn"}$extra}
JSON
	sign "$W/$1.json" "$W/$1.p7s" || sp_fail "cannot sign $1"
}

# Everything a refusal must leave alone.
snapshot() {
	sp_psql "SELECT (SELECT count(*) FROM orders) || '/' || (SELECT count(*) FROM batches)
	  || '/' || (SELECT count(*) FROM order_timeline) || '/' ||
	  (SELECT coalesce(string_agg(vendor_id || ':' || state, ' ' ORDER BY vendor_id), '') FROM vendors)
	  || '/' || (SELECT count(*) FROM registration_notices) || '/' || (SELECT count(*) FROM connection_cases)
	  || '/' || (SELECT count(*) FROM outbox WHERE event_type NOT LIKE '%.rejected')"
}
rejections() { sp_psql "SELECT count(*) FROM outbox WHERE event_type = '$1'"; }
last_rejection_code() {
	sp_psql "SELECT payload::json->'data'->>'code' FROM outbox WHERE event_type = '$1' ORDER BY seq DESC LIMIT 1"
}

# refused EVENT_TYPE CODE REASON_REGEX CMD...: the command must exit 1 with
# the reason on stderr, change nothing, and record one rejection event.
refused() {
	local type=$1 code=$2 reason=$3 before n0 rc=0
	shift 3
	before=$(snapshot)
	n0=$(rejections "$type")
	"$@" >"$W/out" 2>"$W/err" || rc=$?
	sp_assert_eq "$rc" 1 "exit status of: $*"
	grep -Eq -- "$reason" "$W/err" || sp_fail "reason for '$*' should match /$reason/: $(cat "$W/err")"
	grep -q "($code)" "$W/err" || sp_fail "code $code missing: $(cat "$W/err")"
	sp_assert_eq "$(snapshot)" "$before" "tables after refused '$*'"
	sp_assert_eq "$(rejections "$type")" "$((n0 + 1))" "$type events after '$*'"
	sp_assert_eq "$(last_rejection_code "$type")" "$code" "code of the $type event"
	echo "ok   - refused ($code): $*" >&2
}

sp_step "vendors: registry and agreement"
"$CTL" vendor add THALES-VN --name "Thales DIS Việt Nam" >/dev/null
"$CTL" vendor add THALES-VN --name "Thales DIS Việt Nam" >/dev/null # idempotent
"$CTL" vendor add IDEMIA-VN --name "IDEMIA Việt Nam" >/dev/null
"$CTL" vendor add VNPT-TECH --name "VNPT Technology" >/dev/null
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'vendor.registered'")" 3 "vendor.registered events"
rc=0; "$CTL" vendor add THALES-VN --name "Other name" 2>"$W/err" >/dev/null || rc=$?
sp_assert_eq "$rc" 1 "re-adding a vendor under another name"
grep -q "already exists" "$W/err" || sp_fail "vendor conflict reason: $(cat "$W/err")"
rc=0; "$CTL" vendor add thales --name X 2>/dev/null || rc=$?
sp_assert_eq "$rc" 1 "lower-case vendor id"
rc=0; "$CTL" vendor agreement THALES-VN --ref NDA-1 --date 2026-02-30 --signed-by X 2>"$W/err" || rc=$?
sp_assert_eq "$rc" 1 "agreement with an impossible date"
"$CTL" vendor agreement THALES-VN --ref NDA-2026-07 --date 2026-11-01 --signed-by "Ban KHDN" >/dev/null
"$CTL" vendor agreement IDEMIA-VN --ref NDA-2026-08 --date 2026-11-02 --signed-by "Ban KHDN" >/dev/null
rc=0; "$CTL" vendor agreement THALES-VN --ref NDA-X --date 2026-11-01 --signed-by X 2>"$W/err" || rc=$?
sp_assert_eq "$rc" 1 "second agreement"
grep -q "(bad_state)" "$W/err" || sp_fail "second agreement: $(cat "$W/err")"

sp_step "bad orders are refused whole"
order BAD-SCHEMA THALES-VN 10
sed -i 's/"profile": "usim_milenage", //' "$W/BAD-SCHEMA.json"
sign "$W/BAD-SCHEMA.json" "$W/BAD-SCHEMA.p7s"
refused order.rejected bad_document "profile must be" "$CTL" order submit "$W/BAD-SCHEMA.json" --signature "$W/BAD-SCHEMA.p7s"
order BAD-JSON THALES-VN 10
echo '{"bcycp_ref": ' >"$W/BAD-JSON.json"
refused order.rejected bad_document "not valid JSON" "$CTL" order submit "$W/BAD-JSON.json" --signature "$W/BAD-JSON.p7s"
order UNSIGNED THALES-VN 10
: >"$W/empty.p7s"
refused order.rejected bad_signature "not signed" "$CTL" order submit "$W/UNSIGNED.json" --signature "$W/empty.p7s"
before=$(snapshot); rc=0
"$CTL" order submit "$W/UNSIGNED.json" 2>/dev/null || rc=$?
sp_assert_eq "$rc" 2 "order submit without --signature is a usage error"
sp_assert_eq "$(snapshot)" "$before" "tables after an unsigned submit"
order TAMPERED THALES-VN 10
sed -i 's/"quantity": 10/"quantity": 90/' "$W/TAMPERED.json"
refused order.rejected bad_signature "did not pass: TOTAL_FAILED / HASH_FAILURE" "$CTL" order submit "$W/TAMPERED.json" --signature "$W/TAMPERED.p7s"
head -c 200 "$W/UNSIGNED.p7s" >"$W/truncated.p7s"
refused order.rejected bad_signature "did not pass" "$CTL" order submit "$W/UNSIGNED.json" --signature "$W/truncated.p7s"
# A signer from a root BCYCP does not trust.
sign "$W/UNSIGNED.json" "$W/rogue.p7s" stranger
refused order.rejected bad_signature "NO_CERTIFICATE_CHAIN_FOUND" "$CTL" order submit "$W/UNSIGNED.json" --signature "$W/rogue.p7s"
for q in 0 -3 100001; do
	order "QTY$q" THALES-VN "$q"
	refused order.rejected bad_quantity "quantity must be between 1 and 100000, not $q" \
		"$CTL" order submit "$W/QTY$q.json" --signature "$W/QTY$q.p7s"
done
order UNKNOWN-VENDOR NOKIA-SIM 10
refused order.rejected unknown_vendor "NOKIA-SIM is not in the vendor registry" "$CTL" order submit "$W/UNKNOWN-VENDOR.json" --signature "$W/UNKNOWN-VENDOR.p7s"
order NO-NDA VNPT-TECH 10
refused order.rejected no_agreement "no confidentiality agreement" "$CTL" order submit "$W/NO-NDA.json" --signature "$W/NO-NDA.p7s"
for p in 4 11; do
	order "PILOT$p" THALES-VN 100 "\"pilot_quantity\": $p"
	refused order.rejected bad_pilot_size "a pilot has 5 to 10 SIMs, not $p" \
		"$CTL" order submit "$W/PILOT$p.json" --signature "$W/PILOT$p.p7s"
done

sp_step "a new vendor's order: pilot first, production held until it passes"
order BCYCP-2026-0042 THALES-VN 1000 '"pilot_quantity": 7'
"$CTL" order submit "$W/BCYCP-2026-0042.json" --signature "$W/BCYCP-2026-0042.p7s" >"$W/o1.json" 2>/dev/null
OID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["order_id"])' "$W/o1.json")
sp_assert_eq "$(sp_psql "SELECT state FROM orders WHERE order_id = '$OID'")" waiting_pilot "order state"
sp_assert_eq "$(sp_psql "SELECT string_agg(kind || ':' || quantity || ':' || state, ' ' ORDER BY kind, seq) FROM batches WHERE order_id = '$OID'")" \
	"pilot:7:released production:400:held production:400:held production:200:held" "batches of the pilot order"
sp_assert_eq "$(sp_psql "SELECT state FROM vendors WHERE vendor_id = 'THALES-VN'")" pilot_running "vendor after its first order"
# The same document again is the same order; another under the same ref is a conflict.
"$CTL" order submit "$W/BCYCP-2026-0042.json" --signature "$W/BCYCP-2026-0042.p7s" >/dev/null 2>"$W/err"
grep -q "already taken as $OID" "$W/err" || sp_fail "resubmission: $(cat "$W/err")"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM orders WHERE bcycp_ref = 'BCYCP-2026-0042'")" 1 "orders for one reference"
cp "$W/BCYCP-2026-0042.json" "$W/conflict.json"
sed -i 's/"quantity": 1000/"quantity": 1200/' "$W/conflict.json"
sign "$W/conflict.json" "$W/conflict.p7s"
refused order.rejected conflict "already exists for BCYCP reference BCYCP-2026-0042 with another document" \
	"$CTL" order submit "$W/conflict.json" --signature "$W/conflict.p7s"
order SECOND-WHILE-PILOT THALES-VN 50
"$CTL" order submit "$W/SECOND-WHILE-PILOT.json" --signature "$W/SECOND-WHILE-PILOT.p7s" >/dev/null 2>&1
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batches b JOIN orders o USING (order_id) WHERE o.bcycp_ref = 'SECOND-WHILE-PILOT' AND b.state = 'held' AND b.kind = 'production'")" 1 "a second order waits for the same pilot"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batches WHERE vendor_id = 'THALES-VN' AND kind = 'pilot'")" 1 "one pilot per vendor"
rc=0; "$CTL" vendor pilot-pass THALES-VN 2>"$W/err" >/dev/null || rc=$?
sp_assert_eq "$rc" 1 "pilot-pass without evidence"
"$CTL" vendor pilot-pass THALES-VN --evidence "7 pilot SIMs connected 2026-11-24; calls, SMS and signing OK" >"$W/pass.json" 2>/dev/null
sp_assert_eq "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["released_batches"])' "$W/pass.json")" 4 "batches released by the pilot"
sp_assert_eq "$(sp_psql "SELECT string_agg(state, ' ' ORDER BY bcycp_ref) FROM orders WHERE vendor_id = 'THALES-VN'")" "in_production in_production" "orders after the pilot"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batches WHERE vendor_id = 'THALES-VN' AND state = 'held'")" 0 "held batches after the pilot"
sp_assert_eq "$(sp_psql "SELECT state FROM batches WHERE batch_id = '$OID-P1'")" passed "pilot batch"
"$CTL" order show BCYCP-2026-0042 >"$W/show.json"
$PY - "$W/show.json" <<'PYEOF' || sp_fail "order show"
import json, sys
o = json.load(open(sys.argv[1]))
steps = [t["step"] for t in o["timeline"]]
assert steps == ["received", "accepted", "pilot_started", "in_production"], steps
assert o["batches"][0]["kind"] == "pilot", o["batches"][0]
assert o["signature"]["indication"] == "TOTAL_PASSED"
assert "Valid Signer" in o["signature"]["signer"]["subject"], o["signature"]["signer"]
PYEOF
order PILOT6 THALES-VN 100 '"pilot_quantity": 6'
refused order.rejected bad_pilot_size "needs no pilot" "$CTL" order submit "$W/PILOT6.json" --signature "$W/PILOT6.p7s"

sp_step "a connected vendor's order is released at once"
order BCYCP-2026-0043 THALES-VN 1000
"$CTL" order submit "$W/BCYCP-2026-0043.json" --signature "$W/BCYCP-2026-0043.p7s" >/dev/null 2>&1
sp_assert_eq "$(sp_psql "SELECT o.state || ' ' || string_agg(b.quantity || ':' || b.state, ' ' ORDER BY b.seq) FROM orders o JOIN batches b USING (order_id) WHERE o.bcycp_ref = 'BCYCP-2026-0043' GROUP BY o.state")" \
	"in_production 400:released 400:released 200:released" "connected vendor's batches"

sp_step "a failed pilot blocks the vendor and its waiting orders"
order IDEMIA-1 IDEMIA-VN 300
"$CTL" order submit "$W/IDEMIA-1.json" --signature "$W/IDEMIA-1.p7s" >/dev/null 2>&1
"$CTL" vendor pilot-fail IDEMIA-VN --reason "3 of 5 pilot SIMs fail MILENAGE authentication" >/dev/null 2>&1
sp_assert_eq "$(sp_psql "SELECT state || '|' || blocked_reason FROM orders WHERE bcycp_ref = 'IDEMIA-1'")" \
	"blocked|3 of 5 pilot SIMs fail MILENAGE authentication" "order after a failed pilot"
order IDEMIA-2 IDEMIA-VN 300
refused order.rejected vendor_blocked "the vendor is blocked: 3 of 5 pilot SIMs fail MILENAGE" "$CTL" order submit "$W/IDEMIA-2.json" --signature "$W/IDEMIA-2.p7s"
rc=0; "$CTL" vendor pilot-pass IDEMIA-VN --evidence x 2>"$W/err" >/dev/null || rc=$?
sp_assert_eq "$rc" 1 "passing a failed pilot"
grep -q "only a running pilot can be passed; the vendor is blocked" "$W/err" || sp_fail "pilot-pass on blocked: $(cat "$W/err")"

sp_step "Cục CTS notices"
H=agency,full_name,id_number,msisdn,wants_new_number
printf '%s\r\n"Sở Tài chính Hà Nội",Trần Thị Mai,001190000001,0901234567,no\r\nBộ Tư pháp,"Lê ""Minh"" Tuấn",001190000002,,có\r\n' "$H" >"$W/n1.csv"
"$CTL" registration import "$W/n1.csv" --ref CTS-2026-11-001 >"$W/n1.out"
grep -q '"persons": 2, "existing": false' "$W/n1.out" || sp_fail "import: $(cat "$W/n1.out")"
"$CTL" registration import "$W/n1.csv" --ref CTS-2026-11-001 >"$W/n1.out"
grep -q '"existing": true' "$W/n1.out" || sp_fail "reimport: $(cat "$W/n1.out")"
sp_assert_eq "$(sp_psql "SELECT string_agg(full_name || '|' || coalesce(msisdn, '-') || '|' || wants_new_number, ' / ' ORDER BY line_no) FROM connection_cases")" \
	'Trần Thị Mai|84901234567|false / Lê "Minh" Tuấn|-|true' "connection cases"
cat >"$W/n2.json" <<'JSON'
{"notice_ref": "CTS-2026-11-002", "persons": [
 {"agency": "UBND tỉnh Nghệ An", "full_name": "Đỗ Quốc Bảo", "id_number": "040085000123", "msisdn": "+84 936 000 111", "wants_new_number": false}]}
JSON
"$CTL" registration import "$W/n2.json" >/dev/null
sp_assert_eq "$(sp_psql "SELECT msisdn FROM connection_cases WHERE id_number = '040085000123'")" 84936000111 "JSON notice"
# A notice may name each person's region (optional column ctkv).
printf 'agency,full_name,id_number,msisdn,wants_new_number,ctkv\nBộ Y tế,Hoàng Văn Mười,001190000031,,yes,CTKV5\n' >"$W/region.csv"
"$CTL" registration import "$W/region.csv" --ref CTS-2026-11-010 >/dev/null 2>&1 || sp_fail "notice with regions"
sp_assert_eq "$(sp_psql "SELECT ctkv_id FROM connection_cases WHERE id_number = '001190000031'")" CTKV5 "the case's region"
sp_assert_eq "$(sp_psql "SELECT payload::json->'data'->>'ctkv' FROM outbox WHERE event_type = 'case.opened' ORDER BY seq DESC LIMIT 1")" CTKV5 "case.opened names the region"
printf '%s\nA,Phạm Văn C,001190000010,0241234567,no\n' "$H" >"$W/bad-phone.csv"
refused registration.rejected bad_file 'line 2: msisdn: phone number "0241234567" is not a mobile number' \
	"$CTL" registration import "$W/bad-phone.csv" --ref CTS-BAD-1
printf '%s\nA,Phạm Văn C,001190000010,0901111111,no\nA,Phạm Văn D,001190000010,0901111112,no\n' "$H" >"$W/dup.csv"
refused registration.rejected duplicate 'lines 2 and 3 list the same person' \
	"$CTL" registration import "$W/dup.csv" --ref CTS-BAD-2
printf '%s\nA,Phạm Văn E,001190000001,,yes\n' "$H" >"$W/open.csv"
refused registration.rejected duplicate 'already has an open connection case CASE-' \
	"$CTL" registration import "$W/open.csv" --ref CTS-BAD-3
printf '%s\nA,Ph\xe1m V\xe3n F,001190000011,0901111113,no\n' "$H" >"$W/latin.csv"
refused registration.rejected bad_file 'line 2: the file is not UTF-8' \
	"$CTL" registration import "$W/latin.csv" --ref CTS-BAD-4
printf 'agency,full_name,id_number,wants_new_number\nA,B,001190000012,yes\n' >"$W/nocol.csv"
refused registration.rejected bad_file 'the column msisdn is missing' \
	"$CTL" registration import "$W/nocol.csv" --ref CTS-BAD-5
sed -i 's/0241234567/0911234567/' "$W/bad-phone.csv"
refused registration.rejected conflict 'already imported from another file' \
	"$CTL" registration import "$W/bad-phone.csv" --ref CTS-2026-11-001

sp_step "the service: HTTP API, inbound topic, relay"
LOG=$SIMPKI_STACK_DIR/logs/order-intake.log
OI=$(sp_bin order-intake)
"$OI" --help | grep -q "POST /v1/orders" || sp_fail "order-intake --help"
rc=0; "$OI" --bogus 2>/dev/null || rc=$?
sp_assert_eq "$rc" 2 "order-intake with an unknown argument"
rc=0; env -u SIMPKI_SIG_TRUST_DIR "$OI" 2>"$W/start.err" || rc=$?
sp_assert_eq "$rc" 2 "order-intake without trust anchors"
grep -q 'SIMPKI_SIG_TRUST_DIR is not set' "$W/start.err" || sp_fail "start error: $(cat "$W/start.err")"
rc=0; SIMPKI_ORDER_MAX_BATCH=0 "$OI" 2>"$W/start.err" || rc=$?
sp_assert_eq "$rc" 2 "order-intake with a zero batch size"
grep -q 'SIMPKI_ORDER_MAX_BATCH must be between' "$W/start.err" || sp_fail "start error: $(cat "$W/start.err")"
SIMPKI_HTTP_PORT=0 SIMPKI_LOG_LEVEL=info \
	SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500" \
	"$OI" 2>"$LOG" &
SVC=$!
sp_on_exit "kill $SVC 2>/dev/null; wait $SVC 2>/dev/null"
for _ in $(seq 100); do grep -q '"order-intake started"' "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/.*"order-intake started".*"http_port":"\([0-9]*\)".*/\1/p' "$LOG")
[ -n "$PORT" ] || sp_fail "order-intake did not start: $(tail -5 "$LOG")"
URL=http://127.0.0.1:$PORT
b64() { base64 -w0 "$1"; }
order HTTP-1 THALES-VN 100
post_order() { # DOC SIG -> status in $W/status, body in $W/body
	printf '{"document": "%s", "signature": "%s"}' "$(b64 "$1")" "$(b64 "$2")" >"$W/req.json"
	curl -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$W/req.json" "$URL/v1/orders" >"$W/status"
}
post_order "$W/HTTP-1.json" "$W/HTTP-1.p7s"
sp_assert_eq "$(cat "$W/status")" 201 "POST /v1/orders: $(cat "$W/body")"
HID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["order_id"])' "$W/body")
post_order "$W/HTTP-1.json" "$W/HTTP-1.p7s"
sp_assert_eq "$(cat "$W/status")" 200 "POST of the same order again"
# Reads and notices need a user's token (README, "Access"; every role in
# test_access_matrix.sh); the token goes on stdin, not a command line.
T_AUDIT=$("$CTL" user add oi-audit --role auditor 2>/dev/null) || sp_fail "user add oi-audit"
T_CTS=$("$CTL" user add oi-cts --role bcycp 2>/dev/null) || sp_fail "user add oi-cts"
T_KHCN=$("$CTL" user add oi-khcn --role ban_khcn 2>/dev/null) || sp_fail "user add oi-khcn"
with() { # TOKEN CURL_ARGS...: curl with "Authorization: Bearer TOKEN"
	local t=$1
	shift
	printf 'header = "Authorization: Bearer %s"\n' "$t" | curl -K - "$@"
}
sp_assert_eq "$(with "$T_AUDIT" -s -o "$W/body" -w '%{http_code}' "$URL/v1/orders/$HID")" 200 "GET /v1/orders/$HID"
$PY -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["state"]=="in_production" and len(o["batches"])==1, o' "$W/body" || sp_fail "GET body"
sp_assert_eq "$(with "$T_AUDIT" -s -o /dev/null -w '%{http_code}' "$URL/v1/orders/ORD-1999-000001")" 404 "GET an unknown order"
sp_assert_eq "$(curl -s -o "$W/body" -w '%{http_code}' "$URL/v1/orders/$HID")" 401 "GET an order without a token"
grep -q '"code":"no_token"' "$W/body" || sp_fail "GET without a token: $(cat "$W/body")"
sp_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/orders/ORD-1999-000001")" 401 "GET an unknown order without a token (not 404)"
sp_assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/vendors/THALES-VN")" 401 "GET a vendor without a token"
sp_assert_eq "$(with "$T_AUDIT" -s -o "$W/body" -w '%{http_code}' "$URL/v1/vendors/THALES-VN")" 200 "GET /v1/vendors/THALES-VN"
before=$(snapshot)
post_order "$W/TAMPERED.json" "$W/TAMPERED.p7s"
sp_assert_eq "$(cat "$W/status")" 422 "tampered order over HTTP"
$PY -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["code"]=="bad_signature" and "HASH_FAILURE" in b["error"], b' "$W/body" || sp_fail "error body: $(cat "$W/body")"
post_order "$W/QTY0.json" "$W/QTY0.p7s"
sp_assert_eq "$(cat "$W/status")" 422 "quantity 0 over HTTP"
post_order "$W/conflict.json" "$W/conflict.p7s"
sp_assert_eq "$(cat "$W/status")" 409 "conflict over HTTP"
sp_assert_eq "$(curl -s -o "$W/body" -w '%{http_code}' -d 'not json' "$URL/v1/orders")" 400 "garbage body"
sp_assert_eq "$(snapshot)" "$before" "tables after refused HTTP orders"
printf '%s\nBộ Công an,Vũ Thị G,001190000020,0981234567,no\n' "$H" >"$W/n3.csv"
before=$(snapshot)/$(rejections registration.rejected)
sp_assert_eq "$(curl -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$W/n3.csv" "$URL/v1/registrations?ref=CTS-2026-11-003")" 401 "a notice without a token"
sp_assert_eq "$(with "$T_KHCN" -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$W/n3.csv" "$URL/v1/registrations?ref=CTS-2026-11-003")" 403 "a notice from Ban KHCN"
grep -q 'only BCYCP (bcycp) and Ban KHDN (ban_khdn) import notices' "$W/body" || sp_fail "a notice from Ban KHCN: $(cat "$W/body")"
sp_assert_eq "$(snapshot)/$(rejections registration.rejected)" "$before" "tables and events after notices refused their caller"
sp_assert_eq "$(with "$T_CTS" -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$W/n3.csv" "$URL/v1/registrations?ref=CTS-2026-11-003")" 201 "POST /v1/registrations"
sp_assert_eq "$(with "$T_CTS" -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$W/latin.csv" "$URL/v1/registrations?ref=CTS-2026-11-004")" 400 "latin-1 notice over HTTP"
grep -q 'not UTF-8' "$W/body" || sp_fail "notice error body: $(cat "$W/body")"

# BCYCP's automated submission: an order.submitted event on the inbound topic.
order TOPIC-1 THALES-VN 20
FORGE=$(sp_bin event_forge)
DATA=$(printf '{"document": "%s", "signature": "%s"}' "$(b64 "$W/TOPIC-1.json")" "$(b64 "$W/TOPIC-1.p7s")")
"$FORGE" --type order.submitted --subject bcycp/TOPIC-1 --data "$DATA" >"$W/inbound.jsonl"
DATA=$(printf '{"document": "%s", "signature": "%s"}' "$(b64 "$W/TAMPERED.json")" "$(b64 "$W/TAMPERED.p7s")")
"$FORGE" --type order.submitted --subject bcycp/TAMPERED --data "$DATA" >>"$W/inbound.jsonl"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t bcycp.orders.inbound -l "$W/inbound.jsonl"
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM orders WHERE bcycp_ref = 'TOPIC-1'")" = 1 ] &&
		[ "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'order.rejected' AND payload::json->'data'->>'received_via' = 'topic'")" = 1 ] && break
	sleep 0.1
done
sp_assert_eq "$(sp_psql "SELECT received_via FROM orders WHERE bcycp_ref = 'TOPIC-1'")" topic "order from the inbound topic"
sp_assert_eq "$(sp_psql "SELECT payload::json->'data'->>'code' FROM outbox WHERE event_type = 'order.rejected' AND payload::json->'data'->>'received_via' = 'topic'")" bad_signature "tampered order from the topic"

# B9: inventory's sim.connected closes the case it names (the topic sims).
NEWCASE=$(sp_psql "SELECT case_id FROM connection_cases WHERE msisdn IS NULL AND state = 'open' ORDER BY case_id LIMIT 1")
SWAPCASE=$(sp_psql "SELECT case_id FROM connection_cases WHERE msisdn = '84936000111'")
[ -n "$NEWCASE" ] && [ -n "$SWAPCASE" ] || sp_fail "no open cases to close"
connected() { # ICCID MSISDN [CASE]: one sim.connected event
	local extra=${3:+, \"case_id\": \"$3\"}
	"$FORGE" --type sim.connected --subject "sim/$1" \
		--data "{\"iccid\": \"$1\", \"msisdn\": \"$2\", \"ctkv\": \"CTKV1\", \"swap\": false$extra}"
}
{
	connected 8984010000000000011 84912000001 "$NEWCASE"
	connected 8984010000000000029 84936000111 "$SWAPCASE"
	connected 8984010000000000037 84912000002            # a walk-in: no case
	connected 8984010000000000045 84912000003 CASE-2026-999999  # unknown case
} >"$W/sims.jsonl"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims -l "$W/sims.jsonl"
for _ in $(seq 300); do
	[ "$(kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims.dlq -e -q -f '%o\n' 2>/dev/null | wc -l)" -ge 1 ] &&
		[ "$(sp_psql "SELECT count(*) FROM connection_cases WHERE state = 'connected'")" = 2 ] && break
	sleep 0.1
done
sp_assert_eq "$(sp_psql "SELECT state || '|' || msisdn || '|' || (closed_at IS NOT NULL) FROM connection_cases WHERE case_id = '$NEWCASE'")" \
	"connected|84912000001|true" "new-number case after sim.connected (learns its number)"
sp_assert_eq "$(sp_psql "SELECT state FROM connection_cases WHERE case_id = '$SWAPCASE'")" connected "swap case after sim.connected"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM connection_cases WHERE state = 'connected'")" 2 "cases closed"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'case.closed'")" 2 "one case.closed per closed case"
sp_assert_eq "$(sp_psql "SELECT payload::json->'data'->>'iccid' FROM outbox WHERE event_type = 'case.closed' AND subject = 'case/$NEWCASE'")" \
	8984010000000000011 "the first connection closes the case"
kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims.dlq -e -q -f '%h\n' >"$W/sims-dlq.txt"
sp_assert_eq "$(wc -l <"$W/sims-dlq.txt")" 1 "dead-lettered sim.connected"
grep -q 'connection case CASE-2026-999999 does not exist' "$W/sims-dlq.txt" || sp_fail "dead letter reason: $(cat "$W/sims-dlq.txt")"
# The same events again (a redelivery): no case changes, no event repeats.
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims -l "$W/sims.jsonl"
# Events of different SIMs may be taken in any order: the second
# connection of a closed case comes once the first is taken.
connected 8984010000000000052 84912000004 "$NEWCASE" >"$W/marker.jsonl"  # a second connection
connected 8984010000000000060 84912000005 >>"$W/marker.jsonl"   # processed after the replay
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims -l "$W/marker.jsonl"
marker=$($PY -c 'import json,sys; print([json.loads(l)["id"] for l in open(sys.argv[1])][-1])' "$W/marker.jsonl")
second=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$W/marker.jsonl")
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM inbox WHERE event_id = '$marker'")" = 1 ] && break
	sleep 0.1
done
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM inbox WHERE event_id IN ('$marker', '$second')")" = 2 ] && break
	sleep 0.1
done
sp_assert_eq "$(sp_psql "SELECT count(*) FROM inbox WHERE event_id IN ('$marker', '$second')")" 2 "the second connection and the marker taken"
sp_assert_eq "$(sp_psql "SELECT msisdn FROM connection_cases WHERE case_id = '$NEWCASE'")" 84912000001 "a closed case keeps its number after a second connection"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'case.closed'")" 2 "case.closed after a redelivery"
# A refusal is not remembered in the inbox, so that an operator can replay a
# dead letter once its cause is fixed: the redelivered one is refused again.
sp_assert_eq "$(kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sims.dlq -e -q -f '%o\n' | wc -l)" 2 "dead letters after a redelivery"

# Everything written reaches the topics, valid against its schema.
total=$(sp_psql "SELECT count(*) FROM outbox")
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM outbox_pending WHERE producer = 'order-intake'")" = 0 ] && break
	sleep 0.1
done
"$CTL" events dump --topic orders --topic vendors --topic batches --topic registrations >"$W/events.jsonl"
sp_assert_eq "$(wc -l <"$W/events.jsonl")" "$total" "events on the topics"
$PY "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$W/events.jsonl" >&2 || sp_fail "events fail their schemas"
grep -E '0011900000[0-9]{2}|040085000123' "$W/events.jsonl" >&2 && sp_fail "an identity number reached a topic"
kill -TERM "$SVC"
wait "$SVC" || sp_fail "order-intake did not stop cleanly on SIGTERM"
echo "ok - order-intake" >&2
