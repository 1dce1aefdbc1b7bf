#!/usr/bin/env bash
# test_sigverify_service.sh - the sigverify service on a real stack: signed
# requests forged onto sigverify.requests come back as sig.verify.completed
# on sigverify.results with the right verdicts, valid against their schema;
# a malformed request is dead-lettered; a CRL changed on disk is picked up
# without a restart; /healthz and /metrics answer; SIGTERM stops it cleanly;
# a restart answers nothing twice.
set -euo pipefail
. "${SIMPKI_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$SIMPKI_SOURCE_DIR/tests/lib/sigverify_pki.sh"

SVC=$(sp_bin sigverify) || sp_fail "sigverify is not built"
CTL=$(sp_bin simpkictl) || sp_fail "simpkictl is not built"
FORGE=$(sp_bin event_forge) || sp_fail "event_forge is not built"
sp_stack_up --without hlr
W=$SIMPKI_STACK_DIR/sigverify-test
mkdir -p "$W"
echo "create sigverify.requests 1" >"$SIMPKI_DEVBROKER_CTL"
echo "create sigverify.results 1" >"$SIMPKI_DEVBROKER_CTL"

sp_step "test PKI"
P=$W/pki
sp_svpki_build "$P" || sp_fail "cannot build the test PKI"
printf 'BCYCP order B-2026-0042: 300 SIMs\n' >"$W/doc.txt"
printf 'BCYCP order B-2026-0042: 999 SIMs\n' >"$W/tampered.txt"
sp_svpki_sign "$P" valid "$W/doc.txt" "$W/valid.der" -outform DER -certfile "$P/sub.pem" &&
	sp_svpki_sign "$P" valid "$W/doc.txt" "$W/env.pem" -outform PEM -nodetach -certfile "$P/sub.pem" &&
	sp_svpki_sign "$P" revoked "$W/doc.txt" "$W/revoked.der" -outform DER -certfile "$P/sub.pem" ||
	sp_fail "cannot sign"
b64() { base64 -w0 "$1"; }

# request SUBJECT DATA: one forged sig.verify.requested line; its id in $ID.
request() {
	local line
	line=$("$FORGE" --type sig.verify.requested --subject "$1" --data "$2") || sp_fail "event_forge failed"
	ID=$(printf '%s' "$line" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	printf '%s\n' "$line" >>"$W/requests.jsonl"
}
produce() { kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sigverify.requests -l "$W/requests.jsonl" && : >"$W/requests.jsonl"; }

start_service() {
	SIMPKI_SIG_TRUST_DIR=$P/trust SIMPKI_SIG_CRL_DIR=$P/crl SIMPKI_HTTP_PORT=0 \
		"$SVC" >>"$W/service.log" 2>&1 &
	PID=$!
	sp_on_exit "kill $PID 2>/dev/null || true"
	local t0=$SECONDS
	PORT=
	until [ -n "$PORT" ]; do
		kill -0 "$PID" 2>/dev/null || sp_fail "sigverify exited at start (see $W/service.log)"
		[ $((SECONDS - t0)) -lt 60 ] || sp_fail "sigverify did not start (see $W/service.log)"
		sleep 0.2
		PORT=$(grep '"msg":"sigverify started"' "$W/service.log" | tail -n1 |
			/usr/bin/python3 -c 'import json,sys; l=sys.stdin.read().strip(); print(json.loads(l)["http_port"] if l else "")')
	done
}

stop_service() {
	kill -TERM "$PID"
	local rc=0
	wait "$PID" || rc=$?
	sp_assert_eq "$rc" 0 "sigverify exit status after SIGTERM"
}

results() { "$CTL" events dump --topic sigverify.results 2>/dev/null >"$W/results.jsonl" || true; grep -c . "$W/results.jsonl" || true; }
wait_results() { # N
	local t0=$SECONDS
	until [ "$(results)" -ge "$1" ]; do
		[ $((SECONDS - t0)) -lt 120 ] || sp_fail "only $(results) of $1 results (see $W/service.log)"
		kill -0 "$PID" 2>/dev/null || sp_fail "sigverify died (see $W/service.log)"
		sleep 0.5
	done
}

# verdict ID INDICATION SUB DOCUMENT REF: the result answering request ID.
verdict() {
	/usr/bin/python3 - "$W/results.jsonl" "$@" <<'PY' || sp_fail "result for request $1"
import json, sys
path, rid, ind, sub, doc, ref = sys.argv[1:]
evs = [json.loads(l) for l in open(path) if l.strip()]
mine = [e for e in evs if e["data"]["request_id"] == rid]
assert len(mine) == 1, f"{len(mine)} results for request {rid}"
e = mine[0]
r = e["data"]["report"]
assert e["type"] == "sig.verify.completed", e["type"]
assert e["source"] == "/simpki/sigverify", e["source"]
assert e["subject"] == "sigcheck/" + rid, e["subject"]
assert e["correlationid"] == "order/FORGE", e["correlationid"]
assert e["prevhash"] == "0" * 64
assert (e["data"]["document"], e["data"]["ref"]) == (doc, ref), e["data"]
got = (r["indication"], r["sub_indication"] or "null")
assert got == (ind, sub), f"request {rid}: {got}, expected {(ind, sub)}"
print(f"ok   - {ref}: {ind} {sub}")
PY
}

sp_step "start-up errors"
"$SVC" --help | grep -q 'sig.verify.requested' || sp_fail "--help does not name the request type"
bad_start() { # NAME WANT_LOG env-assignments...: exit status 2 and a reason
	local name=$1 want=$2 rc=0
	shift 2
	env "$@" "$SVC" >"$W/bad.log" 2>&1 || rc=$?
	sp_assert_eq "$rc" 2 "$name: exit status"
	grep -q -- "$want" "$W/bad.log" || sp_fail "$name: log lacks '$want': $(cat "$W/bad.log")"
	echo "ok   - start-up: $name"
}
mkdir -p "$W/empty"
rc=0
"$SVC" --bogus >"$W/bad.log" 2>&1 || rc=$?
sp_assert_eq "$rc" 2 "unknown argument: exit status"
grep -q 'Usage: sigverify' "$W/bad.log" || sp_fail "unknown argument: no usage"
bad_start "no trust folder" "SIMPKI_SIG_TRUST_DIR is not set" -u SIMPKI_SIG_TRUST_DIR
bad_start "empty trust folder" "no certificate in trust folder" SIMPKI_SIG_TRUST_DIR="$W/empty"
bad_start "missing CRL folder" "cannot read CRL folder" SIMPKI_SIG_TRUST_DIR="$P/trust" SIMPKI_SIG_CRL_DIR="$W/nope"
bad_start "bad HTTP port" "SIMPKI_HTTP_PORT" SIMPKI_SIG_TRUST_DIR="$P/trust" SIMPKI_HTTP_PORT=99999

sp_step "requests"
start_service
curl -fsS "http://127.0.0.1:$PORT/healthz" >"$W/healthz.json" || sp_fail "/healthz failed"
grep -q '"status": *"ok"' "$W/healthz.json" || sp_fail "/healthz not ok: $(cat "$W/healthz.json")"
grep -q '1 trust anchor(s), 3 CRL(s)' "$W/healthz.json" || sp_fail "/healthz detail: $(cat "$W/healthz.json")"

request sigreq/1 "{\"document\":\"order\",\"ref\":\"R-valid\",\"content_b64\":\"$(b64 "$W/doc.txt")\",\"signature_b64\":\"$(b64 "$W/valid.der")\"}"
id_valid=$ID
request sigreq/2 "{\"document\":\"order\",\"ref\":\"R-tampered\",\"content_b64\":\"$(b64 "$W/tampered.txt")\",\"signature_b64\":\"$(b64 "$W/valid.der")\"}"
id_tampered=$ID
request sigreq/3 "{\"document\":\"registration\",\"ref\":\"R-enveloping\",\"signature_b64\":\"$(b64 "$W/env.pem")\"}"
id_env=$ID
request sigreq/4 "{\"document\":\"order\",\"ref\":\"R-badb64\",\"content_b64\":\"$(b64 "$W/doc.txt")\",\"signature_b64\":\"not*base64\"}"
id_bad64=$ID
request sigreq/5 "{\"document\":\"order\",\"content_b64\":\"$(b64 "$W/doc.txt")\",\"signature_b64\":\"$(b64 "$W/valid.der")\"}"
request sigreq/6 "{\"document\":\"order\",\"ref\":\"R-revoked\",\"content_b64\":\"$(b64 "$W/doc.txt")\",\"signature_b64\":\"$(b64 "$W/revoked.der")\"}"
id_revoked=$ID
produce || sp_fail "kcat produce failed"
wait_results 5
verdict "$id_valid" TOTAL_PASSED null order R-valid
verdict "$id_tampered" TOTAL_FAILED HASH_FAILURE order R-tampered
verdict "$id_env" TOTAL_PASSED null registration R-enveloping
verdict "$id_bad64" TOTAL_FAILED FORMAT_FAILURE order R-badb64
verdict "$id_revoked" TOTAL_FAILED REVOKED order R-revoked

sp_step "malformed request is dead-lettered"
t0=$SECONDS
until kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t sigverify.requests.dlq -e -q -f '%h\n' >"$W/dlq.txt" 2>/dev/null &&
	grep -q 'data.document, data.ref and data.signature_b64 must be non-empty strings' "$W/dlq.txt"; do
	[ $((SECONDS - t0)) -lt 60 ] || sp_fail "no dead letter for the request without ref"
	sleep 0.5
done
sp_assert_eq "$(grep -c . "$W/dlq.txt")" 1 "dead letters"
echo "ok   - request without ref dead-lettered with its reason"

sp_step "a CRL changed on disk is read again"
sleep 1 # the revocation must come after the signature's signing time
_sp_svpki_ossl ca -config "$P/sub/ca.cnf" -revoke "$P/valid.pem" && sp_svpki_crls "$P" ||
	sp_fail "cannot revoke"
request sigreq/7 "{\"document\":\"order\",\"ref\":\"R-revoked-later\",\"content_b64\":\"$(b64 "$W/doc.txt")\",\"signature_b64\":\"$(b64 "$W/valid.der")\"}"
id_later=$ID
produce || sp_fail "kcat produce failed"
wait_results 6
# Revoked after the time it claims to be signed: ETSI cannot tell without a
# proof of existence.
verdict "$id_later" INDETERMINATE REVOKED_NO_POE order R-revoked-later

sp_step "schemas, metrics, stop"
/usr/bin/python3 "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$W/results.jsonl" ||
	sp_fail "results do not match their schema"
"$FORGE" --type sig.verify.requested --subject sigreq/x --data \
	"{\"document\":\"order\",\"ref\":\"R\",\"content_b64\":\"QQ==\",\"signature_b64\":\"QQ==\"}" >"$W/req-sample.jsonl"
/usr/bin/python3 "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$W/req-sample.jsonl" ||
	sp_fail "a request does not match its schema"
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$W/metrics.txt" || sp_fail "/metrics failed"
grep -qx 'sigverify_checks_total{indication="TOTAL_PASSED"} 2' "$W/metrics.txt" || sp_fail "metrics: passed count"
grep -qx 'sigverify_checks_total{indication="TOTAL_FAILED"} 3' "$W/metrics.txt" || sp_fail "metrics: failed count"
grep -qx 'sigverify_checks_total{indication="INDETERMINATE"} 1' "$W/metrics.txt" || sp_fail "metrics: indeterminate count"
grep -qx 'sigverify_requests_rejected_total 1' "$W/metrics.txt" || sp_fail "metrics: rejected count"
echo "ok   - /metrics counts the verdicts"
if grep -q 'PRIVATE KEY\|BEGIN' "$W/service.log" "$W/results.jsonl"; then
	sp_fail "key material or PEM in the log or the results"
fi
stop_service
echo "ok   - SIGTERM stops it cleanly"

# A restart re-reads nothing it already answered (inbox), so no new result.
start_service
sleep 3
sp_assert_eq "$(results)" 6 "results after a restart"
stop_service
echo "test_sigverify_service: all passed"
