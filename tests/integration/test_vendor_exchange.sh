#!/usr/bin/env bash
# vendor-exchange on a real stack (B3, B4): numbers and input files for
# released batches, vendor output files judged whole (every defect the
# simulator can inject, and more), keys only ever stored under the KEK, and
# the service doing it all from the topics and the vendors' folders.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
source "$SIMPKI_SOURCE_DIR/tests/lib/sigverify_pki.sh"

sp_stack_up --without hlr
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
CTL=$(sp_bin simpkictl)
PY=/usr/bin/python3
export SIMPKI_LOG_LEVEL=warn SIMPKI_OPERATOR=test-khcn
export SIMPKI_ORDER_MAX_BATCH=1000
export SIMPKI_VENDOR_DIR=$SIMPKI_STACK_DIR/vendors
export SIMPKI_TRANSPORT_KEY_DIR=$SIMPKI_STACK_DIR/transport-keys
export SIMPKI_KEK_FILE=$SIMPKI_STACK_DIR/kek/keys
mkdir -p "$SIMPKI_TRANSPORT_KEY_DIR" "$(dirname "$SIMPKI_KEK_FILE")"
chmod 700 "$SIMPKI_TRANSPORT_KEY_DIR" "$(dirname "$SIMPKI_KEK_FILE")"
LOGS=$W/all-output.log # every stdout/stderr line of this test, grepped for keys
run() { "$@" 2>>"$LOGS" | tee -a "$LOGS"; return "${PIPESTATUS[0]}"; }

sp_step "keys, numbering, a connected vendor with a released order"
run "$CTL" kek new --id kek-test-1 --file "$SIMPKI_KEK_FILE" >/dev/null
TK=$SIMPKI_TRANSPORT_KEY_DIR/THALES-VN.key
openssl rand -hex 32 >"$TK"
chmod 600 "$TK"
run "$CTL" numbering load "$SIMPKI_SOURCE_DIR/deploy/local/numbering.sample" >/dev/null
PKI=$SIMPKI_STACK_DIR/pki
sp_svpki_build "$PKI" || sp_fail "test PKI"
export SIMPKI_SIG_TRUST_DIR=$PKI/trust SIMPKI_SIG_CRL_DIR=$PKI/crl
run "$CTL" vendor add THALES-VN --name "Thales DIS Việt Nam" >/dev/null
run "$CTL" vendor agreement THALES-VN --ref NDA-1 --date 2026-11-01 --signed-by "Ban KHDN" >/dev/null
cat >"$W/order.json" <<'JSON'
{"bcycp_ref": "BCYCP-VX-1", "issued_on": "2026-11-20", "vendor": "THALES-VN", "quantity": 2000,
 "profile": "usim_milenage", "pilot_quantity": 5, "contact": {"name": "A", "email": "a@bcy.gov.vn"}}
JSON
sp_svpki_sign "$PKI" valid "$W/order.json" "$W/order.p7s" -certfile "$PKI/sub.pem" -outform DER
run "$CTL" order submit "$W/order.json" --signature "$W/order.p7s" >/dev/null
run "$CTL" vendor pilot-pass THALES-VN --evidence "pilot fine" >/dev/null
OID=$(sp_psql "SELECT order_id FROM orders WHERE bcycp_ref = 'BCYCP-VX-1'")
PILOT=$OID-P1 B1=$OID-B001 B2=$OID-B002

sp_step "B3: numbers and the input file"
rc=0; run "$CTL" vendor input "$OID-B009" >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "input file for a batch that does not exist"
run "$CTL" vendor input "$PILOT" >"$W/in1.json"
IN=$SIMPKI_VENDOR_DIR/THALES-VN/outgoing/$PILOT.inp
[ -f "$IN" ] || sp_fail "no input file at $IN"
SHA=$(sha256sum "$IN" | cut -d' ' -f1)
grep -q "\"sha256\": \"$SHA\"" "$W/in1.json" || sp_fail "input sha: $(cat "$W/in1.json")"
run "$CTL" vendor input "$PILOT" >"$W/in2.json"
grep -q '"issued_before": true' "$W/in2.json" || sp_fail "second input: $(cat "$W/in2.json")"
sp_assert_eq "$(sha256sum "$IN" | cut -d' ' -f1)" "$SHA" "the input file is the same bytes the second time"
sp_assert_eq "$(sp_psql "SELECT input_sha256 FROM batch_files WHERE batch_id = '$PILOT'")" "$SHA" "recorded input sha"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'batch.input_issued' AND subject = 'batch/$PILOT'")" 1 "batch.input_issued once"
grep -q "^QUANTITY        5$" "$IN" || sp_fail "input file quantity"
run "$CTL" vendor input "$B1" >/dev/null
run "$CTL" vendor input "$B2" >/dev/null
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batch_allocations a, batch_allocations b WHERE a.batch_id < b.batch_id AND (a.imsi_range && b.imsi_range OR a.iccid_range && b.iccid_range)")" 0 "overlapping allocations"

sp_step "B4: a good output file (CRLF, trailing blank line) is taken whole"
sim() { # INPUT OUTPUT [simulate options...]
	local in=$1 out=$2
	shift 2
	run "$CTL" vendor simulate "$in" --transport-key "$TK" -o "$out" --reveal-keys "$out.keys" "$@"
}
sim "$IN" "$W/pilot.out" --crlf >/dev/null
cat "$W/pilot.out.keys" >>"$W/all.keys"
run "$CTL" vendor ingest "$W/pilot.out" >"$W/ing.json"
grep -q '"verdict":"accepted"' "$W/ing.json" || sp_fail "pilot ingest: $(cat "$W/ing.json")"
sp_assert_eq "$(sp_psql "SELECT count(*) || ' ' || min(length(secrets_enc)) || ' ' || max(length(secrets_enc)) || ' ' || min(kek_id) FROM sims WHERE batch_id = '$PILOT'")" "5 102 102 kek-test-1" "stored pilot SIMs"
sp_assert_eq "$("$(sp_bin sims_check)" "$PILOT" "$W/pilot.out.keys")" "checked 5 sims" "pilot SIMs open to the vendor's keys"
before=$(sp_psql "SELECT count(*) FROM sims")
run "$CTL" vendor ingest "$W/pilot.out" >"$W/ing.json"
grep -q '"judged_before":true' "$W/ing.json" || sp_fail "same file twice: $(cat "$W/ing.json")"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims")" "$before" "SIMs after the same file twice"
sim "$IN" "$W/pilot2.out" >/dev/null
cat "$W/pilot2.out.keys" >>"$W/all.keys"
rc=0; run "$CTL" vendor ingest "$W/pilot2.out" >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 1 "another file for an accepted batch"
sp_assert_eq "$(sp_psql "SELECT reason FROM vendor_output_files WHERE sha256 = '$(sha256sum "$W/pilot2.out" | cut -d' ' -f1)'")" \
	"batch $PILOT was already accepted from another file" "reason for a second file"

sp_step "B4: every defect is refused whole, with its line and cause"
IN1=$SIMPKI_VENDOR_DIR/THALES-VN/outgoing/$B1.inp
AWAY=$W/away
# refused NAME LINE REASON_REGEX FILE: ingest FILE, expect a rejection at
# LINE (0: the file as a whole) matching REASON, nothing stored, the file
# in rejected/ with its .reason, and one batch.output_rejected.
refused() {
	local name=$1 line=$2 reason=$3 file=$4 rc=0 n0 sims0
	n0=$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'batch.output_rejected'")
	sims0=$(sp_psql "SELECT count(*) FROM sims")
	run "$CTL" vendor ingest "$file" --file-away "$AWAY" >"$W/out.json" 2>"$W/err" || rc=$?
	sp_assert_eq "$rc" 1 "$name: exit status"
	$PY - "$W/out.json" "$line" "$reason" <<'PYEOF' || sp_fail "$name: $(cat "$W/out.json")"
import json, re, sys
o = json.load(open(sys.argv[1]))
assert o["verdict"] == "rejected", o
assert o["line"] == int(sys.argv[2]), (o["line"], sys.argv[2])
assert re.search(sys.argv[3], o["reason"]), o["reason"]
PYEOF
	sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims")" "$sims0" "$name: SIMs stored"
	sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'batch.output_rejected'")" "$((n0 + 1))" "$name: rejection events"
	local base
	base=$(basename "$file")
	[ -f "$AWAY/rejected/$base" ] && [ -f "$AWAY/rejected/$base.reason" ] || sp_fail "$name: not filed in rejected/"
	[ -e "$file" ] && sp_fail "$name: the file was not moved"
	echo "ok   - $name refused at line $line" >&2
}
defect() { # NAME LINE REASON
	sim "$IN1" "$W/$1.out" --defect "$1" >"$W/sim.json"
	cat "$W/$1.out.keys" >>"$W/all.keys"
	local want=$2
	[ "$want" = at ] && want=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["defect_line"])' "$W/sim.json")
	refused "$1" "$want" "$3" "$W/$1.out"
}
defect duplicate-iccid at "appears twice"
defect bad-luhn at "Luhn"
defect out-of-range at "outside the batch's range"
defect swapped-pair at "paired with IMSI"
defect short 0 "999 SIM lines; the batch has 1000"
defect extra at "more SIM lines than the 1000 of the batch"
defect wrong-key at "KI does not unwrap with transport key THALES-VN"
defect flipped-bit at "KI does not unwrap"
defect bad-header 0 "the header answers input file"
defect lying-quantity 0 "the header says 1001 SIMs; batch .* has 1000"
defect unknown-batch 0 "unknown batch ORD-1999-999999-B999"
defect bad-pin at "PIN1 must be 4 to 8 ASCII digits"
defect non-ascii-digit at "IMSI must be 15 ASCII digits"
defect long-line at "longer than 1024 bytes"
defect missing-end 1008 "ends without \\*END"
# A refused file sent again keeps its first verdict: no second event.
n0=$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'batch.output_rejected'")
cp "$AWAY/rejected/bad-luhn.out" "$W/bad-luhn-again.out"
rc=0; run "$CTL" vendor ingest "$W/bad-luhn-again.out" >"$W/again.json" 2>/dev/null || rc=$?
sp_assert_eq "$rc" 1 "a refused file again: exit status"
$PY -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["verdict"]=="rejected" and o["judged_before"] is True and "Luhn" in o["reason"], o' "$W/again.json" ||
	sp_fail "a refused file again: $(cat "$W/again.json")"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM outbox WHERE event_type = 'batch.output_rejected'")" "$n0" "rejection events after a refused file again"
: >"$W/empty.out"
refused empty 0 "the file is empty" "$W/empty.out"
head -c 4096 /dev/urandom >"$W/binary.out"
printf '\0' >>"$W/binary.out"
refused binary 1 "." "$W/binary.out"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE batch_id = '$B1'")" 0 "SIMs of B001 after every refusal"

sp_step "B4: the real file for B001 after all that"
sim "$IN1" "$W/b1.out" >/dev/null
cat "$W/b1.out.keys" >>"$W/all.keys"
run "$CTL" vendor ingest "$W/b1.out" --file-away "$AWAY" >/dev/null
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE batch_id = '$B1'")" 1000 "SIMs of B001"
[ -f "$AWAY/processed/b1.out" ] || sp_fail "accepted file not in processed/"

sp_step "the service: from batch.released to stored SIMs"
LOG=$SIMPKI_STACK_DIR/logs/vendor-exchange.log
SIMPKI_HTTP_PORT=0 SIMPKI_LOG_LEVEL=info SIMPKI_VENDOR_POLL_MS=100 \
	SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500" \
	"$(sp_bin order-intake)" 2>"$SIMPKI_STACK_DIR/logs/order-intake.log" &
OI=$!
sp_on_exit "kill $OI 2>/dev/null; wait $OI 2>/dev/null"
SIMPKI_HTTP_PORT=0 SIMPKI_LOG_LEVEL=info SIMPKI_VENDOR_POLL_MS=100 \
	SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500" \
	"$(sp_bin vendor-exchange)" 2>"$LOG" &
VX=$!
sp_on_exit "kill $VX 2>/dev/null; wait $VX 2>/dev/null"
cat >"$W/order2.json" <<'JSON'
{"bcycp_ref": "BCYCP-VX-2", "issued_on": "2026-11-21", "vendor": "THALES-VN", "quantity": 300,
 "profile": "2g_comp128", "contact": {"name": "A", "email": "a@bcy.gov.vn"}}
JSON
sp_svpki_sign "$PKI" valid "$W/order2.json" "$W/order2.p7s" -certfile "$PKI/sub.pem" -outform DER
run "$CTL" order submit "$W/order2.json" --signature "$W/order2.p7s" >/dev/null
O2=$(sp_psql "SELECT order_id FROM orders WHERE bcycp_ref = 'BCYCP-VX-2'")
IN2=$SIMPKI_VENDOR_DIR/THALES-VN/outgoing/$O2-B001.inp
for _ in $(seq 300); do [ -f "$IN2" ] && break; sleep 0.1; done
[ -f "$IN2" ] || sp_fail "the service wrote no input file for $O2-B001: $(tail -5 "$LOG")"
mkdir -p "$SIMPKI_VENDOR_DIR/THALES-VN/incoming"
sim "$IN2" "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/o2.out.part" >/dev/null
cat "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/o2.out.part.keys" >>"$W/all.keys"
mv "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/o2.out.part.keys" "$W/"
mv "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/o2.out.part" "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/o2.out"
for _ in $(seq 300); do [ -f "$SIMPKI_VENDOR_DIR/THALES-VN/processed/o2.out" ] && break; sleep 0.1; done
[ -f "$SIMPKI_VENDOR_DIR/THALES-VN/processed/o2.out" ] || sp_fail "the service did not take o2.out: $(tail -5 "$LOG")"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE batch_id = '$O2-B001'")" 300 "2G SIMs from the service"
sp_assert_eq "$("$(sp_bin sims_check)" "$O2-B001" "$W/o2.out.part.keys")" "checked 300 sims" "2G SIMs open to the vendor's keys (no OPc)"
# A file with a marker (for the batch just accepted: refused as such).
sim "$IN2" "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/again.txt" >/dev/null
mv "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/again.txt.keys" "$W/"
cat "$W/again.txt.keys" >>"$W/all.keys"
touch "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/again.txt.done"
for _ in $(seq 300); do [ -f "$SIMPKI_VENDOR_DIR/THALES-VN/rejected/again.txt.reason" ] && break; sleep 0.1; done
grep -q "already accepted" "$SIMPKI_VENDOR_DIR/THALES-VN/rejected/again.txt.reason" || sp_fail "marker file not judged"
[ -e "$SIMPKI_VENDOR_DIR/THALES-VN/incoming/again.txt.done" ] && sp_fail "marker left behind"

for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM outbox_pending")" = 0 ] && break
	sleep 0.1
done
run "$CTL" events dump --topic batches >"$W/events.jsonl"
$PY "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$W/events.jsonl" >&2 || sp_fail "events fail their schemas"
grep -q '"batch.output_accepted"' "$W/events.jsonl" || sp_fail "no batch.output_accepted on the topic"
kill -TERM "$VX"
wait "$VX" || sp_fail "vendor-exchange did not stop cleanly"

sp_step "no key anywhere it must not be"
cat "$SIMPKI_STACK_DIR"/logs/*.log "$W/events.jsonl" >>"$LOGS"
sp_psql "SELECT payload FROM outbox" >>"$LOGS"
cat "$AWAY"/rejected/*.reason >>"$LOGS"
n=0
while read -r _iccid ki opc; do
	for k in $ki $opc; do
		[ "$k" = - ] && continue
		n=$((n + 1))
		grep -qi "$k" "$LOGS" && sp_fail "a plain key reached a log, event or output"
	done
done < <(sort -u "$W/all.keys" | head -400)
[ "$n" -gt 300 ] || sp_fail "too few keys checked ($n)"
TKHEX=$(cat "$TK")
grep -qi "$TKHEX" "$LOGS" && sp_fail "the transport key reached a log or output"
echo "ok - vendor-exchange ($n keys checked)" >&2
