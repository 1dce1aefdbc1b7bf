#!/usr/bin/env bash
# hlr-provisioner on a real stack with a real OsmoHLR (B5, B6): batches
# loaded from batch.output_accepted, read back and compared, reported with
# batch.provisioned; SIMs whose keys do not open and a conflicting
# subscriber fail with their reasons; the HLR killed and restarted mid-batch
# and the provisioner killed with SIGKILL mid-batch both end with every SIM
# in the HLR exactly once with the right auth data; an unknown batch is
# dead-lettered; no key reaches a log line or an event.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
source "$SIMPKI_SOURCE_DIR/tests/lib/sigverify_pki.sh"
source "$SIMPKI_SOURCE_DIR/tests/lib/batches.sh"

sp_stack_up
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
PY=/usr/bin/python3
export SIMPKI_LOG_LEVEL=info
sp_batches_init "$W/batches"
KEYS=$W/all.keys
: >"$KEYS"
HP=$(sp_bin hlr-provisioner)
LOGDIR=$SIMPKI_STACK_DIR/logs

sp_step "SIMs produced: a pilot, two 5,000-SIM batches (USIM) and a 2G batch"
O1=$(sp_order THALES-VN BCYCP-HLR-1 10000 usim_milenage 5)
O2=$(sp_order THALES-VN BCYCP-HLR-2 300 2g_comp128)
# The 5,000-SIM batches are produced later, one at a time, while the
# provisioner runs: batches queued together load in any order, and each
# kill test needs to know which batch is loading.
for b in "$O1-P1" "$O2-B001"; do sp_batch_produce "$b" "$KEYS"; done
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE state = 'produced'")" 305 "SIMs produced"

# SIMs that must fail before reaching the HLR: altered secrets, unknown KEK.
BAD1=$(sp_psql "SELECT iccid FROM sims WHERE batch_id = '$O1-P1' ORDER BY iccid OFFSET 1 LIMIT 1")
BAD2=$(sp_psql "SELECT iccid FROM sims WHERE batch_id = '$O1-P1' ORDER BY iccid OFFSET 3 LIMIT 1")
# Flip every bit of one byte: writing a fixed value left the secrets intact
# whenever the byte already held it (1 run in 256).
BAD1_BEFORE=$(sp_psql "SELECT encode(secrets_enc, 'hex') FROM sims WHERE iccid = '$BAD1'")
sp_psql "UPDATE sims SET secrets_enc = set_byte(secrets_enc, 39, get_byte(secrets_enc, 39) # 255) WHERE iccid = '$BAD1'" >/dev/null
[ "$(sp_psql "SELECT encode(secrets_enc, 'hex') FROM sims WHERE iccid = '$BAD1'")" != "$BAD1_BEFORE" ] ||
	sp_fail "the secrets of $BAD1 were not altered"
sp_psql "UPDATE sims SET kek_id = 'kek-gone' WHERE iccid = '$BAD2'" >/dev/null
BAD1_IMSI=$(sp_psql "SELECT imsi FROM sims WHERE iccid = '$BAD1'")
# A subscriber already in the HLR with other keys, on an IMSI of the 2G batch.
CONF=$(sp_psql "SELECT iccid FROM sims WHERE batch_id = '$O2-B001' ORDER BY iccid OFFSET 10 LIMIT 1")
CONF_IMSI=$(sp_psql "SELECT imsi FROM sims WHERE iccid = '$CONF'")
sp_hlr_ctrl "SET 1 subscriber.create $CONF_IMSI" >/dev/null
sp_hlr_ctrl "SET 2 subscriber.by-imsi-$CONF_IMSI.aud2g comp128v1,00112233445566778899aabbccddeeff" >/dev/null

# The services that publish the batches' events (vendor-exchange's relay)
# and the provisioner. start NAME LOGFILE: runs NAME, records its pid.
start() {
	local name=$1 log=$2
	shift 2
	SIMPKI_HTTP_PORT=0 SIMPKI_KAFKA_CONSUMER_CONFIG="session.timeout.ms=6000,heartbeat.interval.ms=500" \
		"$@" 2>>"$log" &
	echo $! >"$W/$name.pid"
	sp_on_exit "kill -9 \$(cat $W/$name.pid) 2>/dev/null || true"
	for _ in $(seq 100); do grep -q "\"$name started\"" "$log" && return 0; sleep 0.1; done
	sp_fail "$name did not start: $(tail -5 "$log")"
}
start vendor-exchange "$LOGDIR/vendor-exchange.log" "$(sp_bin vendor-exchange)"

sp_step "the service's refusals at start"
"$HP" --help | grep -q "batch.provisioned" || sp_fail "hlr-provisioner --help"
rc=0; env -u SIMPKI_HLR_CTRL "$HP" 2>"$W/start.err" || rc=$?
sp_assert_eq "$rc" 2 "hlr-provisioner without SIMPKI_HLR_CTRL"
grep -q 'SIMPKI_HLR_CTRL is not set' "$W/start.err" || sp_fail "start error: $(cat "$W/start.err")"
rc=0; SIMPKI_HLR_WINDOW=0 "$HP" 2>"$W/start.err" || rc=$?
sp_assert_eq "$rc" 2 "hlr-provisioner with a zero window"

export SIMPKI_HLR_GROUP=100 SIMPKI_HLR_WINDOW=32 SIMPKI_HLR_TIMEOUT_MS=2000 SIMPKI_HLR_BACKOFF_MAX_MS=1000
HPLOG=$LOGDIR/hlr-provisioner.log
start hlr-provisioner "$HPLOG" "$HP"

# state BATCH: the load's state; loaded BATCH: SIMs with an outcome.
state() { sp_psql "SELECT coalesce((SELECT state FROM hlr_loads WHERE batch_id = '$1'), 'none')"; }
loaded() { sp_psql "SELECT coalesce((SELECT loaded + already + failed FROM hlr_loads WHERE batch_id = '$1'), 0)"; }
wait_state() { # BATCH STATE SECONDS
	for _ in $(seq $(($3 * 10))); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.1; done
	sp_fail "batch $1 is $(state "$1"), not $2, after $3 s: $(tail -3 "$HPLOG")"
}
wait_loaded() { # BATCH N SECONDS
	for _ in $(seq $(($3 * 10))); do [ "$(loaded "$1")" -ge "$2" ] && return 0; sleep 0.1; done
	sp_fail "batch $1 has $(loaded "$1") SIMs done, not $2, after $3 s"
}
report() { # BATCH: the batch.provisioned event's data, as JSON
	sp_psql "SELECT payload::json->'data' FROM outbox WHERE event_type = 'batch.provisioned' AND subject = 'batch/$1'"
}

sp_step "B5/B6: the pilot, with two SIMs whose keys do not open"
wait_state "$O1-P1" done 60
R=$(report "$O1-P1")
$PY - "$R" "$BAD1" "$BAD2" <<'PYEOF' || sp_fail "pilot report: $R"
import json, sys
r = json.loads(sys.argv[1])
assert (r["sims"], r["loaded"], r["already_present"], r["failed"]) == (5, 3, 0, 2), r
why = {f["iccid"]: f["reason"] for f in r["failures"]}
assert "do not open" in why[sys.argv[2]], why
assert "kek-gone" in why[sys.argv[3]], why
PYEOF
rc=0; sp_hlr_ctrl "GET 3 subscriber.by-imsi-$BAD1_IMSI.info" >"$W/bad1" || rc=$?
sp_assert_eq "$rc" 3 "a SIM whose keys did not open is not in the HLR"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE batch_id = '$O1-P1' AND state = 'hlr_failed'")" 2 "failed pilot SIMs"

wait_state "$O2-B001" done 60

sp_step "B5: the HLR killed mid-batch and restarted"
sp_batch_produce "$O1-B001" "$KEYS"
wait_loaded "$O1-B001" 200 120
HLR_PID=$(cut -d' ' -f1 "$SIMPKI_STACK_DIR/pids/hlr")
kill -9 "$HLR_PID"
n=$(loaded "$O1-B001")
[ "$n" -lt 5000 ] || sp_fail "the batch was done before the HLR was killed ($n SIMs): nothing was tested"
wait_state "$O1-B001" stalled 30
sp_psql "SELECT reason FROM hlr_loads WHERE batch_id = '$O1-B001'" | grep -qi "unavailable" ||
	sp_fail "stall reason: $(sp_psql "SELECT reason FROM hlr_loads WHERE batch_id = '$O1-B001'")"
sleep 2
HLR_ADDR=${SIMPKI_HLR_CTRL%:*}
setsid osmo-hlr -c "$SIMPKI_STACK_DIR/hlr/osmo-hlr.cfg" -l "$SIMPKI_HLR_DB" -s \
	>>"$LOGDIR/hlr.log" 2>&1 </dev/null &
NEW_HLR=$!
sp_on_exit "kill $NEW_HLR 2>/dev/null || true"
wait_state "$O1-B001" done 180

sp_step "B5: the provisioner killed with SIGKILL mid-batch and restarted"
sp_batch_produce "$O1-B002" "$KEYS"
"$SP_CTL" batch show "$O1-B002" --watch --interval 0.2 >"$W/watch.out" 2>"$W/watch.err" &
WATCH=$!
wait_loaded "$O1-B002" 200 120
kill -9 "$(cat "$W/hlr-provisioner.pid")"
n=$(loaded "$O1-B002")
[ "$n" -lt 5000 ] || sp_fail "the batch was done before the kill ($n SIMs): nothing was tested"
sleep 1
start hlr-provisioner "$LOGDIR/hlr-provisioner-2.log" "$HP"
wait_state "$O1-B002" done 180
for _ in $(seq 50); do kill -0 "$WATCH" 2>/dev/null || break; sleep 0.1; done
kill -0 "$WATCH" 2>/dev/null && sp_fail "batch show --watch did not end with the batch"
wait "$WATCH" || sp_fail "batch show --watch failed: $(cat "$W/watch.err")"
[ "$(grep -c '^HLR ' "$W/watch.out")" -ge 2 ] || sp_fail "batch show --watch drew one line: $(cat "$W/watch.out")"
tail -1 "$W/watch.out" | grep -q '5000/5000.*done in' || sp_fail "batch show --watch, last line: $(tail -1 "$W/watch.out")"

sp_step "every SIM in the HLR exactly once with the right auth data"
for b in "$O1-B001" "$O1-B002"; do
	R=$(report "$b")
	$PY -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["sims"]==5000 and r["loaded"]+r["already_present"]==5000 and r["failed"]==0 and r["failures"]==[], r' "$R" ||
		sp_fail "report of $b: $R"
done
R=$(report "$O2-B001")
$PY - "$R" "$CONF" <<'PYEOF' || sp_fail "2G report: $R"
import json, sys
r = json.loads(sys.argv[1])
assert (r["sims"], r["loaded"] + r["already_present"], r["failed"]) == (300, 299, 1), r
assert r["failures"][0]["iccid"] == sys.argv[2], r
assert "other auth data" in r["failures"][0]["reason"], r
PYEOF
sp_psql "SELECT iccid || ' ' || imsi FROM sims" >"$W/imsis"
sqlite3 "$SIMPKI_HLR_DB" "SELECT s.imsi, coalesce(a2.ki, '-'), coalesce(a3.k, '-'), coalesce(a3.opc, '-')
  FROM subscriber s LEFT JOIN auc_2g a2 ON a2.subscriber_id = s.id LEFT JOIN auc_3g a3 ON a3.subscriber_id = s.id" >"$W/hlr.dump"
$PY - "$KEYS" "$W/imsis" "$W/hlr.dump" "$CONF" "$BAD1" "$BAD2" <<'PYEOF' || sp_fail "HLR content"
import sys
keys, imsis, dump = sys.argv[1:4]
skip = set(sys.argv[4:])
imsi_of = dict(l.split() for l in open(imsis) if l.strip())
hlr = {}
for line in open(dump):
    imsi, ki, k, opc = line.strip().split("|")
    assert imsi not in hlr, "IMSI %s twice in the HLR" % imsi
    hlr[imsi] = (ki.lower(), k.lower(), opc.lower())
n = 0
for line in open(keys):
    iccid, ki, opc = line.split()
    if iccid in skip:
        continue
    imsi = imsi_of[iccid]
    assert imsi in hlr, "SIM %s (IMSI %s) is not in the HLR" % (iccid, imsi)
    got = hlr[imsi]
    want = (ki, "-", "-") if opc == "-" else ("-", ki, opc)
    assert got == want, "SIM %s: the HLR holds other auth data" % iccid
    n += 1
assert n == 10305 - 3, n
assert len(hlr) == n + 1, (len(hlr), n)  # and the conflicting subscriber
print("verified %d SIMs in the HLR" % n, file=sys.stderr)
PYEOF
CONF_KI=$(sqlite3 "$SIMPKI_HLR_DB" "SELECT a.ki FROM subscriber s JOIN auc_2g a ON a.subscriber_id = s.id WHERE s.imsi = '$CONF_IMSI'")
sp_assert_eq "${CONF_KI,,}" 00112233445566778899aabbccddeeff "the conflicting subscriber is left as it was"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sims WHERE state = 'provisioned'")" 10302 "SIMs provisioned"

"$SP_CTL" batch show "$O2-B001" >"$W/show.out"
grep -q "^HLR .*299/300\|^HLR .*300/300" "$W/show.out" || sp_fail "batch show: $(cat "$W/show.out")"
grep -q "failed   $CONF  already in the HLR with other auth data" "$W/show.out" || sp_fail "batch show failures: $(cat "$W/show.out")"
rc=0; "$SP_CTL" batch show ORD-2026-999999-B001 >/dev/null 2>"$W/show.err" || rc=$?
sp_assert_eq "$rc" 1 "batch show of an unknown batch"
grep -q "no batch ORD-2026-999999-B001" "$W/show.err" || sp_fail "batch show error: $(cat "$W/show.err")"
rc=0; "$SP_CTL" batch show >/dev/null 2>&1 || rc=$?
sp_assert_eq "$rc" 2 "batch show without a batch"

sp_step "B9: numbers onto SIM PKIs: a swap, a new number, refusals, a swap put back"
# The customers' existing subscriptions, as the HLR holds them.
sp_hlr_ctrl "SET 11 subscriber.create 452019999000001" >/dev/null
sp_hlr_ctrl "SET 12 subscriber.by-imsi-452019999000001.msisdn 84901110001" >/dev/null
sp_hlr_ctrl "SET 13 subscriber.create 452019999000002" >/dev/null
sp_hlr_ctrl "SET 14 subscriber.by-imsi-452019999000002.msisdn 84901110003" >/dev/null
sp_hlr_ctrl "SET 15 subscriber.create 452019999000003" >/dev/null
sp_hlr_ctrl "SET 16 subscriber.by-imsi-452019999000003.msisdn 84901110004" >/dev/null
sim_n() { sp_psql "SELECT iccid FROM sims WHERE batch_id = '$O1-B001' ORDER BY iccid OFFSET $1 LIMIT 1"; }
imsi_of() { sp_psql "SELECT imsi FROM sims WHERE iccid = '$1'"; }
S1=$(sim_n 1) S2=$(sim_n 2) S3=$(sim_n 3) S4=$(sim_n 4) S5=$(sim_n 5)
# S4's subscriber vanishes from the HLR behind our back: its swap must fail
# after the number left the old SIM, and put it back.
sp_hlr_ctrl "SET 17 subscriber.delete $(imsi_of "$S4")" >/dev/null
# S2 has gone on to a shop, as connected SIMs do: still in the HLR.
sp_psql "UPDATE sims SET state = 'at_shop' WHERE iccid = '$S2'" >/dev/null
request() { # ID ICCID MSISDN SWAP: one connection.requested event
	"$FORGE" --type connection.requested --subject "connection/$1" \
		--data "{\"request_id\": \"$1\", \"iccid\": \"$2\", \"msisdn\": \"$3\", \"swap\": $4, \"ctkv\": \"CTKV2\"}"
}
FORGE=$(sp_bin event_forge)
{
	request REQ-1 "$S1" 84901110001 true  # swap: the number moves to S1
	request REQ-2 "$S2" 0901110002 false  # a new number (national form)
	request REQ-3 "$S3" 84901110001 false # that number is taken (by S1 now)
	request REQ-4 "$S4" 84901110003 true  # swap fails at its second step
	request REQ-5 "$BAD1" 84901110005 false # a SIM never provisioned
	"$FORGE" --type connection.requested --subject connection/REQ-X --data '{"iccid": "'"$S5"'", "msisdn": "84901110006"}'
} >"$W/conn.jsonl"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t connections -l "$W/conn.jsonl"
step_of() { sp_psql "SELECT coalesce((SELECT step FROM hlr_connections WHERE request_id = '$1'), 'none')"; }
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM hlr_connections WHERE step IN ('done', 'failed')")" = 5 ] && break
	sleep 0.1
done
sp_assert_eq "$(step_of REQ-1)/$(step_of REQ-2)/$(step_of REQ-3)/$(step_of REQ-4)/$(step_of REQ-5)" \
	"done/done/failed/failed/failed" "connection outcomes"
msisdn_of() { sp_hlr_ctrl "GET 20 subscriber.by-imsi-$1.msisdn" | awk '{print $4}'; }
sp_assert_eq "$(msisdn_of "$(imsi_of "$S1")")" 84901110001 "S1 has the swapped number"
sp_assert_eq "$(msisdn_of 452019999000001)" none "the old SIM lost it"
sp_assert_eq "$(msisdn_of "$(imsi_of "$S2")")" 84901110002 "S2 has its new number"
sp_assert_eq "$(msisdn_of "$(imsi_of "$S3")")" none "S3 got nothing"
sp_assert_eq "$(msisdn_of 452019999000002)" 84901110003 "the failed swap's number is back on the old SIM"
# REQ-1 and REQ-3 may be taken in either order: the number is taken either way.
sp_psql "SELECT reason FROM hlr_connections WHERE request_id = 'REQ-3'" | grep -Eq "already in use by IMSI ($(imsi_of "$S1")|452019999000001)" ||
	sp_fail "REQ-3 reason: $(sp_psql "SELECT reason FROM hlr_connections WHERE request_id = 'REQ-3'")"
sp_assert_eq "$(sp_psql "SELECT restored FROM hlr_connections WHERE request_id = 'REQ-4'")" t "REQ-4 restored"
R5=$(sp_psql "SELECT reason FROM hlr_connections WHERE request_id = 'REQ-5'")
[[ $R5 == *"is hlr_failed: it was never loaded into the HLR"* ]] || sp_fail "REQ-5 reason: $R5"
sp_psql "SELECT reason FROM hlr_connections WHERE request_id = 'REQ-4'" | grep -q "back on IMSI 452019999000002" ||
	sp_fail "REQ-4 reason: $(sp_psql "SELECT reason FROM hlr_connections WHERE request_id = 'REQ-4'")"
for _ in $(seq 100); do
	kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t connections.dlq -e -q -f '%h\n' 2>/dev/null | grep -q "needs request_id" && break
	sleep 0.1
done
kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t connections.dlq -e -q -f '%h\n' | grep -q "needs request_id" ||
	sp_fail "no dead letter for the malformed request"
sp_assert_eq "$(sp_psql "SELECT string_agg(event_type, ' ' ORDER BY subject) FROM outbox WHERE subject LIKE 'connection/REQ-%'")" \
	"connection.hlr_done connection.hlr_done connection.hlr_failed connection.hlr_failed connection.hlr_failed" "answers to inventory"

sp_step "B9: the provisioner killed in the middle of a swap resumes it"
kill -TERM "$(cat "$W/hlr-provisioner.pid")"
for _ in $(seq 100); do kill -0 "$(cat "$W/hlr-provisioner.pid")" 2>/dev/null || break; sleep 0.1; done
SIMPKI_FAILPOINT=connect.after_clear_old start hlr-provisioner "$LOGDIR/hlr-provisioner-3.log" "$HP"
request REQ-6 "$S5" 84901110004 true >"$W/conn6.jsonl"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t connections -l "$W/conn6.jsonl"
for _ in $(seq 100); do kill -0 "$(cat "$W/hlr-provisioner.pid")" 2>/dev/null || break; sleep 0.1; done
kill -0 "$(cat "$W/hlr-provisioner.pid")" 2>/dev/null && sp_fail "the failpoint did not stop the provisioner"
sp_assert_eq "$(step_of REQ-6)" set_new "the saga's step at the crash"
sp_assert_eq "$(msisdn_of 452019999000003)" none "the number is off the old SIM at the crash"
start hlr-provisioner "$LOGDIR/hlr-provisioner-4.log" "$HP"
for _ in $(seq 300); do [ "$(step_of REQ-6)" = done ] && break; sleep 0.1; done
sp_assert_eq "$(step_of REQ-6)" done "the swap after the restart"
sp_assert_eq "$(msisdn_of "$(imsi_of "$S5")")" 84901110004 "S5 has the number"

sp_step "an event for an unknown batch goes to the dead letters"
FORGE=$(sp_bin event_forge)
"$FORGE" --type batch.output_accepted --subject batch/ORD-2026-999999-B001 \
	--data '{"batch_id": "ORD-2026-999999-B001", "order_id": "ORD-2026-999999", "vendor_id": "X", "sims": 1,
	  "profile": "usim_milenage", "iccid_first": "8984010000000000000", "iccid_last": "8984010000000000000",
	  "imsi_first": "452010000000000", "imsi_last": "452010000000000", "output_sha256": "'"$(printf '0%.0s' $(seq 64))"'",
	  "input_sha256": "'"$(printf '0%.0s' $(seq 64))"'", "kek_id": "k"}' >"$W/unknown.jsonl"
kcat -P -b "$SIMPKI_KAFKA_BOOTSTRAP" -t batches -l "$W/unknown.jsonl"
for _ in $(seq 300); do
	kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t batches.dlq -e -q -f '%h\n' 2>/dev/null | grep -q "ORD-2026-999999-B001 is unknown" && break
	sleep 0.1
done
kcat -C -b "$SIMPKI_KAFKA_BOOTSTRAP" -t batches.dlq -e -q -f '%h\n' | grep -q "ORD-2026-999999-B001 is unknown" ||
	sp_fail "no dead letter for the unknown batch"
sp_assert_eq "$(state ORD-2026-999999-B001)" none "nothing queued for the unknown batch"

sp_step "events valid, and no key anywhere"
for _ in $(seq 300); do
	[ "$(sp_psql "SELECT count(*) FROM outbox_pending WHERE producer = 'hlr-provisioner'")" = 0 ] && break
	sleep 0.1
done
"$SP_CTL" events dump --topic batches >"$W/events.jsonl"
sp_assert_eq "$(grep -c '"batch.provisioned"' "$W/events.jsonl")" 4 "batch.provisioned events on the topic"
grep '"batch.provisioned"' "$W/events.jsonl" >"$W/provisioned.jsonl"
$PY "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$W/provisioned.jsonl" >&2 || sp_fail "events fail their schemas"
cut -d' ' -f2,3 "$KEYS" | tr ' ' '\n' | grep -v '^-$' | sort -u >"$W/key.hex"
# OsmoHLR's own log is the HLR's business; every log of ours is checked.
ls "$LOGDIR"/*.log | grep -v '/hlr.log$' | xargs cat "$W/events.jsonl" >"$W/everything"
if grep -F -i -f "$W/key.hex" "$W/everything" >"$W/leaks"; then
	sp_fail "key material in a log or an event: $(head -c 300 "$W/leaks")"
fi
kill -TERM "$(cat "$W/hlr-provisioner.pid")"
for _ in $(seq 100); do kill -0 "$(cat "$W/hlr-provisioner.pid")" 2>/dev/null || break; sleep 0.1; done
kill -0 "$(cat "$W/hlr-provisioner.pid")" 2>/dev/null && sp_fail "hlr-provisioner did not stop on SIGTERM"
echo "ok - hlr-provisioner" >&2
